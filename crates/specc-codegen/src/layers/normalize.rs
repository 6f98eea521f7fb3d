//! `normalize(mean, std)`: `y = (x - mean[c]) / std[c]` over each channel's
//! plane (each feature of a vector); its gradient is `dy / std[c]`.

use super::{Io, Raw};
use crate::names::function;
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;

pub fn emit(step: &Step<'_>, mean: &[f64], std: &[f64], io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let channels = mean.len();
    let plane = layer.input.numel() / channels;
    let doc = format!(" `{name}`: (x - mean) / std per channel of {}.", layer.input);
    let (c_lit, plane_lit) = (channels.lower(), plane.lower());
    let (mean, std) = (mean.iter().map(Lower::lower), std.iter().map(Lower::lower));
    let constants = quote! {
        const C: usize = #c_lit;
        const PLANE: usize = #plane_lit;
        const MEAN: [F; C] = [#(#mean as F),*];
        const STD: [F; C] = [#(#std as F),*];
    };
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let forward = quote! { #forward_fn(#x, #y_mut); };
    let write = if *accumulate {
        quote!(*d += g / STD[c];)
    } else {
        quote!(*d = g / STD[c];)
    };
    let (backward_fn_tokens, backward) = match dx_mut {
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(dy: &[F], dx: &mut [F]) {
                    #constants
                    for (dy, dx) in dy.chunks_exact(C * PLANE).zip(dx.chunks_exact_mut(C * PLANE)) {
                        for c in 0..C {
                            let range = c * PLANE..(c + 1) * PLANE;
                            for (d, &g) in dx[range.clone()].iter_mut().zip(&dy[range]) {
                                #write
                            }
                        }
                    }
                }
            },
            quote! { #backward_fn(#dy, #dx_mut); },
        ),
        None => Default::default(),
    };
    let functions = quote! {
        #[doc = #doc]
        fn #forward_fn(x: &[F], y: &mut [F]) {
            #constants
            for (x, y) in x.chunks_exact(C * PLANE).zip(y.chunks_exact_mut(C * PLANE)) {
                for c in 0..C {
                    let range = c * PLANE..(c + 1) * PLANE;
                    for (o, &v) in y[range.clone()].iter_mut().zip(&x[range]) {
                        *o = (v - MEAN[c]) / STD[c];
                    }
                }
            }
        }

        #backward_fn_tokens
    };
    Raw {
        functions,
        forward,
        backward,
        ..Default::default()
    }
}
