//! The data statements: `data(resize)` and `augment(...)`, how samples
//! reach the model.

use crate::args::ArgReader;
use crate::diagnostic::Diagnostic;
use crate::model::*;
use crate::syntax::*;

/// `data(resize = bilinear)`: how data reaches the model.
pub fn data_settings(
    args: Option<&Args>,
    keyword: Span,
    errors: &mut Vec<Diagnostic>,
) -> Option<DataSettings> {
    let defaults = DataSettings::default();
    let mut args = ArgReader::from_args("data", keyword, args, &["resize"], 0, errors);
    let resize = match args.value("resize") {
        None => Some(defaults.resize),
        Some(_) => {
            let names = Resize::ALL.map(Resize::name);
            args.choice("resize", &names).and_then(Resize::from_name)
        }
    };
    Some(DataSettings {
        resize: resize?,
        ..defaults
    })
}

/// `augment(flip = false, crop = 0, translate = 0, rotate = 0)`, checked
/// against the model's input (`None` when the input has errors).
pub fn augment(
    args: Option<&Args>,
    keyword: Span,
    input: Option<&Shape>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Augment> {
    let mut args = ArgReader::from_args(
        "augment",
        keyword,
        args,
        &["flip", "crop", "translate", "rotate"],
        0,
        errors,
    );
    let flip = args.bool_or("flip", false);
    let crop = args.int_or("crop", 0, 0);
    let translate = args.int_or("translate", 0, 0);
    let rotate = args.float_or("rotate", 0.0);
    if let Some(r) = rotate.filter(|r| !(0.0..=180.0).contains(r)) {
        args.invalid(
            "rotate",
            format!("`rotate` is the largest angle in degrees and must be from 0 to 180, found {r}"),
            None,
        );
        return None;
    }
    let augment = Augment {
        flip: flip?,
        crop: crop? as usize,
        translate: translate? as usize,
        rotate: rotate?,
    };
    let input = input?;
    let &[_, h, w] = input.dims() else {
        args.errors().push(
            Diagnostic::error(keyword, format!("`augment` on an input of shape {input}"))
                .with_label("images only")
                .with_help("augmentation moves the pixels of `[channels, height, width]` inputs"),
        );
        return None;
    };
    for (name, n) in [("crop", augment.crop), ("translate", augment.translate)] {
        if n > 0 && n >= h.min(w) {
            args.invalid(
                name,
                format!("`{name} = {n}` would shift the {h} x {w} image out of its frame"),
                Some(format!("use fewer pixels than {}", h.min(w))),
            );
            return None;
        }
    }
    Some(augment)
}
