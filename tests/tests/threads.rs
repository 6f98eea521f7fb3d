//! Training and inference give bit-identical results for every thread count,
//! in f32 and in bf16.
//!
//! The parallel kernels cut work so that no sum depends on how many threads
//! run it: GEMMs by rows of the result, convolutions and pooling by
//! samples, and the batch reductions of convolution gradients through
//! partial sums per chunk of the batch whose bounds depend only on the
//! batch size (see `specc_core::par`). So a seeded run is reproducible
//! on any machine with the same instruction set, whatever `--threads` says.

use specc_core::Precision;
use specc_core::par::with_threads;
use specc_core::simd::with_precision;
use specc_tests::f32::{
    mlp::Mlp, mnist_cnn::MnistCnn, pools::Pools, small_res_net::SmallResNet, tf_cnn::TfCnn,
};
use specc_train::{Model, Rng, TargetKind, Targets};

/// Every parameter after a few training steps, then the predictions.
fn trained<M: Model<F = f32>>(threads: usize, batch: usize, precision: Precision) -> Vec<Vec<f32>> {
    with_threads(threads, || {
        with_precision(precision, || {
            let mut rng = Rng::new(11);
            let input: Vec<f32> = (0..batch * M::input_len())
                .map(|_| rng.uniform(0.0, 1.0) as f32)
                .collect();
            let labels: Vec<u32> = (0..batch).map(|i| (i * 7 % M::output_len()) as u32).collect();
            let values: Vec<f32> = (0..batch * M::output_len()).map(|i| (i % 3) as f32).collect();
            let targets = || match M::TARGETS {
                TargetKind::Classes { .. } => Targets::Classes(&labels),
                _ => Targets::Values(&values),
            };
            let mut model = M::new(5);
            let mut losses = Vec::new();
            for _ in 0..3 {
                losses.push(model.train_step(&input, targets(), batch) as f32);
            }
            let mut found: Vec<Vec<f32>> = M::TENSORS
                .iter()
                .map(|t| model.tensor(t.name).expect("every listed tensor exists").to_vec())
                .collect();
            let mut prediction = vec![0.0; batch * M::output_len()];
            model.predict_into(&input, batch, &mut prediction);
            found.push(prediction);
            found.push(losses);
            found
        })
    })
}

fn identical_for_every_thread_count<M: Model<F = f32>>() {
    // 37 samples: more than the 16 reduction chunks, not a multiple of them
    // or of any thread count; 1 sample: the GEMMs split instead.
    for precision in Precision::ALL {
        for batch in [1, 37] {
            let one = trained::<M>(1, batch, precision);
            for threads in [2, 3] {
                assert!(
                    trained::<M>(threads, batch, precision) == one,
                    "{}: batch {batch} in {precision} on {threads} threads differs from one thread",
                    M::NAME
                );
            }
        }
    }
}

#[test]
fn mlp() {
    identical_for_every_thread_count::<Mlp>();
}

#[test]
fn mnist_cnn() {
    identical_for_every_thread_count::<MnistCnn>();
}

#[test]
fn tf_cnn() {
    identical_for_every_thread_count::<TfCnn>();
}

#[test]
fn small_resnet() {
    identical_for_every_thread_count::<SmallResNet>();
}

#[test]
fn pools() {
    identical_for_every_thread_count::<Pools>();
}
