//! A plain `f64` reference evaluator for checked specc models.
//!
//! This crate is the oracle that tests compare generated code against. Every
//! layer is written as obviously-correct nested loops over row-major tensors,
//! for clarity and never for speed.
//!
//! Conventions (generated code follows the same ones):
//!
//! - Tensors are row-major. A batch is `batch * shape.numel()` contiguous
//!   values, sample after sample; images are `[C, H, W]`.
//! - `dense`: weight `[units, inputs]`, `out[j] = bias[j] + sum_i W[j][i] * x[i]`.
//! - `conv2d`: weight `[F, C, kh, kw]`,
//!   `out[f][y][x] = bias[f] + sum_{c,i,j} W[f][c][i][j] * in[c][y*sh - top + i][x*sw - left + j]`,
//!   zero outside the input; the padding is the checker's resolved
//!   `[top, bottom, left, right]`.
//! - Pools have no padding; `avgpool2d` divides by the window area.
//! - `batchnorm` normalises per channel (dimension 0) over the batch and every
//!   other dimension. Inference uses the running statistics; training uses the
//!   batch mean and the biased batch variance, and does not update the running
//!   statistics.
//! - `dropout` is the identity unless masks are given ([`forward_with_dropout`]).
//! - `residual`: `body(x) + shortcut(x)`, nothing applied after the add.
//! - Losses are means; `cross_entropy` and `binary_cross_entropy` work on the
//!   logits, before the fused final softmax or sigmoid
//!   (`model.loss.fused_activation`).
//!
//! ```
//! use specc_reference::{Mode, Params, forward};
//! let file = specc_lang::check_source(
//!     "model Tiny { input [2]; dense(1); loss mse; optimizer sgd(lr = 0.1); }",
//! )
//! .unwrap();
//! let model = &file.models[0];
//! let mut params = Params::zeros(model);
//! params.get_mut("dense_1.weight").copy_from_slice(&[2.0, 3.0]);
//! params.get_mut("dense_1.bias")[0] = 1.0;
//! let y = forward(model, &params, &[1.0, 1.0, 0.0, -1.0], 2, Mode::Inference);
//! assert_eq!(y, vec![6.0, -2.0]);
//! ```

use specc_lang::{Activation, CheckedModel, Layer, LayerKind, LossKind, TensorRole};
use std::collections::BTreeMap;

mod layers;
use layers::{
    batchnorm::batchnorm,
    conv2d::conv2d,
    dense::dense,
    depthwise::depthwise_conv2d,
    dropout::dropout,
    groupnorm::groupnorm,
    pool::{global_avgpool, global_maxpool, pool2d},
    spatial::{crop2d, upsample2d, zero_pad2d},
};

/// Parameter tensors of a model, keyed by [`specc_lang::ParamTensor::name`]
/// (`conv2d_1.weight`, `batchnorm_1.running_var`, ...), each a flat
/// row-major vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub tensors: BTreeMap<String, Vec<f64>>,
}

impl Params {
    /// Every parameter tensor of the model, all zeros.
    pub fn zeros(model: &CheckedModel) -> Self {
        let tensors = model
            .parameters()
            .into_iter()
            .map(|p| {
                let n: usize = p.shape.iter().product();
                (p.name, vec![0.0; n])
            })
            .collect();
        Params { tensors }
    }

    /// Small deterministic pseudo-random values from a SplitMix64 stream,
    /// drawn tensor after tensor in the order of `model.parameters()`:
    ///
    /// - weights: uniform in `±1/sqrt(fan_in)`;
    /// - biases, beta and running means: uniform in `±0.1`;
    /// - gamma and running variances: uniform in `[0.5, 1.5)` (so always positive).
    pub fn random(model: &CheckedModel, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut tensors = BTreeMap::new();
        for p in model.parameters() {
            let n: usize = p.shape.iter().product();
            let mut values = Vec::with_capacity(n);
            for _ in 0..n {
                let u = rng.next_f64(); // in [0, 1)
                let v = match p.role {
                    TensorRole::Weight => {
                        let limit = 1.0 / (p.fan_in.max(1) as f64).sqrt();
                        (2.0 * u - 1.0) * limit
                    }
                    TensorRole::Bias | TensorRole::Beta | TensorRole::RunningMean => (2.0 * u - 1.0) * 0.1,
                    TensorRole::Gamma | TensorRole::RunningVar => 0.5 + u,
                };
                values.push(v);
            }
            tensors.insert(p.name, values);
        }
        Params { tensors }
    }

    /// The tensor called `name`; panics with the known names if there is none.
    pub fn get(&self, name: &str) -> &[f64] {
        match self.tensors.get(name) {
            Some(t) => t,
            None => panic!(
                "no parameter tensor `{name}`; known: {:?}",
                self.tensors.keys().collect::<Vec<_>>()
            ),
        }
    }

    /// The tensor called `name`, mutably; panics if there is none.
    pub fn get_mut(&mut self, name: &str) -> &mut [f64] {
        if !self.tensors.contains_key(name) {
            panic!(
                "no parameter tensor `{name}`; known: {:?}",
                self.tensors.keys().collect::<Vec<_>>()
            );
        }
        self.tensors.get_mut(name).unwrap()
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, deterministic, good enough
/// for test data.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Whether batchnorm uses running (inference) or batch (training) statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Inference,
    Training,
}

/// Targets of a loss: class indices (`cross_entropy`, one per sample) or
/// values (every other loss, `batch * output.numel()` of them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Targets<'a> {
    Classes(&'a [usize]),
    Values(&'a [f64]),
}

/// Everything a layer needs besides its input.
struct Ctx<'a> {
    params: &'a Params,
    mode: Mode,
    /// Dropout masks by layer name (0 or 1 per element of the batch); `None`
    /// makes dropout the identity.
    masks: Option<&'a BTreeMap<String, Vec<f64>>>,
}

/// The prediction output: every layer, including a final softmax or sigmoid
/// that the loss fuses. Returns `batch * model.output.numel()` values.
pub fn forward(model: &CheckedModel, params: &Params, input: &[f64], batch: usize, mode: Mode) -> Vec<f64> {
    let ctx = Ctx {
        params,
        mode,
        masks: None,
    };
    run_model(model, &ctx, input, batch, false)
}

/// Like [`forward`] but stops before `model.loss.fused_activation`, if any:
/// the values the classification losses are computed from.
pub fn logits(model: &CheckedModel, params: &Params, input: &[f64], batch: usize, mode: Mode) -> Vec<f64> {
    let ctx = Ctx {
        params,
        mode,
        masks: None,
    };
    run_model(model, &ctx, input, batch, true)
}

/// The model's loss (a mean) on a batch.
pub fn loss(
    model: &CheckedModel,
    params: &Params,
    input: &[f64],
    batch: usize,
    targets: Targets<'_>,
    mode: Mode,
) -> f64 {
    let ctx = Ctx {
        params,
        mode,
        masks: None,
    };
    loss_with_ctx(model, &ctx, input, batch, targets)
}

/// [`forward`] in training mode with explicit dropout masks: `masks[name]`
/// holds 0 or 1 for each of the `batch * numel` elements entering the dropout
/// layer `name`, and kept elements are scaled by `1 / (1 - rate)` (inverted
/// dropout). Panics if a dropout layer has no mask.
pub fn forward_with_dropout(
    model: &CheckedModel,
    params: &Params,
    input: &[f64],
    batch: usize,
    masks: &BTreeMap<String, Vec<f64>>,
) -> Vec<f64> {
    let ctx = Ctx {
        params,
        mode: Mode::Training,
        masks: Some(masks),
    };
    run_model(model, &ctx, input, batch, false)
}

/// [`loss`] in training mode with explicit dropout masks (see [`forward_with_dropout`]).
pub fn loss_with_dropout(
    model: &CheckedModel,
    params: &Params,
    input: &[f64],
    batch: usize,
    targets: Targets<'_>,
    masks: &BTreeMap<String, Vec<f64>>,
) -> f64 {
    let ctx = Ctx {
        params,
        mode: Mode::Training,
        masks: Some(masks),
    };
    loss_with_ctx(model, &ctx, input, batch, targets)
}

/// Central differences `(loss(p + h) - loss(p - h)) / 2h` of [`loss`] with
/// respect to every element of every trainable tensor (weights, biases,
/// gamma, beta). The result holds only the trainable tensors.
pub fn numeric_gradients(
    model: &CheckedModel,
    params: &Params,
    input: &[f64],
    batch: usize,
    targets: Targets<'_>,
    mode: Mode,
    h: f64,
) -> Params {
    let mut work = params.clone();
    let mut grads = BTreeMap::new();
    for p in model.parameters() {
        if !p.role.trainable() {
            continue;
        }
        let n = params.get(&p.name).len();
        let mut g = vec![0.0; n];
        for (k, gk) in g.iter_mut().enumerate() {
            let original = params.get(&p.name)[k];
            work.get_mut(&p.name)[k] = original + h;
            let plus = loss(model, &work, input, batch, targets, mode);
            work.get_mut(&p.name)[k] = original - h;
            let minus = loss(model, &work, input, batch, targets, mode);
            work.get_mut(&p.name)[k] = original;
            *gk = (plus - minus) / (2.0 * h);
        }
        grads.insert(p.name, g);
    }
    Params { tensors: grads }
}

// ---------------------------------------------------------------------------
// The model

fn run_model(
    model: &CheckedModel,
    ctx: &Ctx<'_>,
    input: &[f64],
    batch: usize,
    stop_before_fused: bool,
) -> Vec<f64> {
    assert_eq!(
        input.len(),
        batch * model.input.numel(),
        "input length must be batch * input.numel() = {batch} * {}",
        model.input.numel()
    );
    let mut x = input.to_vec();
    let last = model.layers.len().saturating_sub(1);
    for (i, layer) in model.layers.iter().enumerate() {
        let skip_activation = stop_before_fused && i == last && model.loss.fused_activation.is_some();
        if skip_activation {
            debug_assert_eq!(layer.activation(), model.loss.fused_activation);
        }
        x = run_layer(layer, ctx, &x, batch, skip_activation);
    }
    debug_assert_eq!(x.len(), batch * model.output.numel());
    x
}

fn run_layers(layers: &[Layer], ctx: &Ctx<'_>, input: &[f64], batch: usize) -> Vec<f64> {
    let mut x = input.to_vec();
    for layer in layers {
        x = run_layer(layer, ctx, &x, batch, false);
    }
    x
}

/// One layer on a batch. `skip_activation` leaves out the layer's activation
/// (a standalone activation layer becomes the identity).
fn run_layer(layer: &Layer, ctx: &Ctx<'_>, x: &[f64], batch: usize, skip_activation: bool) -> Vec<f64> {
    assert_eq!(
        x.len(),
        batch * layer.input.numel(),
        "layer `{}` got the wrong input length",
        layer.name
    );
    let out_numel = layer.output.numel();
    let y = match &layer.kind {
        LayerKind::Dense(d) => {
            let mut y = dense(layer, ctx.params, x, batch, d.bias);
            if let (Some(a), false) = (d.activation, skip_activation) {
                activate(&mut y, batch, out_numel, a);
            }
            y
        }
        LayerKind::Conv2d(c) => {
            let mut y = conv2d(layer, c, ctx.params, x, batch);
            if let (Some(a), false) = (c.activation, skip_activation) {
                activate(&mut y, batch, out_numel, a);
            }
            y
        }
        LayerKind::DepthwiseConv2d(d) => {
            let mut y = depthwise_conv2d(layer, d, ctx.params, x, batch);
            if let (Some(a), false) = (d.activation, skip_activation) {
                activate(&mut y, batch, out_numel, a);
            }
            y
        }
        LayerKind::MaxPool2d(p) => pool2d(layer, p, x, batch, true),
        LayerKind::AvgPool2d(p) => pool2d(layer, p, x, batch, false),
        LayerKind::GlobalAvgPool => global_avgpool(layer, x, batch),
        LayerKind::GlobalMaxPool => global_maxpool(layer, x, batch),
        LayerKind::ZeroPad2d { padding } => zero_pad2d(layer, *padding, x, batch),
        LayerKind::Crop2d { cropping } => crop2d(layer, *cropping, x, batch),
        LayerKind::Upsample2d { factor, mode } => upsample2d(layer, *factor, *mode, x, batch),
        LayerKind::Flatten => x.to_vec(),
        LayerKind::Activation(a) => {
            let mut y = x.to_vec();
            if !skip_activation {
                activate(&mut y, batch, out_numel, *a);
            }
            y
        }
        LayerKind::Dropout { rate } => dropout(layer, *rate, ctx, x),
        LayerKind::BatchNorm(bn) => batchnorm(layer, bn, ctx, x, batch),
        LayerKind::GroupNorm(n) => groupnorm(layer, n, ctx.params, x, batch),
        LayerKind::Normalize { mean, std } => {
            let plane = layer.input.numel() / mean.len();
            x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let c = i / plane % mean.len();
                    (v - mean[c]) / std[c]
                })
                .collect()
        }
        LayerKind::Residual { body, shortcut } => {
            let main = run_layers(body, ctx, x, batch);
            let side = match shortcut {
                Some(s) => run_layer(s, ctx, x, batch, false),
                None => x.to_vec(),
            };
            assert_eq!(main.len(), side.len(), "residual `{}` shapes", layer.name);
            main.iter().zip(&side).map(|(a, b)| a + b).collect()
        }
    };
    assert_eq!(
        y.len(),
        batch * out_numel,
        "layer `{}` produced the wrong output length",
        layer.name
    );
    y
}

// ---------------------------------------------------------------------------
// Activations (the other layer kinds are in `layers/`)

/// Applies `a` in place to each of the `batch` samples of `numel` values.
fn activate(y: &mut [f64], batch: usize, numel: usize, a: Activation) {
    for row in y[..batch * numel].chunks_exact_mut(numel.max(1)) {
        a.apply_f64(row);
    }
}

// ---------------------------------------------------------------------------
// Losses

fn loss_with_ctx(
    model: &CheckedModel,
    ctx: &Ctx<'_>,
    input: &[f64],
    batch: usize,
    targets: Targets<'_>,
) -> f64 {
    let k = model.output.numel();
    match model.loss.kind {
        LossKind::Mse | LossKind::Mae | LossKind::Huber { .. } => {
            let y = run_model(model, ctx, input, batch, false);
            let Targets::Values(t) = targets else {
                panic!("`{}` needs value targets", model.loss.kind.name());
            };
            assert_eq!(t.len(), y.len(), "targets must have batch * outputs values");
            let mut sum = 0.0;
            for (yi, ti) in y.iter().zip(t) {
                let d = yi - ti;
                sum += match model.loss.kind {
                    LossKind::Mse => d * d,
                    LossKind::Mae => d.abs(),
                    LossKind::Huber { delta } => {
                        if d.abs() <= delta {
                            0.5 * d * d
                        } else {
                            delta * (d.abs() - 0.5 * delta)
                        }
                    }
                    _ => unreachable!(),
                };
            }
            sum / y.len() as f64
        }
        LossKind::CrossEntropy => {
            let z = run_model(model, ctx, input, batch, true);
            let Targets::Classes(classes) = targets else {
                panic!("`cross_entropy` needs class targets");
            };
            assert_eq!(classes.len(), batch, "one class per sample");
            let mut sum = 0.0;
            for n in 0..batch {
                let row = &z[n * k..(n + 1) * k];
                let class = classes[n];
                assert!(class < k, "class {class} out of range 0..{k}");
                let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let log_sum_exp = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                sum += log_sum_exp - row[class];
            }
            sum / batch as f64
        }
        LossKind::BinaryCrossEntropy => {
            let z = run_model(model, ctx, input, batch, true);
            let Targets::Values(t) = targets else {
                panic!("`binary_cross_entropy` needs value targets (0 or 1)");
            };
            assert_eq!(t.len(), z.len(), "targets must have batch * outputs values");
            let mut sum = 0.0;
            for (zi, ti) in z.iter().zip(t) {
                sum += zi.max(0.0) - zi * ti + (-zi.abs()).exp().ln_1p();
            }
            sum / z.len() as f64
        }
    }
}
