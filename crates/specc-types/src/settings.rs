/// A spec's `train(...)` statement: the defaults `specc train` and
/// `specc::fit` start from (the command line overrides each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
    pub shuffle: bool,
    /// Fraction of the training data held out for validation, in [0, 1).
    pub validation: f64,
}

/// The settings of a spec without a `train(...)` statement.
impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 10,
            batch: 32,
            seed: 0,
            shuffle: true,
            validation: 0.0,
        }
    }
}
