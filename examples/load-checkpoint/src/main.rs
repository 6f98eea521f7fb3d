//! A model trained with the command line, used from a program of its own.
//!
//! ```text
//! specc train specs/mnist_cnn.spec --data mnist:DIR --out runs/cnn
//! cargo run --release -p specc-example-load-checkpoint -- runs/cnn/checkpoint.safetensors IMAGES
//! ```
//!
//! loads the checkpoint, predicts the images of an IDX file and prints each
//! sample's probabilities as `specc predict --values` does, then its class.

use std::error::Error;
use std::path::PathBuf;

use specc::core::ndarray::{ArrayView2, Axis};
use specc::data::idx::read_images;
use specc::prelude::*;

specc::model_file!("../../specs/mnist_cnn.spec");

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(weights), Some(images)) = (args.next(), args.next()) else {
        return Err("usage: specc-example-load-checkpoint CHECKPOINT IMAGES.idx".into());
    };

    let mut model = mnist_cnn::MnistCnn::load(&weights)?;
    let pixels = read_images(&images)?;
    let input = ArrayView2::from_shape((pixels.count, pixels.rows * pixels.cols), &pixels.pixels)?;
    let probabilities = model.try_predict(input.into_dyn())?;

    for (i, row) in probabilities.axis_iter(Axis(0)).enumerate() {
        let row: Vec<f32> = row.iter().copied().collect();
        let text: Vec<String> = row.iter().map(|p| format!("{p:?}")).collect();
        let class = (0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best });
        println!("{} #{i}: {} (class {class})", images.display(), text.join(" "));
    }
    Ok(())
}
