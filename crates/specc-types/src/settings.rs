/// A spec's `train(...)` statement: the defaults `specc train` and
/// `specc::fit` start from (the command line overrides each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
    pub shuffle: bool,
    /// Fraction of the training data held out for validation, in [0, 1).
    pub validation: f64,
    /// The precision of the products in dense and convolution layers.
    pub precision: Precision,
    /// Stop when the monitored metric stops improving: `early_stop =
    /// patience(N)` with `monitor = ...`.
    pub early_stop: Option<EarlyStop>,
}

/// `train(early_stop = patience(5, min_delta = 0.001), monitor = val_loss)`:
/// training stops after `patience` epochs in a row without an improvement
/// of more than `min_delta` in `monitor`, and the best epoch's model is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    pub patience: usize,
    pub min_delta: f64,
    pub monitor: Monitor,
}

/// The metric early stopping watches at the end of each epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Monitor {
    /// The held-out set's loss (lower is better).
    #[default]
    ValLoss,
    /// The held-out set's accuracy (higher is better; classifiers only).
    ValAccuracy,
    /// The training loss of the epoch (lower is better).
    Loss,
}

impl Monitor {
    /// Every metric, as the language spells them.
    pub const ALL: [Monitor; 3] = [Monitor::ValLoss, Monitor::ValAccuracy, Monitor::Loss];

    /// `val_loss`, `val_accuracy` or `loss`.
    pub const fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
            Monitor::Loss => "loss",
        }
    }

    /// The metric spelt `name` (see [`Monitor::name`]).
    pub fn from_name(name: &str) -> Option<Monitor> {
        Monitor::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether a larger value is better.
    pub const fn higher_is_better(self) -> bool {
        matches!(self, Monitor::ValAccuracy)
    }

    /// Whether it is measured on held-out data.
    pub const fn needs_heldout(self) -> bool {
        matches!(self, Monitor::ValLoss | Monitor::ValAccuracy)
    }
}

impl core::fmt::Display for Monitor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The settings of a spec without a `train(...)` statement.
impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 10,
            batch: 32,
            seed: 0,
            shuffle: true,
            validation: 0.0,
            precision: Precision::F32,
            early_stop: None,
        }
    }
}

/// The precision of the matrix products of dense and convolution layers
/// (forward, input gradient and weight gradient): `train(precision = bf16)`
/// in a spec, `--precision` on the command line.
///
/// In `Bf16`, the operands of each product are rounded to bfloat16 (round to
/// nearest, ties to even) and multiplied with f32 accumulation: mixed
/// precision as in PyTorch's bf16 autocast. Weights, their gradients, the
/// optimizer, the loss, softmax, batch normalization and every reduction
/// stay in f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// f32 operands and accumulation.
    #[default]
    F32,
    /// bfloat16 operands, f32 accumulation.
    Bf16,
}

impl Precision {
    /// Every precision, as the language and the command line spell them.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::Bf16];

    /// `f32` or `bf16`.
    pub const fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    /// The precision spelt `name` (see [`Precision::name`]).
    pub fn from_name(name: &str) -> Option<Precision> {
        Precision::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl core::fmt::Display for Precision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A spec's `data(...)` and `augment(...)` statements: how samples are
/// brought to the model's input when they are read, and how training
/// batches are varied.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DataSettings {
    /// What to do with an image of another size than the input's.
    pub resize: Resize,
    /// Random changes to each training image (never to held-out data).
    pub augment: Augment,
}

/// `augment(flip = true, crop = 4, translate = 2, rotate = 10)`: random
/// changes to each training image, drawn afresh every epoch from the
/// training seed, the epoch and the sample's index (so the same for every
/// thread count and batch size), applied in this order: flip, rotate,
/// shift (crop and translate). Pixels moved in from outside are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Augment {
    /// Mirror left to right, with probability 1/2.
    pub flip: bool,
    /// Pad by this many pixels on every side and cut out a random window of
    /// the input's size (PyTorch's `RandomCrop(padding = crop)`): a shift of
    /// up to `crop` pixels each way.
    pub crop: usize,
    /// Shift by up to this many whole pixels each way, independently in x
    /// and y (added to the crop's shift).
    pub translate: usize,
    /// Rotate about the centre by an angle drawn uniformly from
    /// `[-rotate, rotate]` degrees, sampled bilinearly.
    pub rotate: f64,
}

impl Augment {
    /// No augmentation.
    pub const NONE: Augment = Augment {
        flip: false,
        crop: 0,
        translate: 0,
        rotate: 0.0,
    };

    /// Whether it changes nothing.
    pub fn is_none(&self) -> bool {
        *self == Augment::NONE
    }
}

/// How an image whose size differs from the model's input is brought to it:
/// a spec's `data(resize = ...)` statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Resize {
    /// Bilinear interpolation (a triangle filter, which averages the pixels
    /// under each output pixel when shrinking).
    #[default]
    Bilinear,
    /// The nearest pixel.
    Nearest,
    /// No resizing: an image of another size is an error.
    None,
}

impl Resize {
    /// Every mode, as the language spells them.
    pub const ALL: [Resize; 3] = [Resize::Bilinear, Resize::Nearest, Resize::None];

    /// `bilinear`, `nearest` or `none`.
    pub const fn name(self) -> &'static str {
        match self {
            Resize::Bilinear => "bilinear",
            Resize::Nearest => "nearest",
            Resize::None => "none",
        }
    }

    /// The mode spelt `name` (see [`Resize::name`]).
    pub fn from_name(name: &str) -> Option<Resize> {
        Resize::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl core::fmt::Display for Resize {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
