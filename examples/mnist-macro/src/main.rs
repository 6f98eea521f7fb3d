//! The Keras MNIST CNN, trained through `specc::model!`.
//!
//! `cargo run --release -p specc-example-mnist-macro -- DIR` reads MNIST's IDX
//! files from DIR (or from `$SPECC_DATA/mnist`); without them it trains on
//! synthetic digits.

use specc::data::idx::{Split, load_mnist};
use specc::data::synthetic;
use specc::fit::{EpochReport, FitOptions, Observer, fit};
use specc::prelude::*;

specc::model! {
    model MnistCnn {
        input [1, 28, 28];
        conv2d(32, kernel = 3, activation = relu);
        maxpool2d(2);
        flatten;
        dense(128, activation = relu);
        dense(10, activation = softmax);
        loss cross_entropy;
        optimizer sgd(lr = 0.01);
        train(epochs = 10, batch = 128, seed = 1);
    }
}

use mnist_cnn::MnistCnn;

/// Prints each epoch's metrics as training goes.
struct PrintEpochs;
impl Observer for PrintEpochs {
    fn epoch(&mut self, r: &EpochReport) -> bool {
        let test = r.validation.map(|m| format!(", test {m}")).unwrap_or_default();
        println!(
            "epoch {:>2}: train {}{test} ({:.0} samples/s)",
            r.epoch, r.train, r.samples_per_second
        );
        true
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .or_else(|| Some(format!("{}/mnist", std::env::var("SPECC_DATA").ok()?)));
    let (train, test) = match dir {
        Some(dir) => (load_mnist(&dir, Split::Train)?, load_mnist(&dir, Split::Test)?),
        None => (synthetic::digits(6_000, 1), synthetic::digits(1_000, 2)),
    };
    let mut model = MnistCnn::new(1);
    fit(
        &mut model,
        &train,
        Some(&test),
        &FitOptions::for_model::<MnistCnn>(),
        &mut PrintEpochs,
    )?;
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
