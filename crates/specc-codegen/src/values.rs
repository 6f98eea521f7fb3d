//! The one place where a compiler-side value becomes a Rust expression in
//! generated code.
//!
//! The values are `specc_types`' (initialisers, tensor roles, schedules,
//! training settings, target kinds), which the runtime re-exports under the
//! same names, so each is written as the constructor it was built from.
//! Numbers are written unsuffixed, the one literal style of generated code:
//! they take the type of the field or of the model's scalar `F`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use specc_lang::{
    Augment, DataSettings, EarlyStop, Init, Monitor, Precision, Resize, Schedule, ScheduleKind, ScheduleUnit,
    TargetKind, TensorRole, TrainSettings,
};

/// A value written into generated code (with `rt` the runtime's alias).
pub trait Lower {
    fn lower(&self) -> TokenStream;
}

impl Lower for f64 {
    fn lower(&self) -> TokenStream {
        let lit = Literal::f64_unsuffixed(self.abs());
        if self.is_sign_negative() {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    }
}

macro_rules! lower_unsigned {
    ($($t:ty => $f:ident),*) => {$(
        impl Lower for $t {
            fn lower(&self) -> TokenStream {
                let lit = Literal::$f(*self);
                quote!(#lit)
            }
        }
    )*};
}
lower_unsigned!(usize => usize_unsuffixed, u64 => u64_unsuffixed);

impl Lower for bool {
    fn lower(&self) -> TokenStream {
        quote!(#self)
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower(&self) -> TokenStream {
        match self {
            Some(v) => {
                let v = v.lower();
                quote!(Some(#v))
            }
            None => quote!(None),
        }
    }
}

impl Lower for Init {
    fn lower(&self) -> TokenStream {
        let kind = match self {
            Init::HeNormal => quote!(HeNormal),
            Init::HeUniform => quote!(HeUniform),
            Init::XavierNormal => quote!(XavierNormal),
            Init::XavierUniform => quote!(XavierUniform),
            Init::Zeros => quote!(Zeros),
            Init::Normal { std } => {
                let std = std.lower();
                quote!(Normal { std: #std })
            }
            Init::Uniform { limit } => {
                let limit = limit.lower();
                quote!(Uniform { limit: #limit })
            }
        };
        quote!(train::Init::#kind)
    }
}

impl Lower for TensorRole {
    fn lower(&self) -> TokenStream {
        let role = match self {
            TensorRole::Weight => quote!(Weight),
            TensorRole::Bias => quote!(Bias),
            TensorRole::Gamma => quote!(Gamma),
            TensorRole::Beta => quote!(Beta),
            TensorRole::RunningMean => quote!(RunningMean),
            TensorRole::RunningVar => quote!(RunningVar),
        };
        quote!(rt::TensorRole::#role)
    }
}

impl Lower for TargetKind {
    fn lower(&self) -> TokenStream {
        match self {
            TargetKind::Classes { classes } => {
                let classes = classes.lower();
                quote!(train::TargetKind::Classes { classes: #classes })
            }
            TargetKind::Binary => quote!(train::TargetKind::Binary),
            TargetKind::Values => quote!(train::TargetKind::Values),
        }
    }
}

impl Lower for TrainSettings {
    fn lower(&self) -> TokenStream {
        let TrainSettings {
            epochs,
            batch,
            seed,
            shuffle,
            validation,
            precision,
            early_stop,
        } = self;
        let early_stop = match early_stop {
            None => quote!(None),
            Some(EarlyStop {
                patience,
                min_delta,
                monitor,
            }) => {
                let (patience, min_delta) = (patience.lower(), min_delta.lower());
                let monitor = match monitor {
                    Monitor::ValLoss => quote!(train::Monitor::ValLoss),
                    Monitor::ValAccuracy => quote!(train::Monitor::ValAccuracy),
                    Monitor::Loss => quote!(train::Monitor::Loss),
                };
                quote!(Some(train::EarlyStop {
                    patience: #patience,
                    min_delta: #min_delta,
                    monitor: #monitor,
                }))
            }
        };
        let (epochs, batch, seed, validation, precision) = (
            epochs.lower(),
            batch.lower(),
            seed.lower(),
            validation.lower(),
            precision.lower(),
        );
        quote! {
            train::TrainSettings {
                epochs: #epochs,
                batch: #batch,
                seed: #seed,
                shuffle: #shuffle,
                validation: #validation,
                precision: #precision,
                early_stop: #early_stop,
            }
        }
    }
}

impl Lower for DataSettings {
    fn lower(&self) -> TokenStream {
        let resize = match self.resize {
            Resize::Bilinear => quote!(train::Resize::Bilinear),
            Resize::Nearest => quote!(train::Resize::Nearest),
            Resize::None => quote!(train::Resize::None),
        };
        let Augment {
            flip,
            crop,
            translate,
            rotate,
        } = self.augment;
        let (crop, translate, rotate) = (crop.lower(), translate.lower(), rotate.lower());
        quote!(train::DataSettings {
            resize: #resize,
            augment: train::Augment {
                flip: #flip,
                crop: #crop,
                translate: #translate,
                rotate: #rotate,
            },
        })
    }
}

impl Lower for Precision {
    fn lower(&self) -> TokenStream {
        match self {
            Precision::F32 => quote!(rt::Precision::F32),
            Precision::Bf16 => quote!(rt::Precision::Bf16),
        }
    }
}

impl Lower for ScheduleUnit {
    fn lower(&self) -> TokenStream {
        match self {
            ScheduleUnit::Epoch => quote!(train::ScheduleUnit::Epoch),
            ScheduleUnit::Step => quote!(train::ScheduleUnit::Step),
        }
    }
}

impl Lower for Schedule {
    fn lower(&self) -> TokenStream {
        let unit = self.unit.lower();
        let kind = match &self.kind {
            ScheduleKind::Step { every, gamma } => {
                let (every, gamma) = (every.lower(), gamma.lower());
                quote!(Step { every: #every, gamma: #gamma })
            }
            ScheduleKind::MultiStep { milestones, gamma } => {
                let milestones = milestones.iter().map(Lower::lower);
                let gamma = gamma.lower();
                quote!(MultiStep { milestones: vec![#(#milestones),*], gamma: #gamma })
            }
            ScheduleKind::Exponential { gamma } => {
                let gamma = gamma.lower();
                quote!(Exponential { gamma: #gamma })
            }
            ScheduleKind::InverseTime { k, power } => {
                let (k, power) = (k.lower(), power.lower());
                quote!(InverseTime { k: #k, power: #power })
            }
            ScheduleKind::Polynomial { total, power, end_lr } => {
                let (total, power, end_lr) = (total.lower(), power.lower(), end_lr.lower());
                quote!(Polynomial { total: #total, power: #power, end_lr: #end_lr })
            }
            ScheduleKind::Cosine { total, min_lr } => {
                let (total, min_lr) = (total.lower(), min_lr.lower());
                quote!(Cosine { total: #total, min_lr: #min_lr })
            }
            ScheduleKind::Sigmoid { gamma, center } => {
                let (gamma, center) = (gamma.lower(), center.lower());
                quote!(Sigmoid { gamma: #gamma, center: #center })
            }
            ScheduleKind::Warmup { steps, then } => {
                let steps = steps.lower();
                let then = match then {
                    Some(t) => {
                        let t = t.lower();
                        quote!(Some(Box::new(#t)))
                    }
                    None => quote!(None),
                };
                quote!(Warmup { steps: #steps, then: #then })
            }
            ScheduleKind::Plateau {
                patience,
                factor,
                min_lr,
                min_delta,
            } => {
                let (patience, factor) = (patience.lower(), factor.lower());
                let (min_lr, min_delta) = (min_lr.lower(), min_delta.lower());
                quote!(Plateau { patience: #patience, factor: #factor, min_lr: #min_lr, min_delta: #min_delta })
            }
        };
        quote!(train::Schedule { kind: train::ScheduleKind::#kind, unit: #unit })
    }
}

#[cfg(test)]
mod tests {
    use super::Lower;

    #[test]
    fn numbers_are_unsuffixed_and_negatives_keep_their_sign() {
        assert_eq!(0.5f64.lower().to_string(), "0.5");
        assert_eq!((-2.0f64).lower().to_string(), "- 2.0");
        assert_eq!(3usize.lower().to_string(), "3");
        assert_eq!(7u64.lower().to_string(), "7");
        assert_eq!(Some(1.5f64).lower().to_string(), "Some (1.5)");
    }
}
