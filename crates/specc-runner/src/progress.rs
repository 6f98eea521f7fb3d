//! The per-epoch progress bar (indicatif, on stderr), fed by `train::Observer`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use specc_harness::fit::{EpochReport, Observer};

/// Shows a bar for the epoch in progress with its live loss and throughput;
/// draws nothing when `enabled` is false (`--quiet`, or stderr not a terminal).
pub struct Progress {
    enabled: bool,
    epochs: usize,
    bar: Option<(usize, ProgressBar)>,
}

impl Progress {
    pub fn new(enabled: bool, epochs: usize) -> Self {
        Progress {
            enabled,
            epochs,
            bar: None,
        }
    }

    /// Removes the bar, if one is shown.
    pub fn clear(&mut self) {
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn bar_for(&mut self, epoch: usize, total: usize) -> &ProgressBar {
        if self.bar.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.clear();
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} steps  {msg}  {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{epoch}/{}", self.epochs));
            self.bar = Some((epoch, bar));
        }
        &self.bar.as_ref().expect("just set").1
    }
}

impl Observer for Progress {
    fn step(&mut self, epoch: usize, done: usize, total: usize, loss: f64, samples_per_second: f64) {
        if !self.enabled {
            return;
        }
        let bar = self.bar_for(epoch, total);
        bar.set_position(done as u64);
        bar.set_message(format!("loss {loss:.4}  {samples_per_second:.0} samples/s"));
    }

    fn epoch(&mut self, _report: &EpochReport) -> bool {
        self.clear();
        true
    }
}
