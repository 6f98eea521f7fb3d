//! `Workspace`: the buffers of one batch size, allocated on first use.

use super::Ctx;
use crate::layers::ScratchKind;
use crate::names::ident;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;

/// The `Workspace` struct and its `resize`: every layer's output (and, with
/// training, its gradient) and the layers' scratch buffers; layers that
/// share a scratch name share one buffer of the largest size.
pub fn emit(cx: &Ctx<'_>) -> TokenStream {
    let per_sample = |len: usize| {
        if len == 1 {
            quote!(batch)
        } else {
            let len = len.lower();
            quote!(batch * #len)
        }
    };
    let mut fields = Vec::new();
    let mut resizes = Vec::new();
    for (name, len) in &cx.plan.buffers {
        let grad = cx.training.then(|| format!("{name}_grad"));
        for field in std::iter::once(name.clone()).chain(grad) {
            let f = ident(&field);
            let size = per_sample(*len);
            fields.push(quote!(#f: Vec<F>,));
            resizes.push(quote!(self.#f.resize(#size, 0.0);));
        }
    }
    let mut scratch: Vec<crate::layers::Scratch> = Vec::new();
    for s in cx.scratch() {
        match scratch.iter_mut().find(|t| t.name == s.name) {
            Some(existing) => existing.len = existing.len.max(s.len),
            None => scratch.push(s.clone()),
        }
    }
    for s in &scratch {
        let f = ident(&s.name);
        let (ty, size, zero) = match s.kind {
            ScratchKind::PerSample => (quote!(F), per_sample(s.len), quote!(0.0)),
            ScratchKind::PerSampleIndex => (quote!(u32), per_sample(s.len), quote!(0)),
            ScratchKind::Shared => {
                let len = s.len.lower();
                (quote!(F), quote!(#len), quote!(0.0))
            }
        };
        fields.push(quote!(#f: Vec<#ty>,));
        resizes.push(quote!(self.#f.resize(#size, #zero);));
    }
    quote! {
        /// Buffers for one batch size, allocated on first use and reused.
        #[derive(Default)]
        struct Workspace {
            batch: usize,
            #(#fields)*
        }

        impl Workspace {
            fn resize(&mut self, batch: usize) {
                if self.batch == batch {
                    return;
                }
                self.batch = batch;
                #(#resizes)*
            }
        }
    }
}
