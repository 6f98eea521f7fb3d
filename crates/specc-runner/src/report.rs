//! The text and rows `train` and `eval` report metrics in.

use specc_harness::fit::{EpochReport, Metrics};

use crate::chart::HistoryRow;

/// `5780.3` as `5,780`.
pub(crate) fn thousands(x: f64) -> String {
    let n = x.round().max(0.0) as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn metric_text(m: &Metrics, prefix: &str) -> String {
    let mut s = format!("{prefix}loss {:.4}", m.loss);
    if let Some(a) = m.accuracy {
        s += &format!("  {prefix}accuracy {:.2}%", 100.0 * a);
    }
    if let Some(e) = m.mean_absolute_error {
        s += &format!("  {prefix}mean abs error {e:.4}");
    }
    s
}

pub(crate) fn epoch_line(r: &EpochReport, epochs: usize, heldout_name: &str) -> String {
    let mut s = format!("epoch {}/{epochs}  {}", r.epoch, metric_text(&r.train, ""));
    if let Some(v) = &r.validation {
        s += &format!("  {}", metric_text(v, &format!("{heldout_name} ")));
    }
    s += &format!(
        "  {} samples/s  lr {}  {:.1}s (data {:.1}s)",
        thousands(r.samples_per_second),
        rate_text(r.learning_rate),
        r.seconds,
        r.data_seconds
    );
    s
}

/// A learning rate to four significant digits: `0.01`, `0.002013`,
/// `7.943e-8` (a schedule's rates have many more).
fn rate_text(rate: f64) -> String {
    if rate == 0.0 || !rate.is_finite() {
        return rate.to_string();
    }
    let digits = 3 - rate.abs().log10().floor() as i32;
    if (0..=8).contains(&digits) {
        let text = format!("{rate:.*}", digits as usize);
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        text.to_string()
    } else {
        format!("{rate:.3e}")
    }
}

#[cfg(test)]
mod rate_tests {
    use super::rate_text;

    #[test]
    fn rates_print_with_four_significant_digits() {
        assert_eq!(rate_text(0.01), "0.01");
        assert_eq!(rate_text(0.0020133683798286848), "0.002013");
        assert_eq!(rate_text(0.001), "0.001");
        assert_eq!(rate_text(0.00000007942891462731084), "7.943e-8");
        assert_eq!(rate_text(1.5), "1.5");
        assert_eq!(rate_text(0.0), "0");
    }
}

pub(crate) fn history_row(r: &EpochReport) -> HistoryRow {
    let metric = |m: &Metrics| m.accuracy.or(m.mean_absolute_error);
    HistoryRow {
        epoch: r.epoch,
        train_loss: r.train.loss,
        train_metric: metric(&r.train),
        heldout_loss: r.validation.map(|v| v.loss),
        heldout_metric: r.validation.as_ref().and_then(metric),
        lr: r.learning_rate,
        samples_per_s: r.samples_per_second,
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(5780.3), "5,780");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
