//! The worker pool of the `std` build (see [`super`]).

use std::cell::Cell;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{MAX_PARTS, MAX_THREADS};
use crate::Precision;
use crate::simd::{KernelKind, selected_kernel, selected_precision};

/// 0 until decided: see [`threads`].
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// A thread count forced on this thread by [`with_threads`].
    static FORCED: Cell<Option<usize>> = const { Cell::new(None) };
    /// Set on pool workers, and on a caller while it runs its own tasks:
    /// parallel calls from there run inline.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// The number of threads the parallel kernels use on this thread: the
/// [`with_threads`] override, else [`set_threads`], else `SPECC_THREADS`,
/// else the number of CPUs the process may use.
pub fn threads() -> usize {
    if let Some(n) = FORCED.with(Cell::get) {
        return n;
    }
    match THREADS.load(Relaxed) {
        0 => {
            // A bad value is the caller's to report (`threads_from_env`); the
            // library falls back to the CPU count rather than fail mid-computation.
            let n = threads_from_env().ok().flatten().unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(MAX_THREADS)
            });
            // A concurrent `set_threads` wins over the default.
            match THREADS.compare_exchange(0, n, Relaxed, Relaxed) {
                Ok(_) => n,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// The thread count `SPECC_THREADS` asks for: `None` when it is unset, an
/// error naming the variable when it is not a count in `1..=MAX_THREADS`.
pub fn threads_from_env() -> Result<Option<usize>, String> {
    let Some(value) = std::env::var_os("SPECC_THREADS") else {
        return Ok(None);
    };
    parse_threads(&value.to_string_lossy()).map(Some)
}

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "SPECC_THREADS={text:?}: expected a thread count from 1 to {MAX_THREADS}"
        )),
    }
}

/// Sets the thread count for the whole process (clamped to
/// `1..=MAX_THREADS`). Results do not depend on it; speed does.
pub fn set_threads(n: usize) {
    THREADS.store(n.clamp(1, MAX_THREADS), Relaxed);
}

/// Runs `f` with [`threads`] returning `n` (clamped to `1..=MAX_THREADS`)
/// on this thread, so tests can compare thread counts side by side.
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    with_local(&FORCED, Some(n.clamp(1, MAX_THREADS)), f)
}

/// Runs `f` with the thread-local `key` set to `value`, restoring what it
/// held afterwards, also when `f` panics.
pub(crate) fn with_local<T: Copy + 'static, R>(
    key: &'static std::thread::LocalKey<Cell<T>>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<T: Copy + 'static>(&'static std::thread::LocalKey<Cell<T>>, T);
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            self.0.with(|cell| cell.set(self.1));
        }
    }
    let _restore = Restore(key, key.with(|cell| cell.replace(value)));
    f()
}

/// The tasks `participant` of `participants` runs: a contiguous block.
fn block(participant: usize, participants: usize, tasks: usize) -> std::ops::Range<usize> {
    (participant * tasks / participants)..((participant + 1) * tasks / participants)
}

/// Runs `f(i)` for every `i < tasks`, on up to [`threads`] threads, and
/// returns when all have run. Each index runs exactly once; which thread
/// runs it must not matter to the result.
pub fn for_each(tasks: usize, f: impl Fn(usize) + Sync) {
    let participants = threads().min(tasks);
    if participants <= 1 || IN_TASK.with(Cell::get) {
        (0..tasks).for_each(f);
        return;
    }
    let pool = Pool::get();
    if pool.busy.swap(true, Acquire) {
        // Another thread is using the workers: run here, in order.
        (0..tasks).for_each(f);
        return;
    }
    pool.run(participants, tasks, (selected_kernel(), selected_precision()), &f);
    pool.busy.store(false, Release);
}

/// Runs `f(i, part)` for each of `parts` (at most [`MAX_PARTS`]), spread
/// over threads as [`for_each`] does: for handing each task its own
/// mutable slices (`chunks_mut` of several buffers, zipped).
///
/// Panics if there are more than [`MAX_PARTS`] parts.
pub fn for_each_part<P: Send>(parts: impl IntoIterator<Item = P>, f: impl Fn(usize, P) + Sync) {
    let mut slots: [Mutex<Option<P>>; MAX_PARTS] = std::array::from_fn(|_| Mutex::new(None));
    let mut count = 0;
    for part in parts {
        assert!(
            count < MAX_PARTS,
            "par::for_each_part: more than {MAX_PARTS} parts"
        );
        *slots[count].get_mut().unwrap_or_else(|e| e.into_inner()) = Some(part);
        count += 1;
    }
    for_each(count, |i| {
        let part = slots[i]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("each part is taken once");
        f(i, part);
    });
}

/// The generation goes in the high bits of [`Pool::epoch`], the number of
/// participants in the low ones.
const PARTICIPANT_BITS: u32 = 16;

/// How long an idle worker spins before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

/// The job being run: a pointer to the caller's `&dyn Fn(usize)`.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

struct Pool {
    /// `generation << PARTICIPANT_BITS | participants` of the current job.
    epoch: AtomicU64,
    /// Points to the caller's [`Job`] while a call is running.
    job: AtomicPtr<()>,
    /// The number of tasks of the current job.
    tasks: AtomicUsize,
    /// Workers of the current job that have not finished their block.
    pending: AtomicUsize,
    /// A task of the current job panicked.
    panicked: AtomicBool,
    /// A thread is running a job.
    busy: AtomicBool,
    /// Workers asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    /// Workers started so far (they never exit).
    workers: Mutex<usize>,
    /// The caller's instruction set (an index into `KernelKind::ALL`),
    /// which the workers use for the current job.
    kernel: AtomicUsize,
    /// The caller's precision (an index into `Precision::ALL`), likewise.
    precision: AtomicUsize,
}

impl Pool {
    fn get() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| Pool {
            epoch: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            tasks: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            workers: Mutex::new(0),
            kernel: AtomicUsize::new(0),
            precision: AtomicUsize::new(0),
        })
    }

    /// Runs `job` for `tasks` tasks on `participants >= 2` threads: this one
    /// (participant 0) and workers `1..participants`. The caller holds `busy`.
    fn run(
        &'static self,
        participants: usize,
        tasks: usize,
        (kernel, precision): (KernelKind, Precision),
        job: Job<'_>,
    ) {
        self.start_workers(participants - 1);
        self.kernel.store(kernel as usize, Relaxed);
        self.precision.store(precision as usize, Relaxed);
        self.tasks.store(tasks, Relaxed);
        self.pending.store(participants - 1, Relaxed);
        self.panicked.store(false, Relaxed);
        self.job.store((&raw const job).cast_mut().cast(), Relaxed);
        let generation = (self.epoch.load(Relaxed) >> PARTICIPANT_BITS) + 1;
        // Publishes the stores above to every worker that sees this epoch.
        self.epoch
            .store((generation << PARTICIPANT_BITS) | participants as u64, SeqCst);
        if self.sleepers.load(SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_all();
        }

        let mine = with_local(&IN_TASK, true, || run_block(job, block(0, participants, tasks)));

        // The workers read `job`, which points into this frame: wait until
        // every one of them has finished its block, even if a task panicked.
        let start = Instant::now();
        let mut spins = 0u32;
        while self.pending.load(Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        self.job.store(std::ptr::null_mut(), Relaxed);
        if let Err(payload) = mine {
            self.busy.store(false, Release);
            std::panic::resume_unwind(payload);
        }
        if self.panicked.load(Relaxed) {
            self.busy.store(false, Release);
            panic!("a task of a parallel kernel panicked on a worker thread (its message is above)");
        }
    }

    fn start_workers(&'static self, wanted: usize) {
        let mut started = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        // Called before the next job is published, so a new worker starts
        // out waiting for it (not treating it as already seen).
        let seen = self.epoch.load(Relaxed) >> PARTICIPANT_BITS;
        while *started < wanted {
            let index = *started + 1;
            std::thread::Builder::new()
                .name(format!("specc-worker-{index}"))
                .spawn(move || self.work(index, seen))
                .expect("cannot start a worker thread");
            *started += 1;
        }
    }

    /// The loop of worker `index` (its participant number, from 1).
    fn work(&'static self, index: usize, mut seen: u64) {
        IN_TASK.with(|t| t.set(true));
        loop {
            let epoch = self.wait_for_job(seen);
            seen = epoch >> PARTICIPANT_BITS;
            let participants = (epoch & ((1 << PARTICIPANT_BITS) - 1)) as usize;
            if index >= participants {
                continue;
            }
            // SAFETY: this worker is a participant of the job published
            // with `epoch`, whose caller stored `job` (pointing to a `Job`
            // on its stack) and `tasks` before publishing `epoch` with
            // SeqCst, which this thread read with Acquire, so the loads see
            // those stores. The caller does not return, nor store another
            // job, until `pending` reaches zero, which needs this worker's
            // decrement below, after its last use of the job.
            let job: Job<'_> = unsafe { *self.job.load(Relaxed).cast::<Job<'_>>() };
            let tasks = self.tasks.load(Relaxed);
            let kernel = KernelKind::ALL[self.kernel.load(Relaxed)];
            let precision = Precision::ALL[self.precision.load(Relaxed)];
            let done = crate::simd::with_kernel(kernel, || {
                crate::simd::with_precision(precision, || run_block(job, block(index, participants, tasks)))
            });
            if done.is_err() {
                self.panicked.store(true, Relaxed);
            }
            self.pending.fetch_sub(1, Release);
        }
    }

    /// Waits for an epoch whose generation is not `seen`: spins for
    /// [`SPIN`], then sleeps.
    fn wait_for_job(&self, seen: u64) -> u64 {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let epoch = self.epoch.load(Acquire);
            if epoch >> PARTICIPANT_BITS != seen {
                return epoch;
            }
            spins += 1;
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                break;
            }
            std::hint::spin_loop();
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, SeqCst);
        let epoch = loop {
            let epoch = self.epoch.load(SeqCst);
            if epoch >> PARTICIPANT_BITS != seen {
                break epoch;
            }
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        };
        self.sleepers.fetch_sub(1, SeqCst);
        epoch
    }
}

/// Runs the tasks in `range`, stopping at the first panic.
fn run_block(job: Job<'_>, range: std::ops::Range<usize>) -> std::thread::Result<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| range.for_each(job)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_from_the_environment_are_checked() {
        assert_eq!(parse_threads(" 2 "), Ok(2));
        for bad in ["0", "abc", "100000", "-1", ""] {
            let e = parse_threads(bad).unwrap_err();
            assert!(e.contains("SPECC_THREADS") && e.contains("1 to 64"), "{bad}: {e}");
        }
    }
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_task_runs_exactly_once_for_every_thread_count() {
        for threads in 1..=5 {
            for tasks in [0, 1, 2, 3, 7, 64, 1000] {
                let counts: Vec<AtomicU32> = (0..tasks).map(|_| AtomicU32::new(0)).collect();
                with_threads(threads, || {
                    for_each(tasks, |i| _ = counts[i].fetch_add(1, Relaxed))
                });
                assert!(
                    counts.iter().all(|c| c.load(Relaxed) == 1),
                    "{threads} threads, {tasks} tasks"
                );
            }
        }
    }

    #[test]
    fn parts_are_handed_out_once_each() {
        let mut data = vec![0u32; 1000];
        with_threads(3, || {
            for_each_part(data.chunks_mut(100), |i, chunk| chunk.fill(i as u32 + 1));
        });
        for (i, chunk) in data.chunks(100).enumerate() {
            assert!(chunk.iter().all(|&x| x == i as u32 + 1));
        }
    }

    #[test]
    fn concurrent_callers_each_get_every_task_run_once() {
        // Several threads share the one pool: whoever finds it busy runs its
        // tasks inline; every call still runs each of its tasks exactly once.
        std::thread::scope(|scope| {
            for caller in 0..3u32 {
                scope.spawn(move || {
                    for round in 0..200u32 {
                        let counts: Vec<AtomicU32> = (0..9).map(|_| AtomicU32::new(0)).collect();
                        with_threads(2, || {
                            for_each(9, |i| _ = counts[i].fetch_add(caller + round + 1, Relaxed))
                        });
                        assert!(counts.iter().all(|c| c.load(Relaxed) == caller + round + 1));
                    }
                });
            }
        });
    }

    #[test]
    fn nested_calls_run_inline() {
        let total = AtomicU32::new(0);
        with_threads(2, || {
            for_each(4, |_| for_each(3, |_| _ = total.fetch_add(1, Relaxed)));
        });
        assert_eq!(total.load(Relaxed), 12);
    }

    #[test]
    fn a_panicking_task_panics_the_caller_after_the_others_finish() {
        let finished = AtomicU32::new(0);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_threads(2, || {
                for_each(8, |i| {
                    if i == 6 {
                        panic!("task 6 fails");
                    }
                    finished.fetch_add(1, Relaxed);
                })
            })
        }));
        let payload = result.expect_err("the panic reaches the caller");
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // Task 6 is in the worker's block (its own message was printed there),
        // unless another test held the pool and the tasks ran inline.
        assert!(
            message.contains("panicked on a worker thread") || message == "task 6 fails",
            "{message}"
        );
        // The tasks of the block without the panic all ran; the pool is usable again.
        assert!(finished.load(Relaxed) >= 4);
        let count = AtomicU32::new(0);
        with_threads(2, || for_each(10, |_| _ = count.fetch_add(1, Relaxed)));
        assert_eq!(count.load(Relaxed), 10);
    }

    #[test]
    fn workers_use_the_callers_instruction_set() {
        for kind in KernelKind::ALL.into_iter().filter(|k| k.is_supported()) {
            let seen: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(usize::MAX)).collect();
            crate::simd::with_kernel(kind, || {
                with_threads(2, || {
                    for_each(4, |i| seen[i].store(selected_kernel() as usize, Relaxed))
                })
            });
            assert!(seen.iter().all(|s| s.load(Relaxed) == kind as usize));
        }
    }

    #[test]
    fn part_lengths_cover_the_range() {
        with_threads(2, || {
            assert_eq!(super::super::part_len(1000, 100, 16), 512);
            assert_eq!(super::super::part_len(50, 100, 16), 64);
            assert_eq!(super::super::part_len(0, 100, 16), 1);
        });
    }
}
