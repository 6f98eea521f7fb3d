//! What the checker refuses beyond the language's own rules: models too large
//! to train. (How deeply text may nest is the parser's
//! [`MAX_NESTING`](crate::parser::MAX_NESTING).)
//!
//! Every size the checker computes (elements, parameters, FLOPs, bytes) is
//! computed in checked arithmetic, so a spec whose sizes overflow is an error
//! at the layer, never a wrapped number; a model whose training memory
//! exceeds [`Limits::max_memory`] is an error at the layer where the running
//! total crosses it.

use std::fmt;

/// The checker's limits; [`Limits::default`] unless the caller says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes a model may need to train at its batch size (see
    /// [`CheckedModel::training_memory`](crate::CheckedModel::training_memory));
    /// `u64::MAX` for no limit.
    pub max_memory: u64,
}

/// The default memory limit: 16 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 16 << 30;

/// The environment variable that overrides the memory limit for the CLI, the
/// `model!` macro and the build helper alike.
pub const MAX_MEMORY_ENV: &str = "SPECC_MAX_MEMORY";

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

impl Limits {
    /// The default limits, with `SPECC_MAX_MEMORY` applied when it is set.
    pub fn from_env() -> Result<Limits, String> {
        let mut limits = Limits::default();
        if let Some(value) = std::env::var_os(MAX_MEMORY_ENV) {
            let text = value.to_string_lossy();
            limits.max_memory = parse_size(&text).map_err(|e| format!("{MAX_MEMORY_ENV}={text:?}: {e}"))?;
        }
        Ok(limits)
    }
}

/// `16GiB`, `512 MiB`, `2G`, `1.5e9`, `123456` (bytes) or `unlimited`.
/// `K`, `M`, `G`, `T` and their `iB` forms are powers of 1024; `KB`, `MB`,
/// `GB`, `TB` are powers of 1000.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("none") {
        return Ok(u64::MAX);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| "expected a size such as `16GiB`, `512MiB` or `unlimited`".to_string())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
            ));
        }
    };
    let bytes = number * scale;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err("a size must be at least 1 byte".to_string());
    }
    // Sizes beyond u64 mean "no limit" in practice; saturate rather than fail.
    Ok(if bytes >= u64::MAX as f64 {
        u64::MAX
    } else {
        bytes as u64
    })
}

/// Bytes in binary units: `684 B`, `2.65 MiB`, `11.4 TiB`.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.2} {}", UNITS[unit])
    }
}

/// `a * b * ...` in `usize`, or `None` when it does not fit.
pub fn product(factors: &[usize]) -> Option<usize> {
    factors.iter().try_fold(1usize, |acc, &f| acc.checked_mul(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(parse_size("16GiB"), Ok(16 << 30));
        assert_eq!(parse_size("16 G"), Ok(16 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5e3"), Ok(1500));
        assert_eq!(parse_size("unlimited"), Ok(u64::MAX));
        assert_eq!(parse_size("1e30"), Ok(u64::MAX));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("12 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("").is_err());
    }

    #[test]
    fn bytes_print_in_binary_units() {
        assert_eq!(Bytes(684).to_string(), "684 B");
        assert_eq!(Bytes(2_775_848).to_string(), "2.65 MiB");
        assert_eq!(Bytes(16 << 30).to_string(), "16.00 GiB");
        assert_eq!(Bytes(u64::MAX).to_string(), "16.00 EiB");
    }

    #[test]
    fn products_overflow_to_none() {
        assert_eq!(product(&[2, 3, 4]), Some(24));
        assert_eq!(product(&[]), Some(1));
        assert_eq!(product(&[usize::MAX, 2]), None);
    }
}
