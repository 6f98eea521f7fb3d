//! The training loop shared by `specc train`, the tests and users' programs
//! ([`Trainer`], and [`fit`] on top of it): mini-batches in a seeded order,
//! the learning-rate schedule, per-epoch metrics, and a clear stop on a
//! non-finite loss.

use crate::confusion::Confusion;
use crate::data::augment::{Augment, Augmenter};
use crate::data::{Batch, DataError, Samples};
use specc_core::simd::with_precision;
use specc_train::schedule::{self, Plateau, Schedule};
use specc_train::{EarlyStop, Model, Monitor, Rng, TargetKind};
use specc_types::Precision;
use std::fmt;
use std::time::Instant;

/// How to train.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub epochs: usize,
    pub batch: usize,
    /// Fixes the shuffling order and the dropout masks of every epoch.
    pub seed: u64,
    pub shuffle: bool,
    /// The optimizer's base learning rate.
    pub learning_rate: f64,
    pub schedule: Option<Schedule>,
    /// The precision of the dense and convolution products in every step
    /// and in validation ([`Precision::Bf16`]: mixed precision).
    pub precision: Precision,
    /// Stop once the monitored metric has not improved for `patience`
    /// epochs; [`EpochReport::best`] marks the epochs to keep.
    pub early_stop: Option<EarlyStop>,
    /// Random changes to every training batch's images (the spec's
    /// `augment(...)`); never to validation data.
    pub augment: Augment,
}

/// Training stops, as on a NaN loss, when a step's loss exceeds this many
/// times the reference loss (the first step's, at least 1): a loss grown by
/// six orders of magnitude has diverged, and every further step only moves
/// the weights towards overflow. Cross-entropy starting at 2.3 stops above
/// 2.3e6; a regression whose first loss is 1e10 stops above 1e16.
pub const DIVERGENCE_FACTOR: f64 = 1e6;

impl FitOptions {
    /// The spec's own settings: its `train(...)` defaults, learning rate and schedule.
    pub fn for_model<M: Model>() -> Self {
        let t = M::TRAIN;
        FitOptions {
            epochs: t.epochs,
            batch: t.batch,
            seed: t.seed,
            shuffle: t.shuffle,
            learning_rate: M::LEARNING_RATE,
            schedule: M::schedule(),
            precision: t.precision,
            early_stop: t.early_stop,
            augment: M::DATA.augment,
        }
    }
}

/// Loss and, where they apply, accuracy (classifiers) or mean absolute error
/// (regression) over a data set.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    pub loss: f64,
    pub accuracy: Option<f64>,
    pub mean_absolute_error: Option<f64>,
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.4}", self.loss)?;
        if let Some(a) = self.accuracy {
            write!(f, ", accuracy {:.2}%", 100.0 * a)?;
        }
        if let Some(e) = self.mean_absolute_error {
            write!(f, ", mean absolute error {e:.4}")?;
        }
        Ok(())
    }
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// Counted from 1.
    pub epoch: usize,
    /// Mean training loss and the running accuracy or error of the epoch's steps.
    pub train: Metrics,
    /// Metrics on the held-out data, in inference mode.
    pub validation: Option<Metrics>,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
    pub samples_per_second: f64,
    pub seconds: f64,
    /// The loss divergence was judged against ([`TrainerState::reference_loss`]).
    pub reference_loss: f64,
    /// With early stopping, whether this epoch is the best so far by the
    /// monitored metric (the model to keep).
    pub best: bool,
    /// Of `seconds`, the time spent gathering and augmenting batches (the
    /// data pipeline), the rest being the model's steps.
    pub data_seconds: f64,
}

/// Why training stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// The loss became NaN or infinite; the model's parameters are those
    /// before that step.
    NonFiniteLoss { epoch: usize, step: usize, loss: f64 },
    /// The loss grew past [`DIVERGENCE_FACTOR`] times `reference`; the
    /// parameters are those before that step.
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
        reference: f64,
    },
    /// Reading a batch failed (a streamed file that went missing or
    /// changed since it was listed); `message` says which file and why.
    Data { epoch: usize, message: String },
    /// Training was asked to do nothing sensible.
    Invalid(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::NonFiniteLoss { epoch, step, loss } => write!(
                f,
                "the loss became {loss} at epoch {epoch}, step {step}; training stopped before applying that step \
                 (try a lower learning rate, `clip norm(...)`, or check the data for extreme values)"
            ),
            TrainError::Diverged {
                epoch,
                step,
                loss,
                reference,
            } => write!(
                f,
                "the loss grew to {loss:e} at epoch {epoch}, step {step}, more than {DIVERGENCE_FACTOR:e} times \
                 {reference:e}, the loss it started from: training diverged and stopped before applying that step \
                 (try a lower learning rate or `clip norm(...)`)"
            ),
            TrainError::Data { epoch, message } => write!(
                f,
                "reading the data failed in epoch {epoch}: {message}; training stopped before that step"
            ),
            TrainError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for TrainError {}

/// Receives progress; every method has a default that does nothing.
pub trait Observer {
    /// After each step: the epoch (from 1), steps done and total in it, the
    /// step's loss and the epoch's throughput so far.
    fn step(&mut self, _epoch: usize, _done: usize, _total: usize, _loss: f64, _samples_per_second: f64) {}
    /// After each epoch; return `false` to stop training.
    fn epoch(&mut self, _report: &EpochReport) -> bool {
        true
    }
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Accumulates metrics over batches from a model's raw outputs (logits).
struct MetricSum {
    kind: TargetKind,
    loss: f64,
    samples: usize,
    correct: f64,
    judged: usize,
    absolute_error: f64,
    /// For classifiers (a binary one with one output), the confusion matrix.
    confusion: Option<Confusion>,
}

impl MetricSum {
    fn new(kind: TargetKind, output_len: usize) -> Self {
        MetricSum {
            kind,
            loss: 0.0,
            samples: 0,
            correct: 0.0,
            judged: 0,
            absolute_error: 0.0,
            confusion: match kind {
                TargetKind::Classes { classes } => Some(Confusion::new(classes)),
                TargetKind::Binary if output_len == 1 => Some(Confusion::new(2)),
                _ => None,
            },
        }
    }

    fn add<F: specc_core::Float>(&mut self, loss: f64, outputs: &[F], batch: &Batch<F>) {
        let n = batch.len();
        self.loss += loss * n as f64;
        self.samples += n;
        match (self.kind, batch.targets()) {
            (TargetKind::Classes { classes }, specc_train::Targets::Classes(labels)) => {
                for (row, &label) in outputs.chunks_exact(classes).zip(labels) {
                    let best = (0..classes).fold(0, |b, j| if row[j] > row[b] { j } else { b });
                    self.correct += f64::from(u8::from(best == label as usize));
                    if let Some(c) = &mut self.confusion {
                        c.add(label as usize, best);
                    }
                }
                self.judged += n;
            }
            (TargetKind::Binary, specc_train::Targets::Values(targets)) => {
                // Logits: positive means class 1.
                for (&z, &t) in outputs.iter().zip(targets) {
                    let (predicted, actual) = (z > F::ZERO, t > F::from_f64(0.5));
                    self.correct += f64::from(u8::from(predicted == actual));
                    if let Some(c) = &mut self.confusion {
                        c.add(usize::from(actual), usize::from(predicted));
                    }
                }
                self.judged += targets.len();
            }
            (_, specc_train::Targets::Values(targets)) => {
                for (&y, &t) in outputs.iter().zip(targets) {
                    self.absolute_error += (y - t).abs().to_f64();
                }
                self.judged += targets.len();
            }
            _ => {}
        }
    }

    fn metrics(&self) -> Metrics {
        let judged = self.judged.max(1) as f64;
        let classifier = matches!(self.kind, TargetKind::Classes { .. } | TargetKind::Binary);
        Metrics {
            loss: self.loss / self.samples.max(1) as f64,
            accuracy: classifier.then(|| self.correct / judged),
            mean_absolute_error: (!classifier).then(|| self.absolute_error / judged),
        }
    }
}

/// Loss and accuracy (or error) of `model` on `data`, in inference mode.
/// Fails only when a streamed source cannot read a sample.
pub fn evaluate<M: Model<F = f32>>(
    model: &mut M,
    data: &dyn Samples,
    batch_size: usize,
) -> Result<Metrics, DataError> {
    Ok(evaluate_classes(model, data, batch_size)?.0)
}

/// [`evaluate`], and for a classifier (a binary one with one output) the
/// confusion matrix of its predictions (the largest output's class; for
/// binary models, class 1 when the logit is positive).
pub fn evaluate_classes<M: Model<F = f32>>(
    model: &mut M,
    data: &dyn Samples,
    batch_size: usize,
) -> Result<(Metrics, Option<Confusion>), DataError> {
    let batch_size = batch_size.max(1).min(data.len().max(1));
    let mut buffers = batch_buffers(data, batch_size);
    let mut sum = MetricSum::new(M::TARGETS, M::output_len());
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut step = |_: usize, chunk: &[usize], batch: &Batch<f32>| {
        let loss = model.evaluation_loss(batch.inputs(), batch.targets(), chunk.len());
        sum.add(loss, model.last_output(), batch);
        Ok(())
    };
    for_each_batch(
        data,
        &indices,
        batch_size,
        &mut buffers,
        &mut |_, _| {},
        &mut step,
        &|e| e,
    )?;
    Ok((sum.metrics(), sum.confusion))
}

/// What is done to a batch once read (augmentation), on the reading thread.
type Prepare<'a> = dyn FnMut(&[usize], &mut Batch<f32>) + Send + 'a;

/// A step on batch `i` of the samples at `indices`.
type Step<'a, E> = dyn FnMut(usize, &[usize], &Batch<f32>) -> Result<(), E> + 'a;

/// How many batches a streamed source is read ahead of the step.
pub const PREFETCH: usize = 2;

/// The batch buffers [`for_each_batch`] cycles through for `data`: one for
/// data in memory, one more than [`PREFETCH`] for a streamed source.
fn batch_buffers(data: &dyn Samples, batch_size: usize) -> Vec<Batch<f32>> {
    let count = if data.is_streamed() { PREFETCH + 1 } else { 1 };
    (0..count).map(|_| Batch::new(data, batch_size)).collect()
}

/// Runs `step(i, indices, batch)` on the batches of the samples at `order`,
/// `batch_size` at a time, in order, each read from `data` and then passed
/// through `prepare` (augmentation). Data in memory is read on this thread
/// between steps; a streamed source is read on another thread, up to
/// [`PREFETCH`] batches ahead, so that decoding files overlaps the steps.
/// The batches are the same either way. Returns the seconds the steps
/// waited for their batches; a sample that cannot be read ends the loop
/// with `read_error` of its error.
fn for_each_batch<E>(
    data: &dyn Samples,
    order: &[usize],
    batch_size: usize,
    buffers: &mut Vec<Batch<f32>>,
    prepare: &mut Prepare<'_>,
    step: &mut Step<'_, E>,
    read_error: &dyn Fn(DataError) -> E,
) -> Result<f64, E> {
    let mut waited = 0.0;
    if buffers.len() < 2 {
        if buffers.is_empty() {
            buffers.push(Batch::new(data, batch_size));
        }
        let batch = &mut buffers[0];
        for (i, chunk) in order.chunks(batch_size).enumerate() {
            let started = Instant::now();
            data.gather(chunk, batch).map_err(read_error)?;
            prepare(chunk, batch);
            waited += started.elapsed().as_secs_f64();
            step(i, chunk, batch)?;
        }
        return Ok(waited);
    }
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<Result<Batch<f32>, DataError>>(buffers.len());
    let (free_tx, free_rx) = sync_channel::<Batch<f32>>(buffers.len());
    for b in buffers.drain(..) {
        free_tx.send(b).expect("the channel holds every buffer");
    }
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            for chunk in order.chunks(batch_size) {
                let Ok(mut batch) = free_rx.recv() else { break };
                let read = data.gather(chunk, &mut batch).map(|()| {
                    prepare(chunk, &mut batch);
                    batch
                });
                let failed = read.is_err();
                if full_tx.send(read).is_err() || failed {
                    break;
                }
            }
            drop(full_tx);
            // The buffers come back once the steps are done with them.
            free_rx.into_iter().collect::<Vec<_>>()
        });
        let mut outcome = Ok(());
        for (i, chunk) in order.chunks(batch_size).enumerate() {
            let started = Instant::now();
            let batch = match full_rx.recv() {
                Ok(Ok(batch)) => batch,
                Ok(Err(e)) => {
                    outcome = Err(read_error(e));
                    break;
                }
                Err(_) => {
                    outcome = Err(read_error(DataError::Invalid(
                        "the data reader thread stopped".into(),
                    )));
                    break;
                }
            };
            waited += started.elapsed().as_secs_f64();
            outcome = step(i, chunk, &batch);
            // The reader may have finished and gone: then the buffer is dropped.
            let _ = free_tx.send(batch);
            if outcome.is_err() {
                break;
            }
        }
        drop(free_tx);
        drop(full_rx);
        match reader.join() {
            Ok(back) => *buffers = back,
            Err(_) if outcome.is_ok() => {
                outcome = Err(read_error(DataError::Invalid(
                    "the data reader thread panicked".into(),
                )));
            }
            Err(_) => {}
        }
        outcome.map(|()| waited)
    })
}

/// What a [`Trainer`] carries from one epoch to the next: all that resuming
/// from a checkpoint needs besides the model (whose parameters, optimizer
/// state, step count and learning rate the checkpoint holds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainerState {
    /// Epochs completed. The next epoch's shuffle and dropout masks are
    /// those an uninterrupted run would have used.
    pub epoch: usize,
    /// The loss divergence is judged against (see [`DIVERGENCE_FACTOR`]):
    /// the first step's loss of this run, `None` before it.
    pub reference_loss: Option<f64>,
    /// The loss a `plateau` schedule watched at the end of each epoch so
    /// far (the validation loss when there is validation data), from which
    /// its state is rebuilt.
    pub monitored_losses: Vec<f64>,
    /// With early stopping, the best epoch so far and its monitored value.
    pub best: Option<(usize, f64)>,
}

impl TrainerState {
    /// Whether early stopping has ended the run: `stop.patience` epochs
    /// have gone by since the best one.
    pub fn stopped_early(&self, stop: Option<&EarlyStop>) -> bool {
        match (stop, self.best) {
            (Some(stop), Some((best, _))) => self.epoch >= best + stop.patience,
            _ => false,
        }
    }
}

/// The training loop, one epoch per [`run_epoch`](Trainer::run_epoch):
/// mini-batches in a seeded order, the learning-rate schedule (a plateau's
/// state machine included), validation and divergence checks. [`fit`] runs
/// it to the end; `specc train` checkpoints between epochs.
pub struct Trainer<'d> {
    options: FitOptions,
    train: &'d dyn Samples,
    validation: Option<&'d dyn Samples>,
    batch_size: usize,
    buffers: Vec<Batch<f32>>,
    order: Vec<usize>,
    plateau: Option<Plateau>,
    augmenter: Option<Augmenter>,
    state: TrainerState,
}

impl<'d> Trainer<'d> {
    /// A trainer for `options.epochs` epochs in all, going on from `state`
    /// ([`TrainerState::default`] for a fresh run).
    pub fn new(
        options: FitOptions,
        train: &'d dyn Samples,
        validation: Option<&'d dyn Samples>,
        state: TrainerState,
    ) -> Result<Self, TrainError> {
        if options.batch == 0 {
            return Err(TrainError::Invalid("the batch size must be at least 1".into()));
        }
        if train.is_empty() {
            return Err(TrainError::Invalid("the training set is empty".into()));
        }
        if let Some(stop) = &options.early_stop
            && stop.monitor.needs_heldout()
            && validation.is_none_or(|v| v.is_empty())
        {
            return Err(TrainError::Invalid(format!(
                "early stopping monitors {} and there is no held-out data: hold some out with \
                 `train(validation = 0.1)`, use data with a test split, or monitor `loss`",
                stop.monitor
            )));
        }
        let augmenter = match (options.augment.is_none(), train.sample_shape()) {
            (true, _) => None,
            (false, &[c, h, w]) => Augmenter::new(options.augment, [c, h, w]),
            (false, _) => {
                return Err(TrainError::Invalid(format!(
                    "augmentation moves the pixels of images, and the training samples have shape {:?}",
                    train.sample_shape()
                )));
            }
        };
        let batch_size = options.batch.min(train.len());
        let mut plateau = options
            .schedule
            .as_ref()
            .and_then(|s| Plateau::from_schedule(s, options.learning_rate));
        if let Some(p) = plateau.as_mut() {
            for &loss in &state.monitored_losses {
                p.end_epoch(loss);
            }
        }
        Ok(Trainer {
            buffers: batch_buffers(train, batch_size),
            order: (0..train.len()).collect(),
            options,
            train,
            validation,
            batch_size,
            plateau,
            augmenter,
            state,
        })
    }

    /// Where training stands.
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// The options it trains with.
    pub fn options(&self) -> &FitOptions {
        &self.options
    }

    /// Whether every epoch has run, or early stopping has ended the run.
    pub fn is_done(&self) -> bool {
        self.state.epoch >= self.options.epochs || self.stopped_early()
    }

    /// Whether early stopping has ended the run.
    pub fn stopped_early(&self) -> bool {
        self.state.stopped_early(self.options.early_stop.as_ref())
    }

    /// The learning rate of `step` (counted over the whole run) in `epoch`
    /// (from 1).
    fn rate(plateau: Option<&Plateau>, options: &FitOptions, epoch: usize, step: u64) -> f64 {
        match (plateau, &options.schedule) {
            (Some(p), _) => p.rate(),
            (None, Some(s)) => schedule::rate(s, options.learning_rate, (epoch - 1) as u64, step),
            (None, None) => options.learning_rate,
        }
    }

    /// Trains `model` for the next epoch and reports it (to `observer`
    /// too, step by step), in the options' precision. On a non-finite or
    /// diverging loss the model keeps the parameters from before that step
    /// and the state does not advance.
    pub fn run_epoch<M: Model<F = f32>>(
        &mut self,
        model: &mut M,
        observer: &mut impl Observer,
    ) -> Result<EpochReport, TrainError> {
        with_precision(self.options.precision, || {
            self.run_epoch_in_precision(model, observer)
        })
    }

    fn run_epoch_in_precision<M: Model<F = f32>>(
        &mut self,
        model: &mut M,
        observer: &mut impl Observer,
    ) -> Result<EpochReport, TrainError> {
        let epoch = self.state.epoch + 1;
        let (train, batch_size) = (self.train, self.batch_size);
        let steps_per_epoch = train.len().div_ceil(batch_size);
        let started = Instant::now();
        if self.options.shuffle {
            self.order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
            Rng::derive(self.options.seed, &format!("shuffle {epoch}")).shuffle(&mut self.order);
        }
        model.reseed_dropout(self.options.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut sum = MetricSum::new(M::TARGETS, M::output_len());
        let mut reference = self.state.reference_loss;
        let (options, plateau) = (&self.options, self.plateau.as_ref());
        let seed = options.seed;
        let augmenter = &mut self.augmenter;
        let mut prepare = |chunk: &[usize], batch: &mut Batch<f32>| {
            if let Some(a) = augmenter.as_mut() {
                a.batch(batch.inputs_mut(), chunk, seed, epoch);
            }
        };
        let mut step = |step: usize, chunk: &[usize], batch: &Batch<f32>| {
            let global_step = ((epoch - 1) * steps_per_epoch + step) as u64;
            model.set_learning_rate(Self::rate(plateau, options, epoch, global_step));
            let loss = model.loss_and_gradients(batch.inputs(), batch.targets(), chunk.len());
            if !loss.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    loss,
                });
            }
            let reference = *reference.get_or_insert(loss);
            if loss > DIVERGENCE_FACTOR * reference.max(1.0) {
                return Err(TrainError::Diverged {
                    epoch,
                    step: step + 1,
                    loss,
                    reference,
                });
            }
            model.apply_gradients();
            sum.add(loss, model.last_output(), batch);
            let elapsed = started.elapsed().as_secs_f64().max(1e-9);
            observer.step(
                epoch,
                step + 1,
                steps_per_epoch,
                loss,
                sum.samples as f64 / elapsed,
            );
            Ok(())
        };
        let data_seconds = for_each_batch(
            train,
            &self.order,
            batch_size,
            &mut self.buffers,
            &mut prepare,
            &mut step,
            &|e| TrainError::Data {
                epoch,
                message: e.to_string(),
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let validation = match self.validation.filter(|v| !v.is_empty()) {
            Some(v) => Some(evaluate(model, v, batch_size).map_err(|e| TrainError::Data {
                epoch,
                message: e.to_string(),
            })?),
            None => None,
        };
        let train_metrics = sum.metrics();
        let monitored = validation.map_or(train_metrics.loss, |m| m.loss);
        if let Some(p) = self.plateau.as_mut() {
            p.end_epoch(monitored);
        }
        let best = self.options.early_stop.is_some_and(|stop| {
            let value = match stop.monitor {
                Monitor::ValLoss => validation.map_or(f64::NAN, |m| m.loss),
                Monitor::ValAccuracy => validation.and_then(|m| m.accuracy).unwrap_or(f64::NAN),
                Monitor::Loss => train_metrics.loss,
            };
            let better = match self.state.best {
                None => true,
                Some((_, b)) if stop.monitor.higher_is_better() => value > b + stop.min_delta,
                Some((_, b)) => value < b - stop.min_delta,
            };
            if better {
                self.state.best = Some((epoch, value));
            }
            better
        });
        self.state.epoch = epoch;
        self.state.reference_loss = reference;
        self.state.monitored_losses.push(monitored);
        Ok(EpochReport {
            epoch,
            train: train_metrics,
            validation,
            learning_rate: model.learning_rate(),
            samples_per_second: train.len() as f64 / seconds.max(1e-9),
            seconds,
            reference_loss: reference.unwrap_or(train_metrics.loss),
            best,
            data_seconds,
        })
    }
}

/// Trains `model` on `train` for `options.epochs` epochs, reporting each
/// epoch (and `validation` metrics when given) to `observer`, which may stop
/// it early.
pub fn fit<M: Model<F = f32>>(
    model: &mut M,
    train: &dyn Samples,
    validation: Option<&dyn Samples>,
    options: &FitOptions,
    observer: &mut impl Observer,
) -> Result<Vec<EpochReport>, TrainError> {
    let mut trainer = Trainer::new(options.clone(), train, validation, TrainerState::default())?;
    let mut reports = Vec::new();
    while !trainer.is_done() {
        let report = trainer.run_epoch(model, observer)?;
        let go_on = observer.epoch(&report);
        reports.push(report);
        if !go_on {
            break;
        }
    }
    Ok(reports)
}
