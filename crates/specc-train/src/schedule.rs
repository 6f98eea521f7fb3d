//! Learning-rate schedules, as plain data the generated `schedule()` returns
//! and a trainer evaluates (docs/language.md, "Schedule").
//!
//! Every schedule but `plateau` is a function of the base rate and a counter
//! `t`: epochs from 0, or optimizer steps from 0 with `unit = step`. `plateau`
//! depends on the losses seen so far; [`Plateau`] is its state machine.

pub use specc_types::{Schedule, ScheduleKind, ScheduleUnit};

/// The learning rate of `schedule` at `epoch` and optimizer `step` (both
/// counted from 0) for the base rate `base_lr`. For `plateau` this is
/// `base_lr`: use [`Plateau::from_schedule`] and [`Plateau::end_epoch`]
/// instead.
///
/// A warmup's `then` schedule sees the warmup's counter shifted back by
/// `steps`; when it counts the other unit, that counter is passed as is.
pub fn rate(schedule: &Schedule, base_lr: f64, epoch: u64, step: u64) -> f64 {
    let t = schedule.t(epoch, step);
    let tf = t as f64;
    match &schedule.kind {
        ScheduleKind::Step { every, gamma } => base_lr * gamma.powf((t / (*every).max(1)) as f64),
        ScheduleKind::MultiStep { milestones, gamma } => {
            let passed = milestones.iter().filter(|&&m| m <= t).count();
            base_lr * gamma.powf(passed as f64)
        }
        ScheduleKind::Exponential { gamma } => base_lr * gamma.powf(tf),
        ScheduleKind::InverseTime { k, power } => base_lr / (1.0 + k * tf).powf(*power),
        ScheduleKind::Polynomial { total, power, end_lr } => {
            let fraction = t.min(*total) as f64 / (*total).max(1) as f64;
            end_lr + (base_lr - end_lr) * (1.0 - fraction).powf(*power)
        }
        ScheduleKind::Cosine { total, min_lr } => {
            let fraction = t.min(*total) as f64 / (*total).max(1) as f64;
            min_lr + (base_lr - min_lr) * (1.0 + (std::f64::consts::PI * fraction).cos()) / 2.0
        }
        ScheduleKind::Sigmoid { gamma, center } => base_lr / (1.0 + (-gamma * (tf - center)).exp()),
        ScheduleKind::Warmup { steps, then } => {
            if t < *steps {
                base_lr * (tf + 1.0) / *steps as f64
            } else if let Some(then) = then {
                let (epoch, step) = match schedule.unit {
                    ScheduleUnit::Epoch => (epoch - steps, step),
                    ScheduleUnit::Step => (epoch, step - steps),
                };
                rate(then, base_lr, epoch, step)
            } else {
                base_lr
            }
        }
        ScheduleKind::Plateau { .. } => base_lr,
    }
}

/// `plateau(patience, factor, min_lr, min_delta)`, as Keras's
/// `ReduceLROnPlateau` (mode `min`, no cooldown): an epoch improves when its
/// loss is below the best so far by more than `min_delta`; after `patience`
/// epochs in a row without improvement the rate is multiplied by `factor`
/// (never below `min_lr`) and the count starts again.
#[derive(Clone, Debug, PartialEq)]
pub struct Plateau {
    pub patience: u64,
    pub factor: f64,
    pub min_lr: f64,
    pub min_delta: f64,
    lr: f64,
    best: f64,
    wait: u64,
}

impl Plateau {
    /// The state machine of a `plateau` schedule starting at `base_lr`;
    /// `None` for every other schedule.
    pub fn from_schedule(schedule: &Schedule, base_lr: f64) -> Option<Plateau> {
        match schedule.kind {
            ScheduleKind::Plateau {
                patience,
                factor,
                min_lr,
                min_delta,
            } => Some(Plateau::new(base_lr, patience, factor, min_lr, min_delta)),
            _ => None,
        }
    }

    pub fn new(base_lr: f64, patience: u64, factor: f64, min_lr: f64, min_delta: f64) -> Self {
        Plateau {
            patience,
            factor,
            min_lr,
            min_delta,
            lr: base_lr,
            best: f64::INFINITY,
            wait: 0,
        }
    }

    /// The current rate.
    pub fn rate(&self) -> f64 {
        self.lr
    }

    /// Records the loss of the epoch that just ended (the validation loss
    /// when there is a validation split) and returns the rate for the next.
    pub fn end_epoch(&mut self, loss: f64) -> f64 {
        if loss < self.best - self.min_delta {
            self.best = loss;
            self.wait = 0;
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                self.wait = 0;
                if self.lr > self.min_lr {
                    self.lr = (self.lr * self.factor).max(self.min_lr);
                }
            }
        }
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epochs(kind: ScheduleKind) -> Schedule {
        Schedule {
            kind,
            unit: ScheduleUnit::Epoch,
        }
    }

    /// Checks `schedule.rate` at t = 0..n (in epochs and, with `unit = step`,
    /// in steps) against `expected(t)`.
    fn check(kind: ScheduleKind, lr: f64, n: u64, expected: impl Fn(f64) -> f64) {
        for unit in [ScheduleUnit::Epoch, ScheduleUnit::Step] {
            let s = Schedule {
                kind: kind.clone(),
                unit,
            };
            for t in 0..=n {
                let (epoch, step) = match unit {
                    ScheduleUnit::Epoch => (t, 1000 + 7 * t),
                    ScheduleUnit::Step => (1000 + 7 * t, t),
                };
                let (got, want) = (rate(&s, lr, epoch, step), expected(t as f64));
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs(),
                    "{kind:?} ({unit:?}) at t = {t}: {got}, expected {want}"
                );
            }
        }
    }

    #[test]
    fn step_decays_every_few_epochs() {
        check(ScheduleKind::Step { every: 3, gamma: 0.5 }, 0.1, 10, |t| {
            0.1 * 0.5f64.powf((t / 3.0).floor())
        });
        let s = epochs(ScheduleKind::Step { every: 3, gamma: 0.5 });
        let rates: Vec<f64> = (0..7).map(|t| rate(&s, 0.1, t, 0)).collect();
        assert_eq!(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    }

    #[test]
    fn multistep_counts_passed_milestones() {
        let kind = ScheduleKind::MultiStep {
            milestones: vec![2, 5, 6],
            gamma: 0.1,
        };
        check(kind.clone(), 1.0, 8, |t| match t as u64 {
            0 | 1 => 1.0,
            2..=4 => 0.1,
            5 => 0.1 * 0.1,
            _ => 0.1 * 0.1 * 0.1,
        });
    }

    #[test]
    fn exponential_inverse_time_and_sigmoid_follow_their_formulas() {
        check(ScheduleKind::Exponential { gamma: 0.95 }, 0.2, 20, |t| {
            0.2 * 0.95f64.powf(t)
        });
        check(ScheduleKind::InverseTime { k: 0.5, power: 2.0 }, 0.2, 20, |t| {
            0.2 / ((1.0 + 0.5 * t) * (1.0 + 0.5 * t))
        });
        check(
            ScheduleKind::Sigmoid {
                gamma: 0.3,
                center: 4.0,
            },
            0.2,
            20,
            |t| 0.2 / (1.0 + (-0.3 * (t - 4.0)).exp()),
        );
    }

    #[test]
    fn polynomial_decays_to_end_lr_and_stays() {
        let kind = ScheduleKind::Polynomial {
            total: 8,
            power: 2.0,
            end_lr: 0.01,
        };
        check(kind, 0.1, 15, |t| {
            let t = t.min(8.0);
            0.01 + (0.1 - 0.01) * (1.0 - t / 8.0) * (1.0 - t / 8.0)
        });
        let s = epochs(ScheduleKind::Polynomial {
            total: 8,
            power: 1.0,
            end_lr: 0.0,
        });
        assert_eq!(rate(&s, 0.1, 4, 0), 0.05);
        assert_eq!(rate(&s, 0.1, 8, 0), 0.0);
        assert_eq!(rate(&s, 0.1, 100, 0), 0.0);
    }

    #[test]
    fn cosine_anneals_to_min_lr_and_stays() {
        let kind = ScheduleKind::Cosine {
            total: 10,
            min_lr: 0.001,
        };
        check(kind, 0.1, 15, |t| {
            let t = t.min(10.0);
            0.001 + (0.1 - 0.001) * (1.0 + (std::f64::consts::PI * t / 10.0).cos()) / 2.0
        });
        let s = epochs(ScheduleKind::Cosine {
            total: 10,
            min_lr: 0.001,
        });
        assert_eq!(rate(&s, 0.1, 0, 0), 0.1);
        assert!((rate(&s, 0.1, 5, 0) - 0.0505).abs() < 1e-15);
        assert_eq!(rate(&s, 0.1, 10, 0), 0.001);
        assert_eq!(rate(&s, 0.1, 50, 0), 0.001);
    }

    #[test]
    fn warmup_ramps_then_holds() {
        let kind = ScheduleKind::Warmup { steps: 4, then: None };
        check(
            kind,
            0.1,
            10,
            |t| if t < 4.0 { 0.1 * (t + 1.0) / 4.0 } else { 0.1 },
        );
    }

    #[test]
    fn warmup_then_cosine_shifts_t() {
        let then = Schedule {
            kind: ScheduleKind::Cosine {
                total: 6,
                min_lr: 0.0,
            },
            unit: ScheduleUnit::Step,
        };
        let s = Schedule {
            kind: ScheduleKind::Warmup {
                steps: 3,
                then: Some(Box::new(then)),
            },
            unit: ScheduleUnit::Step,
        };
        for step in 0..15u64 {
            let want = if step < 3 {
                0.4 * (step as f64 + 1.0) / 3.0
            } else {
                let t = (step - 3).min(6) as f64;
                0.4 * (1.0 + (std::f64::consts::PI * t / 6.0).cos()) / 2.0
            };
            let got = rate(&s, 0.4, 2, step);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "step {step}: {got} vs {want}"
            );
        }
        // The last warmup step reaches the base rate, and so does the first
        // step of the cosine.
        assert!((rate(&s, 0.4, 0, 2) - 0.4).abs() < 1e-15);
        assert_eq!(rate(&s, 0.4, 0, 3), 0.4);
    }

    #[test]
    fn warmup_in_steps_then_a_schedule_in_epochs() {
        let then = Schedule {
            kind: ScheduleKind::Exponential { gamma: 0.5 },
            unit: ScheduleUnit::Epoch,
        };
        let s = Schedule {
            kind: ScheduleKind::Warmup {
                steps: 10,
                then: Some(Box::new(then)),
            },
            unit: ScheduleUnit::Step,
        };
        assert_eq!(rate(&s, 1.0, 0, 4), 0.5);
        // After the warmup, the epoch schedule reads the epoch counter.
        assert_eq!(rate(&s, 1.0, 2, 25), 0.25);
    }

    #[test]
    fn plateau_rate_is_the_base_rate_and_others_have_no_state_machine() {
        let p = epochs(ScheduleKind::Plateau {
            patience: 2,
            factor: 0.5,
            min_lr: 0.01,
            min_delta: 0.0,
        });
        assert_eq!(rate(&p, 0.1, 7, 70), 0.1);
        assert!(Plateau::from_schedule(&p, 0.1).is_some());
        let exponential = epochs(ScheduleKind::Exponential { gamma: 0.9 });
        assert!(Plateau::from_schedule(&exponential, 0.1).is_none());
    }

    #[test]
    fn plateau_reduces_after_patience_epochs_without_improvement() {
        let s = epochs(ScheduleKind::Plateau {
            patience: 2,
            factor: 0.5,
            min_lr: 0.02,
            min_delta: 0.01,
        });
        let mut p = Plateau::from_schedule(&s, 0.1).unwrap();
        assert_eq!(p.rate(), 0.1);
        let losses = [
            1.0,   // best 1.0
            0.95,  // improves by more than min_delta: best 0.95
            0.945, // by less than min_delta: wait 1
            0.96,  // wait 2: reduce to 0.05
            0.93,  // improves: best 0.93
            0.93,  // wait 1
            0.925, // wait 2: reduce to 0.025
            0.93,  // wait 1
            0.99,  // wait 2: 0.0125 floored at 0.02
            0.5,   // improves
            0.6,   // wait 1
            0.6,   // wait 2: stays at the floor
        ];
        let expected = [
            0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02,
        ];
        for (epoch, (&loss, &want)) in losses.iter().zip(&expected).enumerate() {
            assert_eq!(p.end_epoch(loss), want, "epoch {epoch}, loss {loss}");
            assert_eq!(p.rate(), want);
        }
    }

    #[test]
    fn plateau_with_zero_patience_reduces_on_every_flat_epoch() {
        let mut p = Plateau::new(1.0, 0, 0.5, 0.0, 0.0);
        assert_eq!(p.end_epoch(1.0), 1.0);
        assert_eq!(p.end_epoch(1.0), 0.5);
        assert_eq!(p.end_epoch(1.0), 0.25);
        assert_eq!(p.end_epoch(0.5), 0.25);
    }
}
