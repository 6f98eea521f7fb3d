//! Data larger than memory: an epoch over an image folder read as an
//! [`ImageStream`] holds a few batches, never the folder, so the heap an
//! epoch adds stays flat when the folder grows tenfold, while decoding the
//! folder into memory grows with it. The streamed epoch trains exactly as
//! the in-memory one (same weights to the bit).
//!
//! Its own test binary (`harness = false`) with a global allocator that
//! tracks the bytes alive and their peak, so that no other test's
//! allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use specc_core::Inference;
use specc_harness::checkpoint::{self, CheckpointMeta};
use specc_harness::data::images::{self, ImageStream, Resize};
use specc_harness::data::{Samples, TargetData};
use specc_harness::fit::{FitOptions, Quiet, Trainer, TrainerState};
use specc_tests::f32::rgb_tiny::RgbTiny;
use specc_train::Model;

struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: forwards every call to the system allocator unchanged; only
// counts the bytes of the blocks it hands out and takes back.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// The peak of the heap while `f` runs, above what was alive when it started.
fn peak_above_start<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.load(Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - start)
}

/// `per_class` 8 x 8 PNG pictures in each of three class folders.
fn folder(root: &Path, per_class: usize) {
    for class in 0..3 {
        let dir = root.join(format!("class{class}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..per_class {
            let img = image::RgbImage::from_fn(8, 8, |x, y| {
                let mut p = [(i * 7 % 50) as u8; 3];
                p[class] = (100 + 15 * x + 3 * y) as u8;
                image::Rgb(p)
            });
            img.save(dir.join(format!("{i}.png"))).unwrap();
        }
    }
}

struct Epoch {
    /// Heap bytes an epoch added at its peak.
    peak: usize,
    /// The trained model, as a checkpoint's bytes.
    parameters: Vec<u8>,
}

/// One epoch of RgbTiny on `data`.
fn epoch(data: &dyn Samples) -> Epoch {
    let mut model = RgbTiny::new(3);
    let options = FitOptions {
        epochs: 2,
        ..FitOptions::for_model::<RgbTiny>()
    };
    let mut trainer = Trainer::new(options, data, None, TrainerState::default()).unwrap();
    // The first epoch sizes the model's and the trainer's buffers.
    trainer.run_epoch(&mut model, &mut Quiet).unwrap();
    let (report, peak) = peak_above_start(|| trainer.run_epoch(&mut model, &mut Quiet));
    report.unwrap();
    Epoch {
        peak,
        parameters: checkpoint::to_bytes(
            &model,
            &CheckpointMeta {
                model: RgbTiny::NAME.into(),
                steps: 0,
                learning_rate: 0.0,
                base_learning_rate: 0.0,
                seed: 0,
                batch: 0,
                progress: TrainerState::default(),
                class_names: Vec::new(),
            },
        )
        .unwrap(),
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("specc-streaming-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn main() {
    if std::env::args().any(|a| a == "--ignored" || a == "--list") {
        return;
    }
    let shape = [3, 8, 8];
    let mut streamed = Vec::new();
    let mut in_memory = Vec::new();
    for per_class in [300, 3_000] {
        let dir = temp(&per_class.to_string());
        folder(&dir, per_class);
        let scanned = images::scan(&dir).unwrap();
        let stream = ImageStream::new(&scanned, shape, Resize::Bilinear);
        let ((loaded, decoded), _) = peak_above_start(|| {
            let (d, bytes) = peak_above_start(|| images::load(&scanned, shape, Resize::Bilinear, 2).unwrap());
            (d, bytes)
        });
        assert_eq!(loaded.targets, *stream.targets());
        let from_stream = epoch(&stream);
        let from_memory = epoch(&loaded);
        // The same training to the bit, a few batches ahead or all at once.
        assert_eq!(from_stream.parameters, from_memory.parameters);
        println!(
            "{:>6} images: decoded in memory {:>9} bytes; a streamed epoch's heap peak {:>7} bytes above its start",
            stream.len(),
            decoded,
            from_stream.peak
        );
        streamed.push(from_stream.peak);
        in_memory.push(decoded);
        if let TargetData::Classes(labels) = stream.targets() {
            assert_eq!(labels.len(), 3 * per_class);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Loading grows with the data; a streamed epoch does not (a few
    // batches, the reader thread's channels and the decoder's buffers).
    assert!(in_memory[1] >= 9 * in_memory[0], "{in_memory:?}");
    assert!(
        streamed[1] <= streamed[0] + 16 * 1024 && streamed[1] < in_memory[0],
        "a streamed epoch's heap grew from {} to {} bytes with ten times the images",
        streamed[0],
        streamed[1]
    );
    println!("streaming: ok");
}
