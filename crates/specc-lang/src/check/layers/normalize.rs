//! `normalize(mean, std)`: fixed per-channel scaling; the shape is unchanged.

use super::*;

/// `Normalize mean 0.49,0.48,0.45 std 0.25,0.24,0.26`
pub(super) fn describe(mean: &[f64], std: &[f64]) -> String {
    let list = |v: &[f64]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
    format!("Normalize mean {} std {}", list(mean), list(std))
}

impl LayerBuilder<'_> {
    pub(super) fn normalize(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["mean", "std"], 2, self.errors);
        let read = |args: &mut ArgReader, name: &str, example: &str| match args.value(name) {
            None => {
                args.missing(name, example);
                None
            }
            Some(_) => args.float_list(name),
        };
        let mean = read(&mut args, "mean", "normalize(mean = [0.5], std = [0.25])");
        let std = read(&mut args, "std", "normalize(mean = [0.5], std = [0.25])");
        let (mean, std) = (mean?, std?);
        if let Some(s) = std.iter().find(|s| **s <= 0.0) {
            args.invalid(
                "std",
                format!("every `std` divides the input and must be positive, found {s}"),
                None,
            );
            return None;
        }
        let input = input?;
        // Per channel of an image, per feature of a vector.
        let channels = input.dims()[0];
        for (name, values) in [("mean", &mean), ("std", &std)] {
            if values.len() != 1 && values.len() != channels {
                let what = if input.dims().len() == 3 {
                    "channels"
                } else {
                    "features"
                };
                args.invalid(
                    name,
                    format!(
                        "`{name}` has {} values for an input {input} of {channels} {what}",
                        values.len()
                    ),
                    Some(format!(
                        "give one value for every channel, or one for all: {channels} or 1"
                    )),
                );
                return None;
            }
        }
        let widen = |v: Vec<f64>| if v.len() == 1 { vec![v[0]; channels] } else { v };
        Some(Built {
            kind: LayerKind::Normalize {
                mean: widen(mean),
                std: widen(std),
            },
            output: input.clone(),
            params: ParamCount::default(),
            flops: 2 * input.numel() as u64,
        })
    }
}
