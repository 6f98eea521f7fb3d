//! One module per layer kind: each emits the layer's forward and backward
//! functions and the calls that the model's passes make to them.

mod activation;
mod batchnorm;
mod conv2d;
mod dense;
mod depthwise;
mod dropout;
mod groupnorm;
mod normalize;
mod pool;
mod residual;
mod spatial;

use crate::names::ident;
use crate::plan::{Buf, DxMode, Step, StepKind};
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::LayerKind;

pub use activation::{activation_backward, activation_forward};

/// A workspace buffer a layer needs besides its output and gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Scratch {
    pub name: String,
    pub len: usize,
    pub kind: ScratchKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScratchKind {
    /// `batch * len` values of `F` (dropout masks, batchnorm's normalised input).
    PerSample,
    /// `batch * len` indices (max pooling's argmax).
    PerSampleIndex,
    /// `len` values of `F`, independent of the batch (im2col columns); layers
    /// that declare the same name share one buffer of the largest size.
    Shared,
}

/// What a layer emitter returns: its items, then [`emit`] sorts them by
/// pass into an [`Emitted`].
#[derive(Default)]
struct Raw {
    /// Its constants and its `*_forward` and `*_backward` functions, each
    /// function documented with the layer's one-line summary.
    functions: TokenStream,
    forward: TokenStream,
    backward: TokenStream,
    scratch: Vec<Scratch>,
    uses_training: bool,
    uses_rng: bool,
    backward_reads_params: bool,
    kernel: Option<TokenStream>,
    need: Option<Need>,
    inference: Option<Inference>,
}

/// The kernel scratch of a layer's inference pass, as data: emitted as the
/// core's `const fn` call (what an exported model sizes its workspace by)
/// and evaluated here with the same functions (what `specc export` reports).
#[derive(Clone, Debug)]
pub enum Need {
    /// A dense layer's product, `batch x inputs` by `inputs x units`.
    Dense { inputs: usize, units: usize },
    /// A convolution's forward pass; `constant` names its shape's `const`.
    Conv2d {
        shape: specc_core::conv::Conv2dShape,
        constant: proc_macro2::Ident,
    },
    /// A depthwise convolution's forward pass, likewise.
    Depthwise {
        shape: specc_core::depthwise::DepthwiseShape,
        constant: proc_macro2::Ident,
    },
}

impl Need {
    /// An `rt::scratch::Need` expression, with `batch` in scope.
    pub fn tokens(&self) -> TokenStream {
        use crate::values::Lower;
        match self {
            Need::Dense { inputs, units } => {
                let (inputs, units) = (inputs.lower(), units.lower());
                quote!(rt::gemm::need::<F>(batch, #inputs, #units))
            }
            Need::Conv2d { constant, .. } => quote!(rt::conv::forward_need::<F>(&#constant)),
            Need::Depthwise { constant, .. } => quote!(rt::depthwise::forward_need::<F>(&#constant)),
        }
    }

    /// The need at `batch`, for f32.
    pub fn at(&self, batch: usize) -> specc_core::scratch::Need {
        match self {
            Need::Dense { inputs, units } => specc_core::gemm::need::<f32>(batch, *inputs, *units),
            Need::Conv2d { shape, .. } => specc_core::conv::forward_need::<f32>(shape),
            Need::Depthwise { shape, .. } => specc_core::depthwise::forward_need::<f32>(shape),
        }
    }
}

/// The inference-only form of a layer whose inference differs from its
/// training forward pass (dropout, batchnorm), for models generated without
/// training: it reads no `training` flag, draws no random numbers and
/// needs none of the layer's scratch buffers.
pub struct Inference {
    pub functions: TokenStream,
    pub call: TokenStream,
}

/// What a layer contributes to the generated module.
#[derive(Default)]
pub struct Emitted {
    /// Its constants and `*_forward` function.
    pub forward_fns: TokenStream,
    /// Its `*_backward` function, if the backward pass runs through it.
    pub backward_fns: TokenStream,
    /// The statement in `forward` (with `x`, `p`, `ws`, `batch`, `training`, `rng` in scope).
    pub forward: TokenStream,
    /// The statement in `backward` (with `x`, `p`, `g`, `ws`, `batch` in scope), if any.
    pub backward: TokenStream,
    /// Extra workspace buffers.
    pub scratch: Vec<Scratch>,
    /// The forward pass behaves differently in training (uses `training`).
    pub uses_training: bool,
    /// The forward pass draws random numbers (uses `rng`).
    pub uses_rng: bool,
    /// The backward call reads parameters (`p`).
    pub backward_reads_params: bool,
    /// A `rt::LayerKernel` expression, for layers whose passes are GEMM
    /// kernels (dense, conv2d): the model's `KERNELS` lists them.
    pub kernel: Option<TokenStream>,
    /// The kernel scratch of the inference pass, for layers whose kernels
    /// use any: what an exported model lends them.
    pub need: Option<Need>,
    /// Set for layers whose inference is not their training forward pass.
    pub inference: Option<Inference>,
}

/// Expressions for a step's buffers, as the passes see them.
pub struct Io {
    /// The input values: `x` or `&ws.dense_1`.
    pub x: TokenStream,
    /// The output values, mutable: `&mut ws.dense_2`.
    pub y_mut: TokenStream,
    /// The output values: `&ws.dense_2`.
    pub y: TokenStream,
    /// The output gradient, mutable: `&mut ws.dense_2_grad` (for layers
    /// that turn it into the pre-activation gradient in place).
    pub dy_mut: TokenStream,
    /// The output gradient: `&ws.dense_2_grad`.
    pub dy: TokenStream,
    /// The input gradient, mutable, if the step must produce it.
    pub dx_mut: Option<TokenStream>,
    /// Whether the input gradient is added to rather than overwritten.
    pub accumulate: bool,
}

/// What the layers with a weight, an optional bias and an optional
/// activation (dense, conv2d) share in their functions' parameter lists and
/// at their call sites: `bias` / `d_bias` only with a bias, the output `y` in
/// backward only with an activation there to differentiate, and the weight in
/// backward only when the input gradient is computed.
pub struct Weighted {
    /// The activation the layer applies itself (`None` when the loss fuses it).
    pub activation: Option<specc_lang::Activation>,
    /// `p.dense_1_weight` and `g.dense_1_weight` are `p.#weight`, `g.#weight`.
    pub weight: proc_macro2::Ident,
    /// `y: &[F],` in the backward function, or nothing.
    pub y_param: TokenStream,
    /// `weight: &[F],` in the backward function, or nothing.
    pub weight_param: TokenStream,
    /// Call arguments: `&p.#bias,`, `&mut g.#bias,`, the output `y` and
    /// `&p.#weight,` in backward, each or nothing as above.
    pub bias_arg: TokenStream,
    pub bias_grad_arg: TokenStream,
    pub y_arg: TokenStream,
    pub weight_arg: TokenStream,
}

impl Weighted {
    pub fn new(step: &Step<'_>, activation: Option<specc_lang::Activation>, has_bias: bool, io: &Io) -> Self {
        let name = &step.layer().name;
        let weight = crate::names::tensor_field(&format!("{name}.weight"));
        let bias = crate::names::tensor_field(&format!("{name}.bias"));
        // Fused into the loss, or in a step of its own after the product.
        let activation = if step.activation_fused {
            None
        } else {
            activation.filter(|a| !a.needs_input())
        };
        let when = |cond: bool, tokens: TokenStream| if cond { tokens } else { quote!() };
        let y = &io.y;
        let input_gradient = io.dx_mut.is_some();
        Weighted {
            y_param: when(activation.is_some(), quote!(y: &[F],)),
            weight_param: when(input_gradient, quote!(weight: &[F],)),
            bias_arg: when(has_bias, quote!(&p.#bias,)),
            bias_grad_arg: when(has_bias, quote!(&mut g.#bias,)),
            y_arg: when(activation.is_some(), quote!(#y,)),
            weight_arg: when(input_gradient, quote!(&p.#weight,)),
            activation,
            weight,
        }
    }
}

/// `x` or `&ws.name`.
pub fn value(b: &Buf) -> TokenStream {
    match b {
        Buf::Input => quote!(x),
        Buf::Layer(name) => {
            let f = ident(name);
            quote!(&ws.#f)
        }
    }
}

/// `&mut ws.name_grad`, if the buffer has a gradient.
pub fn grad_mut(b: &Buf) -> Option<TokenStream> {
    match b {
        Buf::Input => None,
        Buf::Layer(name) => {
            let f = ident(&format!("{name}_grad"));
            Some(quote!(&mut ws.#f))
        }
    }
}

impl Io {
    fn new(step: &Step<'_>) -> Self {
        let Buf::Layer(out) = &step.output else {
            unreachable!("plan: every step writes a workspace buffer")
        };
        let out = ident(out);
        let out_grad = ident(&format!("{out}_grad"));
        let dx_mut = match step.dx {
            DxMode::None => None,
            DxMode::Overwrite | DxMode::Accumulate => grad_mut(&step.input),
        };
        Io {
            x: value(&step.input),
            y_mut: quote!(&mut ws.#out),
            y: quote!(&ws.#out),
            dy_mut: quote!(&mut ws.#out_grad),
            dy: quote!(&ws.#out_grad),
            dx_mut,
            accumulate: step.dx == DxMode::Accumulate,
        }
    }
}

/// A step's functions and calls, its functions sorted by pass, each with
/// the doc line of its pass and `#[allow(clippy::too_many_arguments)]`
/// exactly where clippy would ask for it.
pub fn emit(step: &Step<'_>) -> Emitted {
    let raw = emit_raw(step);
    let (forward_fns, backward_fns) = split_passes(raw.functions);
    Emitted {
        forward_fns,
        backward_fns,
        forward: raw.forward,
        backward: raw.backward,
        scratch: raw.scratch,
        uses_training: raw.uses_training,
        uses_rng: raw.uses_rng,
        backward_reads_params: raw.backward_reads_params,
        kernel: raw.kernel,
        need: raw.need,
        inference: raw.inference.map(|i| Inference {
            functions: split_passes(i.functions).0,
            call: i.call,
        }),
    }
}

/// Clippy's default `too-many-arguments-threshold`.
const MAX_ARGUMENTS: usize = 7;

/// Sorts `items` into the forward items (constants, `*_forward`) and the
/// `*_backward` functions, adding each function's pass to its doc and the
/// `too_many_arguments` allowance where its parameters need it.
fn split_passes(items: TokenStream) -> (TokenStream, TokenStream) {
    let file: syn::File = syn::parse2(items).expect("layer emitters produce items");
    let (mut forward, mut backward) = (TokenStream::new(), TokenStream::new());
    for mut item in file.items {
        let syn::Item::Fn(f) = &mut item else {
            forward.extend(quote!(#item));
            continue;
        };
        let is_backward = f.sig.ident.to_string().ends_with("_backward");
        let pass = if is_backward {
            " The backward pass: from the output gradient `dy`, the gradients of the layer's \
             parameters and input."
        } else {
            " The forward pass."
        };
        f.attrs.push(syn::parse_quote!(#[doc = ""]));
        f.attrs.push(syn::parse_quote!(#[doc = #pass]));
        if f.sig.inputs.len() > MAX_ARGUMENTS {
            f.attrs
                .push(syn::parse_quote!(#[allow(clippy::too_many_arguments)]));
        }
        if is_backward {
            backward.extend(quote!(#item));
        } else {
            forward.extend(quote!(#item));
        }
    }
    (forward, backward)
}

fn emit_raw(step: &Step<'_>) -> Raw {
    let io = Io::new(step);
    match &step.kind {
        StepKind::ResidualAdd {
            layer,
            body,
            shortcut,
        } => residual::emit(step, layer, body, shortcut.as_ref(), &io),
        StepKind::Activation { activation, .. } => activation::emit_layer(step, *activation, &io),
        StepKind::Layer(layer) => match &layer.kind {
            LayerKind::Dense(d) => dense::emit(step, d, &io),
            LayerKind::Conv2d(c) => conv2d::emit(step, c, &io),
            LayerKind::DepthwiseConv2d(d) => depthwise::emit(step, d, &io),
            LayerKind::MaxPool2d(p) => pool::emit_window(step, p, true, &io),
            LayerKind::AvgPool2d(p) => pool::emit_window(step, p, false, &io),
            LayerKind::GlobalAvgPool => pool::emit_global(step, &io),
            LayerKind::GlobalMaxPool => pool::emit_global_max(step, &io),
            LayerKind::ZeroPad2d { padding } => spatial::emit_border(step, *padding, true, &io),
            LayerKind::Crop2d { cropping } => spatial::emit_border(step, *cropping, false, &io),
            LayerKind::Upsample2d { factor, mode } => spatial::emit_upsample(step, *factor, *mode, &io),
            LayerKind::Activation(a) => activation::emit_layer(step, *a, &io),
            LayerKind::Dropout { rate } => dropout::emit(step, *rate, &io),
            LayerKind::BatchNorm(b) => batchnorm::emit(step, b, &io),
            LayerKind::GroupNorm(n) => groupnorm::emit(step, n, &io),
            LayerKind::Normalize { mean, std } => normalize::emit(step, mean, std, &io),
            LayerKind::Flatten | LayerKind::Residual { .. } => {
                unreachable!("plan lowers {} without a step of its own", layer.kind_name())
            }
        },
    }
}

/// Whether `tokens` use the identifier `name` anywhere.
pub fn mentions(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == name,
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), name),
        _ => false,
    })
}
