//! `dropout(rate)`: its rate; the shape is unchanged.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn dropout(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["rate"], 1, self.errors);
        let rate = match args.value("rate") {
            None => {
                args.missing("rate", "dropout(0.5)");
                None
            }
            Some(_) => args.float("rate"),
        };
        let rate = rate?;
        if !(0.0..1.0).contains(&rate) {
            args.invalid(
                "rate",
                format!("dropout rate must be in [0, 1), found {rate}"),
                Some("the rate is the fraction of units dropped, e.g. `dropout(0.5)`".into()),
            );
            return None;
        }
        Some(Built {
            kind: LayerKind::Dropout { rate },
            output: input?.clone(),
            params: ParamCount::default(),
            flops: 0,
        })
    }
}
