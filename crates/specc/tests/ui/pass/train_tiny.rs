// A model defined with the macro trains: the loss falls over a few epochs.

use specc::prelude::*;
use specc::fit::{FitOptions, Quiet, fit};

specc::model! {
    /// Three Gaussian blobs in the plane.
    model Blobs {
        input [2];
        dense(16, activation = relu);
        dense(3, activation = softmax);
        loss cross_entropy;
        optimizer adam(lr = 0.02);
        train(epochs = 4, batch = 16, seed = 1);
    }
}

specc::model!(file = "../../specs/logistic.spec");

fn main() {
    let data = specc::data::synthetic::blobs(300, 2, 3, 7).unwrap();
    let mut model = blobs::Blobs::new(1);
    let options = FitOptions::for_model::<blobs::Blobs>();
    let reports = fit(&mut model, &data, None, &options, &mut Quiet).unwrap();
    let (first, last) = (reports[0].train, reports[reports.len() - 1].train);
    assert!(last.loss < first.loss, "loss went from {first} to {last}");
    assert!(last.accuracy.unwrap() > 0.9, "{last}");

    let data = specc::data::synthetic::binary_blobs(200, 20, 3).unwrap();
    let mut model = logistic::Logistic::new(1);
    let options = FitOptions { epochs: 3, batch: 20, ..FitOptions::for_model::<logistic::Logistic>() };
    let reports = fit(&mut model, &data, None, &options, &mut Quiet).unwrap();
    assert!(reports[2].train.loss < reports[0].train.loss);
}
