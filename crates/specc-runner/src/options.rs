//! The command line's values: parsers that say why a value is refused, and
//! the memory limit that train and eval check before they allocate.

use crate::RunnerError;

/// A count that must be at least 1: `--epochs`, `--batch`, `--samples`.
pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number of at least 1, not `{text}`")),
    }
}

/// `--lr`: a positive finite number that stays positive and finite in f32,
/// the precision the model trains in.
pub(crate) fn learning_rate(text: &str) -> Result<f64, String> {
    let lr: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    let as_f32 = lr as f32;
    if !(lr.is_finite() && lr > 0.0) {
        Err(format!("must be a positive number, not {text}"))
    } else if as_f32 == 0.0 || !as_f32.is_finite() {
        Err(format!(
            "{text} is {as_f32} in f32, the precision the model trains in"
        ))
    } else {
        Ok(lr)
    }
}

/// `--seconds`: a finite number of seconds in (0, 3600].
pub(crate) fn bench_seconds(text: &str) -> Result<f64, String> {
    let s: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if s.is_finite() && s > 0.0 && s <= 3600.0 {
        Ok(s)
    } else {
        Err(format!(
            "must be more than 0 and at most 3600 seconds, not {text}"
        ))
    }
}

/// The memory limit without `--max-memory`, as in `specc check`.
pub const DEFAULT_MAX_MEMORY: u64 = 16 << 30;

pub(crate) fn memory_bytes(text: &str) -> Result<u64, String> {
    if text == "unlimited" {
        return Ok(u64::MAX);
    }
    text.parse::<u64>()
        .ok()
        .filter(|&b| b >= 1)
        .ok_or_else(|| format!("expected a number of bytes or `unlimited`, not `{text}`"))
}

/// An error unless `bytes` (None: beyond counting) fits in `limit`.
pub(crate) fn check_memory(what: &str, bytes: Option<u64>, limit: u64) -> Result<(), RunnerError> {
    let gib = |b: u64| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64);
    match bytes {
        Some(b) if b <= limit => Ok(()),
        _ => Err(RunnerError::Invalid(format!(
            "{what} needs about {}, more than the limit of {}; use less, or raise the limit with --max-memory \
             (SPECC_MAX_MEMORY for specc)",
            bytes.map_or("more than 16 EiB".to_string(), gib),
            gib(limit)
        ))),
    }
}
