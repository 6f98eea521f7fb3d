//! `flatten`: any shape to a vector.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn flatten(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        ArgReader::new(call, &[], 0, self.errors);
        Some(Built {
            kind: LayerKind::Flatten,
            output: Shape(vec![input?.numel()]),
            params: ParamCount::default(),
            flops: 0,
        })
    }
}
