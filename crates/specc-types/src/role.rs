/// The role of a named tensor of a model, which decides how it is
/// initialised, whether it is trained and whether weight decay applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorRole {
    /// A dense or conv kernel: initialised by the layer's initialiser, decayed.
    Weight,
    /// Zero-initialised, never decayed.
    Bias,
    /// Batchnorm scale (ones), never decayed.
    Gamma,
    /// Batchnorm shift (zeros), never decayed.
    Beta,
    /// Batchnorm running mean (zeros), not trained.
    RunningMean,
    /// Batchnorm running variance (ones), not trained.
    RunningVar,
}

impl TensorRole {
    /// Whether the optimizer updates it (the running statistics it does not).
    pub fn trainable(self) -> bool {
        !matches!(self, TensorRole::RunningMean | TensorRole::RunningVar)
    }

    /// Whether `weight_decay` applies.
    pub fn decayed(self) -> bool {
        self == TensorRole::Weight
    }

    /// The second half of the tensor's name, `layer.suffix`, as in checkpoints.
    pub fn suffix(self) -> &'static str {
        match self {
            TensorRole::Weight => "weight",
            TensorRole::Bias => "bias",
            TensorRole::Gamma => "gamma",
            TensorRole::Beta => "beta",
            TensorRole::RunningMean => "running_mean",
            TensorRole::RunningVar => "running_var",
        }
    }
}

/// What a model's loss expects as targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Class indices in `0..classes` (`cross_entropy`).
    Classes { classes: usize },
    /// 0 or 1 for each output (`binary_cross_entropy`).
    Binary,
    /// Real values, one per output (`mse`, `mae`, `huber`).
    Values,
}
