//! An exported model: the root of a standalone `#![no_std]` crate that runs
//! the inference pass with the trained weights baked in, allocating
//! nothing. It calls the same layer functions and core kernels as a model
//! generated with [`crate::Passes::Inference`]; only the storage differs:
//!
//! - `Params` holds `&'static` views of one aligned, little-endian blob
//!   (`weights.bin`, `include_bytes!`ed), each tensor starting on a 64-byte
//!   line ([`WeightLayout`]);
//! - the workspace is the caller's `[Line]`s, cut into the layers' buffers
//!   and, after them, the kernels' scratch, lent for the call;
//! - `predict` runs one sample in a [`Workspace`] of fixed size, and
//!   `predict_batch` any number in a caller's slice of `workspace_lines(batch)`.

use super::Ctx;
use crate::layers::ScratchKind;
use crate::names::{ident, tensor_field};
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;

/// Where each tensor sits in the weight blob: `offsets[i]` (in f32s) for
/// the model's `i`-th tensor, each a multiple of 16 (a 64-byte line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightLayout {
    pub offsets: Vec<usize>,
    /// The blob's length in f32s.
    pub len: usize,
}

impl WeightLayout {
    pub fn new(lens: impl IntoIterator<Item = usize>) -> Self {
        let mut offsets = Vec::new();
        let mut at = 0;
        for len in lens {
            offsets.push(at);
            at += len.next_multiple_of(16);
        }
        WeightLayout { offsets, len: at }
    }

    /// The blob: each tensor at its offset, zeros between, little-endian.
    pub fn blob(&self, tensors: &[Vec<f32>]) -> Vec<u8> {
        let mut values = vec![0.0f32; self.len];
        for (t, &at) in tensors.iter().zip(&self.offsets) {
            values[at..at + t.len()].copy_from_slice(t);
        }
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }
}

/// A buffer of the exported workspace.
struct Buffer {
    name: String,
    /// Values per sample, or in all when not `per_sample`.
    len: usize,
    per_sample: bool,
    index: bool,
}

impl Buffer {
    fn ty(&self) -> TokenStream {
        if self.index { quote!(u32) } else { quote!(F) }
    }

    /// Its length with `batch` in scope.
    fn size(&self) -> TokenStream {
        let len = self.len.lower();
        if self.per_sample {
            quote!(batch * #len)
        } else {
            quote!(#len)
        }
    }

    fn lines(&self, batch: usize) -> usize {
        let len = if self.per_sample {
            batch * self.len
        } else {
            self.len
        };
        // f32 and u32 alike: 16 to a line.
        specc_core::scratch::lines::<f32>(len)
    }
}

/// The workspace: every layer's output, then the layers' own scratch
/// buffers that inference uses (max pooling's argmax), each as long as the
/// longest use of its name.
fn buffers(cx: &Ctx<'_>) -> Vec<Buffer> {
    let mut buffers: Vec<Buffer> = cx
        .plan
        .buffers
        .iter()
        .map(|(name, len)| Buffer {
            name: name.clone(),
            len: *len,
            per_sample: true,
            index: false,
        })
        .collect();
    for s in cx.scratch() {
        if buffers.iter().any(|b| b.name == s.name) {
            continue;
        }
        let len = cx
            .scratch()
            .filter(|t| t.name == s.name)
            .map(|t| t.len)
            .max()
            .unwrap_or(0);
        buffers.push(Buffer {
            name: s.name.clone(),
            len,
            per_sample: s.kind != ScratchKind::Shared,
            index: s.kind == ScratchKind::PerSampleIndex,
        });
    }
    buffers
}

/// The bytes of workspace the exported `predict_batch` needs at `batch`:
/// what the generated `workspace_lines` computes, evaluated here.
pub fn workspace_bytes(cx: &Ctx<'_>, batch: usize) -> usize {
    let scratch = cx
        .emitted
        .iter()
        .filter_map(|e| e.need.as_ref())
        .fold(specc_core::scratch::Need::NONE, |n, need| n.max(need.at(batch)));
    64 * (buffers(cx).iter().map(|b| b.lines(batch)).sum::<usize>() + scratch.lines())
}

/// The crate root's items after its header and attributes.
pub fn emit(cx: &Ctx<'_>, layout: &WeightLayout) -> TokenStream {
    let model = cx.model;
    let name_str = &model.name;
    let input_len = model.input.numel().lower();
    let output_len = &cx.output_len;
    let input_dims = model.input.dims().iter().map(|d| d.lower());
    let output_dims = model.output.dims().iter().map(|d| d.lower());
    let blob_bytes = (4 * layout.len).lower();

    let fields = cx.tensors.iter().map(|t| {
        let f = tensor_field(&t.name);
        let doc = format!(" `{}`, shape {:?}.", t.name, t.shape);
        quote!(#[doc = #doc] #f: &'static [F],)
    });
    let views = cx.tensors.iter().zip(&layout.offsets).map(|(t, &at)| {
        let f = tensor_field(&t.name);
        let len = t.shape.iter().product::<usize>();
        let (from, to) = (at.lower(), (at + len).lower());
        quote!(#f: &w[#from..#to],)
    });

    let buffers = buffers(cx);
    let buffer_fields = buffers.iter().map(|b| {
        let (f, ty) = (ident(&b.name), b.ty());
        quote!(#f: &'a mut [#ty],)
    });
    let takes = buffers.iter().map(|b| {
        let (f, ty, size) = (ident(&b.name), b.ty(), b.size());
        quote!(#f: carve.take::<#ty>(#size),)
    });
    let buffer_lines = buffers.iter().map(|b| {
        let (ty, size) = (b.ty(), b.size());
        quote!(rt::scratch::lines::<#ty>(#size) +)
    });
    let needs = cx.emitted.iter().filter_map(|e| e.need.as_ref()).map(|n| {
        let n = n.tokens();
        quote!(.max(#n))
    });

    let forward_calls = cx.emitted.iter().map(|e| match &e.inference {
        Some(inference) => &inference.call,
        None => &e.forward,
    });
    let functions = cx.functions();
    let out = &cx.out;
    let fused = cx
        .plan
        .fused
        .map(|a| crate::layers::activation_forward(a, quote!(output), quote!(#output_len)));
    let name_doc = format!(" The model's name in its spec: `{name_str}`.");

    quote! {
        use specc_core as rt;
        use rt::scratch::{Carve, Line, Need};

        /// The scalar type of this model.
        pub type F = f32;
        #[doc = #name_doc]
        pub const NAME: &str = #name_str;
        /// Values in one input sample.
        pub const INPUT_LEN: usize = #input_len;
        /// Values in one output.
        pub const OUTPUT_LEN: usize = #output_len;
        /// The shape of one input sample.
        pub const INPUT_SHAPE: &[usize] = &[#(#input_dims),*];
        /// The shape of one output.
        pub const OUTPUT_SHAPE: &[usize] = &[#(#output_dims),*];
        /// Bytes of baked weights (`weights.bin`).
        pub const WEIGHT_BYTES: usize = #blob_bytes;
        /// Lines of workspace [`predict`] runs in (one sample).
        pub const WORKSPACE_LINES: usize = workspace_lines(1);
        /// The largest batch [`predict_batch`] takes: its workspace's size
        /// in bytes stays within `isize::MAX`.
        pub const MAX_BATCH: usize = isize::MAX as usize / 64 / WORKSPACE_LINES;
        /// Bytes of workspace [`predict`] runs in (one sample).
        pub const WORKSPACE_BYTES: usize = 64 * WORKSPACE_LINES;

        /// The trained tensors, little-endian f32s, each on a 64-byte line.
        static WEIGHTS: rt::weights::Aligned<[u8; WEIGHT_BYTES]> =
            rt::weights::Aligned(*include_bytes!("weights.bin"));

        /// Every named tensor, a view of [`WEIGHTS`].
        struct Params {
            #(#fields)*
        }

        impl Params {
            fn baked() -> Self {
                let w = rt::weights::f32s(&WEIGHTS.0);
                Params { #(#views)* }
            }
        }

        #functions

        /// The layers' outputs for one call, cut from the caller's workspace.
        struct Buffers<'a> {
            #(#buffer_fields)*
        }

        /// The scratch the kernels need at `batch`.
        const fn scratch_need(batch: usize) -> Need {
            Need::NONE #(#needs)*
        }

        /// Lines of workspace [`predict_batch`] needs for `batch` samples.
        pub const fn workspace_lines(batch: usize) -> usize {
            #(#buffer_lines)* scratch_need(batch).lines()
        }

        /// The workspace of one sample, of fixed size: a `static` or a
        /// local (it is [`WORKSPACE_BYTES`] long).
        pub struct Workspace {
            lines: [Line; WORKSPACE_LINES],
        }

        impl Workspace {
            pub const fn new() -> Self {
                Workspace { lines: [Line::ZERO; WORKSPACE_LINES] }
            }
        }

        impl Default for Workspace {
            fn default() -> Self {
                Self::new()
            }
        }

        /// Why [`predict_batch`] refused its arguments.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Error {
            /// The input holds a number of values that is not a whole
            /// number of samples.
            Input { len: usize },
            /// The output does not hold `OUTPUT_LEN` values per sample.
            Output { len: usize, expected: usize },
            /// The workspace is shorter than `workspace_lines(batch)`.
            Workspace { lines: usize, expected: usize },
            /// More samples than [`MAX_BATCH`].
            Batch { batch: usize },
        }

        impl core::fmt::Display for Error {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match *self {
                    Error::Input { len } => write!(
                        f, "{}: the input holds {} values, not a multiple of {}", NAME, len, INPUT_LEN
                    ),
                    Error::Output { len, expected } => write!(
                        f, "{}: the output holds {} values, expected {}", NAME, len, expected
                    ),
                    Error::Workspace { lines, expected } => write!(
                        f, "{}: the workspace has {} lines, expected at least {}", NAME, lines, expected
                    ),
                    Error::Batch { batch } => write!(
                        f, "{}: a batch of {} samples is more than {}", NAME, batch, MAX_BATCH
                    ),
                }
            }
        }

        impl core::error::Error for Error {}

        /// Predicts one sample.
        pub fn predict(input: &[F; INPUT_LEN], output: &mut [F; OUTPUT_LEN], workspace: &mut Workspace) {
            run(1, input, output, &mut workspace.lines);
        }

        /// Predicts `input.len() / INPUT_LEN` samples, one after another
        /// in `input` and `output`, in a workspace of at least
        /// [`workspace_lines`]`(batch)` lines. Returns the batch.
        pub fn predict_batch(input: &[F], output: &mut [F], workspace: &mut [Line]) -> Result<usize, Error> {
            if input.len() % INPUT_LEN != 0 {
                return Err(Error::Input { len: input.len() });
            }
            let batch = input.len() / INPUT_LEN;
            if batch > MAX_BATCH {
                return Err(Error::Batch { batch });
            }
            let expected = batch * OUTPUT_LEN;
            if output.len() != expected {
                return Err(Error::Output { len: output.len(), expected });
            }
            let expected = workspace_lines(batch);
            if workspace.len() < expected {
                return Err(Error::Workspace { lines: workspace.len(), expected });
            }
            run(batch, input, output, workspace);
            Ok(batch)
        }

        /// The forward pass, for checked arguments.
        fn run(batch: usize, x: &[F], output: &mut [F], workspace: &mut [Line]) {
            let mut carve = Carve::new(workspace);
            let mut buffers = Buffers { #(#takes)* };
            let scratch = carve.rest();
            let p = &Params::baked();
            rt::scratch::lend(scratch, scratch_need(batch), || {
                let ws = &mut buffers;
                #(#forward_calls)*
            });
            output.copy_from_slice(&buffers.#out[..batch * OUTPUT_LEN]);
            #fused
        }
    }
}

/// The C ABI's functions, each `<module>_<name>`.
pub const C_ABI_FUNCTIONS: [&str; 3] = ["predict", "predict_batch", "workspace_bytes"];

/// The C ABI crate's root: `<model>_predict`, `<model>_predict_batch` and
/// `<model>_workspace_bytes` over the exported crate `model`.
pub fn c_api(module: &str) -> TokenStream {
    let model = ident(module);
    let [predict, predict_batch, workspace_bytes] = C_ABI_FUNCTIONS.map(|f| ident(&format!("{module}_{f}")));
    quote! {
        use #model::{INPUT_LEN, OUTPUT_LEN, Workspace};
        use specc_core::scratch::Line;
        use specc_core::sync::Exclusive;

        /// The workspace of `_predict`: one call at a time.
        static SHARED: Exclusive<Workspace> = Exclusive::new(Workspace::new());

        /// Success.
        const OK: i32 = 0;
        /// A null pointer.
        const NULL: i32 = 1;
        /// Another call is using the shared workspace.
        const BUSY: i32 = 2;
        /// A batch of zero, or too large for memory.
        const BATCH: i32 = 3;
        /// A workspace not aligned to 64 bytes or shorter than `_workspace_bytes(batch)`.
        const WORKSPACE: i32 = 4;

        /// Predicts one sample with the shared static workspace.
        ///
        /// # Safety
        /// `input` must point to `INPUT_LEN` readable floats and `output` to
        /// `OUTPUT_LEN` writable floats, not overlapping the input.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn #predict(input: *const f32, output: *mut f32) -> i32 {
            if input.is_null() || output.is_null() {
                return NULL;
            }
            let (input, output) = unsafe {
                (&*input.cast::<[f32; INPUT_LEN]>(), &mut *output.cast::<[f32; OUTPUT_LEN]>())
            };
            match SHARED.try_with(|workspace| #model::predict(input, output, workspace)) {
                Some(()) => OK,
                None => BUSY,
            }
        }

        /// Bytes of workspace `_predict_batch` needs for `batch` samples, or
        /// 0 for a batch of zero or one too large.
        #[unsafe(no_mangle)]
        pub extern "C" fn #workspace_bytes(batch: usize) -> usize {
            if batch == 0 || batch > #model::MAX_BATCH {
                return 0;
            }
            64 * #model::workspace_lines(batch)
        }

        /// Predicts `batch` samples in the caller's workspace.
        ///
        /// # Safety
        /// `input` must point to `batch * INPUT_LEN` readable floats, `output`
        /// to `batch * OUTPUT_LEN` writable floats and `workspace` to
        /// `workspace_len` writable bytes, none overlapping another.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn #predict_batch(
            input: *const f32,
            batch: usize,
            output: *mut f32,
            workspace: *mut core::ffi::c_void,
            workspace_len: usize,
        ) -> i32 {
            if input.is_null() || output.is_null() || workspace.is_null() {
                return NULL;
            }
            let bytes = #workspace_bytes(batch);
            if bytes == 0 {
                return BATCH;
            }
            if workspace.align_offset(64) != 0 || workspace_len < bytes {
                return WORKSPACE;
            }
            let (input, output, workspace) = unsafe {
                (
                    core::slice::from_raw_parts(input, batch * INPUT_LEN),
                    core::slice::from_raw_parts_mut(output, batch * OUTPUT_LEN),
                    core::slice::from_raw_parts_mut(workspace.cast::<Line>(), bytes / 64),
                )
            };
            match #model::predict_batch(input, output, workspace) {
                Ok(_) => OK,
                Err(_) => WORKSPACE,
            }
        }

        /// Nothing here panics on checked arguments; a bug that did would
        /// stop here rather than unwind into C.
        #[cfg(not(test))]
        #[panic_handler]
        fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
            loop {
                core::hint::spin_loop();
            }
        }

        /// `core`, built to unwind, names this symbol; with `panic = "abort"`
        /// nothing calls it. Defined so that the archive links into a C
        /// program without `-Wl,--gc-sections`.
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub extern "C" fn rust_eh_personality() {}
    }
}

/// The soundness arguments of [`c_api`]'s `unsafe` blocks, as comments in
/// its formatted source (tokens carry no comments): each goes above the
/// line that opens its block.
pub const C_API_SAFETY: [(&str, &str); 2] = [
    (
        "let (input, output) = unsafe {",
        "// SAFETY: non-null (checked), and valid for these lengths, aligned\n\
         // for f32 and disjoint by the caller's contract above.",
    ),
    (
        "let (input, output, workspace) = unsafe {",
        "// SAFETY: non-null, aligned (checked: 64 bytes for `Line`, 4 for\n\
         // f32 by the contract) and valid for these lengths, which do not\n\
         // overflow (`batch <= MAX_BATCH`), and disjoint by the contract.\n\
         // A `Line` is plain bytes, so any contents are valid.",
    ),
];

/// `source` with each comment of `comments` above the line that starts
/// with its text (after indentation), indented as that line.
pub fn with_comments(source: &str, comments: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(source.len() + 1024);
    for line in source.lines() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        if let Some((_, comment)) = comments.iter().find(|(start, _)| code.starts_with(start)) {
            for c in comment.lines() {
                out.push_str(indent);
                out.push_str(c);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The C header of [`c_api`].
pub fn c_header(model: &specc_lang::CheckedModel, header_comment: &str) -> String {
    let m = &model.module_name;
    let upper = m.to_uppercase();
    let comment: String = header_comment
        .lines()
        .map(|l| format!("/* {} */\n", l.trim_start_matches("// ")))
        .collect();
    format!(
        "{comment}
/* `{name}`: {input} -> {output}. Link with lib{m}_c.a. */
#ifndef {upper}_H
#define {upper}_H

#include <stddef.h>

#ifdef __cplusplus
extern \"C\" {{
#endif

/* Floats in one input sample and in one output. */
#define {upper}_INPUT_LEN {input_len}
#define {upper}_OUTPUT_LEN {output_len}

/* Return codes. */
#define {upper}_OK 0
#define {upper}_NULL 1      /* a null pointer */
#define {upper}_BUSY 2      /* another call holds the shared workspace */
#define {upper}_BATCH 3     /* a batch of zero, or too large */
#define {upper}_WORKSPACE 4 /* a workspace misaligned or too short */

/* Predicts one sample: reads {upper}_INPUT_LEN floats, writes
   {upper}_OUTPUT_LEN. Uses a static workspace, one call at a time. */
int {m}_predict(const float *input, float *output);

/* Bytes of workspace {m}_predict_batch needs for `batch` samples
   (0 if the batch is 0 or too large). */
size_t {m}_workspace_bytes(size_t batch);

/* Predicts `batch` samples in the caller's workspace, which must be
   aligned to 64 bytes (aligned_alloc(64, size)) and at least
   {m}_workspace_bytes(batch) long. */
int {m}_predict_batch(const float *input, size_t batch, float *output,
                      void *workspace, size_t workspace_len);

#ifdef __cplusplus
}}
#endif

#endif
",
        name = model.name,
        input = model.input,
        output = model.output,
        input_len = model.input.numel(),
        output_len = model.output.numel(),
    )
}
