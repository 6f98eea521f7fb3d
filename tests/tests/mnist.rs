//! Accuracy on the full MNIST (`$SPECC_DATA/mnist`, i.e. `../shared/data`):
//! run by `.ci/run` in release mode with `SPECC_DATA` set; ignored otherwise.
//! The JAX figures are from `../shared/bench/peers/jax_seed_models.py` with
//! the same settings and data.

use specc_core::Precision;
use specc_core::simd::with_precision;
use specc_harness::data::{Dataset, Samples, TargetData, idx, images};
use specc_harness::fit::{self, FitOptions, Quiet};
use specc_tests::f32 as models;
use specc_train::Model;
use std::path::PathBuf;
use std::sync::OnceLock;

fn mnist() -> &'static (Dataset, Dataset) {
    static DATA: OnceLock<(Dataset, Dataset)> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::var_os("SPECC_DATA").expect(
            "set SPECC_DATA to the shared data directory (the one holding mnist/), e.g. SPECC_DATA=../shared/data",
        );
        let dir = PathBuf::from(dir).join("mnist");
        let train = idx::load_mnist(&dir, idx::Split::Train).unwrap_or_else(|e| panic!("{e}"));
        let test = idx::load_mnist(&dir, idx::Split::Test).unwrap_or_else(|e| panic!("{e}"));
        (train, test)
    })
}

/// The same images as vectors of 784 values, for the MLP.
fn flattened(data: &Dataset) -> Dataset {
    Dataset::new(data.inputs.clone(), vec![data.sample_len()], data.targets.clone()).expect("same data")
}

/// Trains with the spec's own settings for `epochs` and returns the test accuracy.
fn test_accuracy<M: Model<F = f32>>(train_set: &dyn Samples, test_set: &dyn Samples, epochs: usize) -> f64 {
    let options = FitOptions {
        epochs,
        ..FitOptions::for_model::<M>()
    };
    accuracy_with::<M>(train_set, test_set, &options)
}

/// Trains with `options` and returns the test accuracy, evaluated in the
/// precision it trained in.
fn accuracy_with<M: Model<F = f32>>(
    train_set: &dyn Samples,
    test_set: &dyn Samples,
    options: &FitOptions,
) -> f64 {
    let mut model = M::new(M::TRAIN.seed);
    let reports =
        fit::fit(&mut model, train_set, None, options, &mut Quiet).unwrap_or_else(|e| panic!("{e}"));
    for report in &reports {
        eprintln!(
            "{} epoch {}: train {} ({:.0} samples/s, lr {:.5})",
            M::NAME,
            report.epoch,
            report.train,
            report.samples_per_second,
            report.learning_rate
        );
    }
    let test = with_precision(options.precision, || fit::evaluate(&mut model, test_set, 1000))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{} in {}: test {test}", M::NAME, options.precision);
    test.accuracy.expect("a classifier")
}

/// bf16 training's test accuracy is within this of f32's (0.3 points).
const BF16_MAX_LOSS: f64 = 0.003;

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn mlp_sgd_10_epochs_reaches_92_percent() {
    // specs/mlp.spec: 784-128-10, sgd(lr = 0.01), batch 128. JAX: 92.7%.
    let (train_set, test_set) = mnist();
    let accuracy = test_accuracy::<models::mlp::Mlp>(&flattened(train_set), &flattened(test_set), 10);
    assert!(accuracy >= 0.92, "test accuracy {accuracy:.4}");
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn mnist_cnn_sgd_and_nesterov_cosine_10_epochs() {
    // specs/mnist_cnn.spec as written: sgd(lr = 0.01), batch 128, 10 epochs. JAX: 95.9%.
    let (train_set, test_set) = mnist();
    let plain = test_accuracy::<models::mnist_cnn::MnistCnn>(train_set, test_set, 10);
    assert!(plain >= 0.95, "plain SGD test accuracy {plain:.4}");
    // In bf16 mixed precision, within 0.3 points of f32.
    let options = FitOptions {
        epochs: 10,
        precision: Precision::Bf16,
        ..FitOptions::for_model::<models::mnist_cnn::MnistCnn>()
    };
    let bf16 = accuracy_with::<models::mnist_cnn::MnistCnn>(train_set, test_set, &options);
    assert!(
        bf16 >= plain - BF16_MAX_LOSS,
        "bf16 test accuracy {bf16:.4}, f32 {plain:.4}"
    );
    // The same network with Nesterov momentum and a cosine schedule beats it.
    let nesterov =
        test_accuracy::<models::mnist_cnn_nesterov_cosine::MnistCnnNesterovCosine>(train_set, test_set, 10);
    assert!(
        nesterov > plain,
        "Nesterov + cosine {nesterov:.4} vs plain SGD {plain:.4}"
    );
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn tf_cnn_adam_3_epochs_at_batch_128_reaches_98_5_percent_in_f32_and_bf16() {
    // specs/tf_cnn.spec trains at batch 32 by default; the JAX reference
    // (98.8%) uses batch 128, and so does this test. In bf16 mixed
    // precision it reaches 98.5% too, within 0.3 points of f32.
    let (train_set, test_set) = mnist();
    let [f32s, bf16] = Precision::ALL.map(|precision| {
        let options = FitOptions {
            epochs: 3,
            batch: 128,
            precision,
            ..FitOptions::for_model::<models::tf_cnn::TfCnn>()
        };
        accuracy_with::<models::tf_cnn::TfCnn>(train_set, test_set, &options)
    });
    assert!(f32s >= 0.985, "f32 test accuracy {f32s:.4}");
    assert!(bf16 >= 0.985, "bf16 test accuracy {bf16:.4}");
    assert!(
        bf16 >= f32s - BF16_MAX_LOSS,
        "bf16 test accuracy {bf16:.4}, f32 {f32s:.4}"
    );
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn small_resnet_3_epochs() {
    // specs/small_resnet.spec is the 20-epoch showcase; its first 3 epochs,
    // at a learning rate still near 0.05, reach about 96-97% (a PyTorch
    // replica: 96.77%). The variant with the cosine over those 3 epochs is
    // the 3-epoch model: the replica reached 98.38% with it, specc 98.47%
    // (98.60-98.65% before exp and ln came from libm on every platform: the
    // last bit of a transcendental moves this figure by about 0.15 points).
    // Asserted: the replica's figure less that spread.
    let (train_set, test_set) = mnist();
    let accuracy = test_accuracy::<models::small_res_net_short::SmallResNetShort>(train_set, test_set, 3);
    assert!(accuracy >= 0.983, "test accuracy {accuracy:.4}");
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn mnist_fast_reaches_99_percent_in_3_epochs_in_bf16() {
    // specs/mnist_fast.spec as written (bf16, 3 epochs, cosine over the
    // run): the README's time-to-99% figure.
    let (train_set, test_set) = mnist();
    let options = FitOptions::for_model::<models::mnist_fast::MnistFast>();
    assert_eq!(options.precision, Precision::Bf16, "the spec asks for bf16");
    let accuracy = accuracy_with::<models::mnist_fast::MnistFast>(train_set, test_set, &options);
    assert!(accuracy >= 0.99, "test accuracy {accuracy:.4}");
}

/// Writes `data` as `dir/<label>/<index>.png` (index zero-padded, so that
/// name order is the IDX order within a class), on every core.
fn write_png_folder(data: &Dataset, dir: &std::path::Path) {
    let TargetData::Classes(labels) = &data.targets else {
        panic!("MNIST has class labels")
    };
    for class in 0..10 {
        std::fs::create_dir_all(dir.join(class.to_string())).unwrap();
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = data.len.div_ceil(threads);
    std::thread::scope(|s| {
        for (t, chunk) in labels.chunks(per).enumerate() {
            s.spawn(move || {
                for (j, label) in chunk.iter().enumerate() {
                    let i = t * per + j;
                    let pixels: Vec<u8> = data
                        .sample(i)
                        .iter()
                        .map(|&p| (p * 255.0).round() as u8)
                        .collect();
                    let img = image::GrayImage::from_raw(28, 28, pixels).unwrap();
                    img.save(dir.join(format!("{label}/{i:05}.png"))).unwrap();
                }
            });
        }
    });
}

/// The IDX index of each image of a folder written by [`write_png_folder`].
fn idx_order(folder: &images::ImageFolder) -> Vec<usize> {
    folder
        .files
        .iter()
        .map(|(path, _)| path.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn mnist_as_a_png_folder_decodes_to_the_same_pixels_and_trains_as_well() {
    use models::mnist_cnn_adam::MnistCnnAdam;
    let (train_set, test_set) = mnist();
    let dir = std::env::temp_dir().join(format!("specc-mnist-png-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = std::time::Instant::now();
    write_png_folder(train_set, &dir.join("train"));
    write_png_folder(test_set, &dir.join("test"));
    eprintln!("wrote 70,000 PNG files in {:.1} s", start.elapsed().as_secs_f64());

    let start = std::time::Instant::now();
    let splits = images::scan_splits(&dir).unwrap_or_else(|e| panic!("{e}"));
    let test_folder = splits.test.as_ref().expect("a test/ folder");
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let load =
        |f| images::load(f, [1, 28, 28], images::Resize::None, threads).unwrap_or_else(|e| panic!("{e}"));
    let (png_train, png_test) = (load(&splits.train), load(test_folder));
    let decode = start.elapsed().as_secs_f64();
    eprintln!("decoded 70,000 PNG files in {decode:.1} s");
    assert_eq!(
        splits.train.class_names,
        (0..10).map(|c| c.to_string()).collect::<Vec<_>>()
    );
    // The same samples, pixel for pixel, in class order.
    assert_eq!(
        png_train,
        train_set
            .subset(&idx_order(&splits.train))
            .with_class_names(png_train.class_names.clone())
    );
    assert_eq!(png_test.len, 10_000);
    assert_eq!(png_test.inputs, test_set.subset(&idx_order(test_folder)).inputs);

    // Trained from either, the same seed reaches the same accuracy; only the
    // order of the samples before shuffling differs.
    // mnist_cnn with Adam, 3 epochs: 98% or more (JAX: 98.5%).
    let from_idx = test_accuracy::<MnistCnnAdam>(train_set, test_set, 3);
    assert!(from_idx >= 0.98, "test accuracy {from_idx:.4}");
    let start = std::time::Instant::now();
    let from_png = test_accuracy::<MnistCnnAdam>(&png_train, &png_test, 3);
    let training = start.elapsed().as_secs_f64();
    eprintln!(
        "test accuracy from IDX {from_idx:.4}, from PNG {from_png:.4}; training {training:.1} s, decoding {decode:.1} s"
    );
    assert!(
        (from_idx - from_png).abs() <= 0.001,
        "IDX {from_idx:.4}, PNG {from_png:.4}"
    );
    assert!(
        decode < training,
        "decoding ({decode:.1} s) took longer than 3 epochs of training ({training:.1} s)"
    );
    // Streamed from the files (decoded a few batches ahead of each step,
    // every epoch, never all in memory): the same training to the bit.
    let stream = |f| images::ImageStream::new(f, [1, 28, 28], images::Resize::None);
    let start = std::time::Instant::now();
    let from_stream = test_accuracy::<MnistCnnAdam>(&stream(&splits.train), &stream(test_folder), 3);
    eprintln!(
        "streamed from PNG {from_stream:.4}; training {:.1} s with decoding",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(from_stream, from_png);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs SPECC_DATA (the full MNIST); run by .ci/run"]
fn augmentation_helps_mnist_cnn_learn_from_1000_images() {
    use models::mnist_cnn_adam::MnistCnnAdam;
    use specc_harness::data::augment::Augment;
    let (train_set, test_set) = mnist();
    let few = train_set.subset(&(0..1000).collect::<Vec<_>>());
    let plain = FitOptions {
        epochs: 15,
        batch: 32,
        ..FitOptions::for_model::<MnistCnnAdam>()
    };
    let augmented = FitOptions {
        augment: Augment {
            rotate: 10.0,
            translate: 2,
            ..Augment::NONE
        },
        ..plain.clone()
    };
    let without = accuracy_with::<MnistCnnAdam>(&few, test_set, &plain);
    let with = accuracy_with::<MnistCnnAdam>(&few, test_set, &augmented);
    eprintln!("1,000 training images, 15 epochs: {without:.4} without augmentation, {with:.4} with");
    assert!(
        with > without + 0.005,
        "with augmentation {with:.4}, without {without:.4}"
    );
}
