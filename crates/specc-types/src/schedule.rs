use alloc::boxed::Box;
use alloc::vec::Vec;

/// What a schedule's `t` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleUnit {
    Epoch,
    Step,
}

/// A learning-rate schedule and the unit its `t` counts (docs/language.md,
/// "Schedule"). `specc_train::schedule` evaluates it.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub unit: ScheduleUnit,
}

/// The schedules; `lr` is the optimizer's base rate and `t` counts `unit`s
/// from 0.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleKind {
    /// `lr gamma^floor(t / every)`
    Step { every: u64, gamma: f64 },
    /// `lr gamma^(number of milestones <= t)`
    MultiStep { milestones: Vec<u64>, gamma: f64 },
    /// `lr gamma^t`
    Exponential { gamma: f64 },
    /// `lr / (1 + k t)^power`
    InverseTime { k: f64, power: f64 },
    /// `end_lr + (lr - end_lr) (1 - min(t, total) / total)^power`
    Polynomial { total: u64, power: f64, end_lr: f64 },
    /// `min_lr + (lr - min_lr) (1 + cos(pi min(t, total) / total)) / 2`
    Cosine { total: u64, min_lr: f64 },
    /// `lr / (1 + exp(-gamma (t - center)))`
    Sigmoid { gamma: f64, center: f64 },
    /// `lr (t + 1) / steps` while `t < steps`, then `then` at `t - steps`,
    /// or `lr` without one.
    Warmup { steps: u64, then: Option<Box<Schedule>> },
    /// Multiplies lr by `factor` when the monitored epoch loss has not
    /// improved by more than `min_delta` for `patience` epochs; never below
    /// `min_lr`.
    Plateau {
        patience: u64,
        factor: f64,
        min_lr: f64,
        min_delta: f64,
    },
}

impl ScheduleKind {
    /// The schedule's name in the spec language.
    pub fn name(&self) -> &'static str {
        match self {
            ScheduleKind::Step { .. } => "step",
            ScheduleKind::MultiStep { .. } => "multistep",
            ScheduleKind::Exponential { .. } => "exponential",
            ScheduleKind::InverseTime { .. } => "inverse_time",
            ScheduleKind::Polynomial { .. } => "polynomial",
            ScheduleKind::Cosine { .. } => "cosine",
            ScheduleKind::Sigmoid { .. } => "sigmoid",
            ScheduleKind::Warmup { .. } => "warmup",
            ScheduleKind::Plateau { .. } => "plateau",
        }
    }
}

impl Schedule {
    /// The counter this schedule reads: `epoch` or `step`, both from 0.
    pub fn t(&self, epoch: u64, step: u64) -> u64 {
        match self.unit {
            ScheduleUnit::Epoch => epoch,
            ScheduleUnit::Step => step,
        }
    }
}
