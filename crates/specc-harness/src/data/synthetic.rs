//! Synthetic data sets, deterministic from a seed, for trying a model
//! without real data and for tests.

use super::{DataError, Dataset, TargetData};
use specc_train::{Rng, TargetKind};

/// Side of a [`digits`] image.
pub const DIGIT_SIDE: usize = 28;

/// Strokes of a digit in a box of about `[-0.5, 0.5] x [-0.7, 0.7]` (y down),
/// as polylines.
fn digit_strokes(d: u32) -> Vec<Vec<(f32, f32)>> {
    // an elliptical arc from angle a0 to a1 (degrees; 0 = right, 90 = down)
    fn arc(cx: f32, cy: f32, rx: f32, ry: f32, a0: f32, a1: f32) -> Vec<(f32, f32)> {
        let steps = (((a1 - a0).abs() / 15.0).ceil() as usize).max(2);
        (0..=steps)
            .map(|i| {
                let a = (a0 + (a1 - a0) * i as f32 / steps as f32).to_radians();
                (cx + rx * a.cos(), cy + ry * a.sin())
            })
            .collect()
    }
    match d {
        0 => vec![arc(0.0, 0.0, 0.36, 0.6, 0.0, 360.0)],
        1 => vec![vec![(-0.18, -0.38), (0.05, -0.62), (0.05, 0.62)]],
        2 => {
            let mut s = arc(0.0, -0.3, 0.33, 0.32, 180.0, 390.0);
            s.extend([(-0.36, 0.6), (0.38, 0.6)]);
            vec![s]
        }
        3 => vec![
            arc(0.0, -0.3, 0.3, 0.3, 200.0, 450.0),
            arc(0.0, 0.3, 0.36, 0.3, 270.0, 520.0),
        ],
        4 => vec![
            vec![(0.12, -0.62), (-0.38, 0.22), (0.4, 0.22)],
            vec![(0.18, -0.3), (0.18, 0.62)],
        ],
        5 => {
            let mut s = vec![(0.34, -0.6), (-0.24, -0.6), (-0.28, 0.04)];
            s.extend(arc(0.0, 0.25, 0.36, 0.34, 220.0, 510.0));
            vec![s]
        }
        6 => vec![
            arc(0.25, 0.2, 0.55, 0.8, 250.0, 180.0),
            arc(0.0, 0.3, 0.3, 0.3, 0.0, 360.0),
        ],
        7 => vec![vec![(-0.36, -0.6), (0.38, -0.6), (-0.08, 0.62)]],
        8 => vec![
            arc(0.0, -0.32, 0.27, 0.28, 0.0, 360.0),
            arc(0.0, 0.3, 0.33, 0.32, 0.0, 360.0),
        ],
        _ => {
            let mut s = arc(0.0, -0.25, 0.3, 0.3, 0.0, 360.0);
            s.push((0.22, 0.62));
            vec![s]
        }
    }
}

/// Max-blends an anti-aliased thick segment into a `DIGIT_SIDE`² image.
fn draw_segment(img: &mut [f32], a: (f32, f32), b: (f32, f32), width: f32, ink: f32) {
    let r = width / 2.0;
    let n = DIGIT_SIDE as f32;
    let x0 = (a.0.min(b.0) - r - 1.0).floor().clamp(0.0, n - 1.0) as usize;
    let x1 = (a.0.max(b.0) + r + 1.0).ceil().clamp(0.0, n - 1.0) as usize;
    let y0 = (a.1.min(b.1) - r - 1.0).floor().clamp(0.0, n - 1.0) as usize;
    let y1 = (a.1.max(b.1) + r + 1.0).ceil().clamp(0.0, n - 1.0) as usize;
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 - a.0, y as f32 - a.1);
            let t = if len2 > 0.0 {
                ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (px - t * dx, py - t * dy);
            let dist = (ex * ex + ey * ey).sqrt();
            let cover = (r + 0.5 - dist).clamp(0.0, 1.0) * ink;
            let p = &mut img[y * DIGIT_SIDE + x];
            *p = p.max(cover);
        }
    }
}

/// Draws digit `label` with random affine jitter, stroke width, a smooth
/// wobble, occasional clutter and pixel noise.
fn draw_digit(img: &mut [f32], label: u32, rng: &mut Rng) {
    img.fill(0.0);
    let angle = rng.uniform(-0.3, 0.3) as f32;
    let scale = rng.uniform(12.0, 17.0) as f32;
    let aspect = rng.uniform(0.8, 1.15) as f32;
    let shear = rng.uniform(-0.3, 0.3) as f32;
    let shift = (rng.uniform(-3.0, 3.0) as f32, rng.uniform(-2.5, 2.5) as f32);
    let width = rng.uniform(1.4, 3.4) as f32;
    let ink = rng.uniform(0.75, 1.0) as f32;
    let (wobble_a, wobble_f, wobble_p) = (
        rng.uniform(0.0, 0.07) as f32,
        rng.uniform(2.0, 5.0) as f32,
        rng.uniform(0.0, 6.3) as f32,
    );
    let (sin, cos) = angle.sin_cos();
    let c = (DIGIT_SIDE as f32 - 1.0) / 2.0;
    let map = |(x, y): (f32, f32)| {
        let x = x + wobble_a * (wobble_f * y + wobble_p).sin();
        let y = y + wobble_a * (wobble_f * x + 1.7 * wobble_p).sin();
        let (x, y) = (x * aspect + shear * y, y);
        let (x, y) = (cos * x - sin * y, sin * x + cos * y);
        (c + shift.0 + scale * x, c + shift.1 + scale * y)
    };
    for stroke in digit_strokes(label) {
        // jitter every control point a little
        let pts: Vec<(f32, f32)> = stroke
            .iter()
            .map(|&(x, y)| {
                map((
                    x + rng.uniform(-0.03, 0.03) as f32,
                    y + rng.uniform(-0.03, 0.03) as f32,
                ))
            })
            .collect();
        for w in pts.windows(2) {
            draw_segment(img, w[0], w[1], width, ink);
        }
    }
    // clutter: a stray short stroke in some images
    if rng.next_f64() < 0.3 {
        let a = (rng.uniform(2.0, 26.0) as f32, rng.uniform(2.0, 26.0) as f32);
        let b = (
            a.0 + rng.uniform(-6.0, 6.0) as f32,
            a.1 + rng.uniform(-6.0, 6.0) as f32,
        );
        draw_segment(
            img,
            a,
            b,
            rng.uniform(1.0, 2.0) as f32,
            rng.uniform(0.3, 0.7) as f32,
        );
    }
    let noise = rng.uniform(0.02, 0.12);
    for p in img.iter_mut() {
        *p = (*p + (noise * rng.normal()) as f32).clamp(0.0, 1.0);
    }
}

/// Labels `0..classes`, as balanced as `n` allows, in a seeded random order.
fn balanced_labels(n: usize, classes: usize, rng: &mut Rng) -> Vec<u32> {
    let mut labels: Vec<u32> = (0..n).map(|i| (i % classes) as u32).collect();
    rng.shuffle(&mut labels);
    labels
}

/// `n` images of shape `[1, 28, 28]` in `[0, 1]` of procedurally drawn
/// digits with labels `0..10` (balanced): thick anti-aliased strokes under a
/// random affine transform (shift, scale, aspect, shear, rotation), random
/// stroke width and ink, a smooth wobble, occasional stray strokes and pixel
/// noise.
pub fn digits(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::derive(seed, "synthetic digits");
    let labels = balanced_labels(n, 10, &mut rng);
    let side2 = DIGIT_SIDE * DIGIT_SIDE;
    let mut inputs = vec![0f32; n * side2];
    for (img, &label) in inputs.chunks_exact_mut(side2).zip(&labels) {
        draw_digit(img, label, &mut rng);
    }
    Dataset {
        inputs,
        sample_shape: vec![1, DIGIT_SIDE, DIGIT_SIDE],
        targets: TargetData::Classes(labels),
        len: n,
        class_names: Vec::new(),
    }
}

/// `n` samples of `x ~ U(-1, 1)`, `y = 2x + 3 + N(0, 0.1²)`; shape `[1] -> [1]`.
pub fn linear(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::derive(seed, "synthetic linear");
    let mut inputs = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let x = rng.uniform(-1.0, 1.0);
        inputs.push(x as f32);
        values.push((2.0 * x + 3.0 + 0.1 * rng.normal()) as f32);
    }
    Dataset {
        inputs,
        sample_shape: vec![1],
        targets: TargetData::Values(values, 1),
        len: n,
        class_names: Vec::new(),
    }
}

/// Standard deviation of the noise around each blob centre.
const BLOB_SIGMA: f64 = 0.5;

/// `classes` centres in `features` dimensions, at least `min_dist` apart
/// (rejection sampling in a cube that grows when it is too crowded).
fn blob_centres(features: usize, classes: usize, min_dist: f64, rng: &mut Rng) -> Vec<Vec<f64>> {
    let mut half = 2.0;
    let mut centres: Vec<Vec<f64>> = Vec::with_capacity(classes);
    let mut tries = 0;
    while centres.len() < classes {
        let c: Vec<f64> = (0..features).map(|_| rng.uniform(-half, half)).collect();
        let ok = centres.iter().all(|o| {
            let d2: f64 = o.iter().zip(&c).map(|(a, b)| (a - b) * (a - b)).sum();
            d2 >= min_dist * min_dist
        });
        if ok {
            centres.push(c);
        } else {
            tries += 1;
            if tries % 200 == 0 {
                half *= 1.25;
            }
        }
    }
    centres
}

fn blob_inputs(centres: &[Vec<f64>], labels: &[u32], rng: &mut Rng) -> Vec<f32> {
    let mut inputs = Vec::with_capacity(labels.len() * centres.first().map_or(0, Vec::len));
    for &l in labels {
        for &m in &centres[l as usize] {
            inputs.push((m + BLOB_SIGMA * rng.normal()) as f32);
        }
    }
    inputs
}

/// `n` samples of `features` values from `classes` Gaussian blobs (standard
/// deviation 0.5, random centres at least 3 apart, so that a linear
/// classifier separates them almost perfectly); balanced class labels.
pub fn blobs(n: usize, features: usize, classes: usize, seed: u64) -> Result<Dataset, DataError> {
    if features == 0 || classes == 0 {
        return Err(DataError::Invalid(format!(
            "blobs need at least one feature and one class, got {features} and {classes}"
        )));
    }
    let mut rng = Rng::derive(seed, "synthetic blobs");
    let centres = blob_centres(features, classes, 6.0 * BLOB_SIGMA, &mut rng);
    let labels = balanced_labels(n, classes, &mut rng);
    let inputs = blob_inputs(&centres, &labels, &mut rng);
    Ok(Dataset {
        inputs,
        sample_shape: vec![features],
        targets: TargetData::Classes(labels),
        len: n,
        class_names: Vec::new(),
    })
}

/// `n` samples of `features` values from two Gaussian blobs (standard
/// deviation 0.5, centres 2 apart, so about 98% are linearly separable) with
/// 0/1 targets, one value per sample, for a model with one sigmoid output.
pub fn binary_blobs(n: usize, features: usize, seed: u64) -> Result<Dataset, DataError> {
    if features == 0 {
        return Err(DataError::Invalid(
            "binary blobs need at least one feature".into(),
        ));
    }
    let mut rng = Rng::derive(seed, "synthetic binary blobs");
    // a random direction, centres at +-1 along it
    let mut dir: Vec<f64> = (0..features).map(|_| rng.normal()).collect();
    let norm = dir.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    dir.iter_mut().for_each(|x| *x /= norm);
    let offset: Vec<f64> = (0..features).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let centres: Vec<Vec<f64>> = [-1.0, 1.0]
        .iter()
        .map(|s| dir.iter().zip(&offset).map(|(d, o)| o + s * d).collect())
        .collect();
    let labels = balanced_labels(n, 2, &mut rng);
    let inputs = blob_inputs(&centres, &labels, &mut rng);
    let values = labels.iter().map(|&l| l as f32).collect();
    Ok(Dataset {
        inputs,
        sample_shape: vec![features],
        targets: TargetData::Values(values, 1),
        len: n,
        class_names: Vec::new(),
    })
}

/// `n` synthetic samples that fit a model with inputs of `input_shape`,
/// targets of kind `targets` and `output_len` values per output:
///
/// - 784-value inputs (`[1, 28, 28]`, `[28, 28]` or `[784]`) and at least
///   10 classes: [`digits`] (with `input_shape` as sample shape);
/// - `[1]` input, one real-valued output: [`linear`];
/// - vector input and classes: [`blobs`];
/// - vector input and one binary output: [`binary_blobs`].
///
/// Anything else is an error saying to pass real data.
pub fn for_model(
    input_shape: &[usize],
    targets: TargetKind,
    output_len: usize,
    n: usize,
    seed: u64,
) -> Result<Dataset, DataError> {
    let image_like = matches!(input_shape, [1, 28, 28] | [28, 28] | [784]);
    let vector = input_shape.len() == 1 && input_shape[0] > 0;
    match targets {
        TargetKind::Classes { classes } if image_like && classes >= 10 => {
            let mut d = digits(n, seed);
            d.sample_shape = input_shape.to_vec();
            return Ok(d);
        }
        TargetKind::Values if input_shape == [1] && output_len == 1 => return Ok(linear(n, seed)),
        TargetKind::Classes { classes } if vector && classes > 0 => {
            return blobs(n, input_shape[0], classes, seed);
        }
        TargetKind::Binary if vector && output_len == 1 => return binary_blobs(n, input_shape[0], seed),
        _ => {}
    }
    Err(DataError::NoSynthetic {
        input_shape: input_shape.to_vec(),
        targets: match targets {
            TargetKind::Classes { classes } => format!("{classes}-class"),
            TargetKind::Binary => format!("{output_len} binary"),
            TargetKind::Values => format!("{output_len} real-valued"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Samples as _;

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(digits(50, 1), digits(50, 1));
        assert_ne!(digits(50, 1).inputs, digits(50, 2).inputs);
        assert_eq!(linear(50, 1), linear(50, 1));
        assert_ne!(linear(50, 1), linear(50, 2));
        assert_eq!(blobs(50, 3, 4, 1).unwrap(), blobs(50, 3, 4, 1).unwrap());
        assert_ne!(blobs(50, 3, 4, 1).unwrap(), blobs(50, 3, 4, 2).unwrap());
        assert_eq!(binary_blobs(50, 3, 1).unwrap(), binary_blobs(50, 3, 1).unwrap());
        assert_ne!(binary_blobs(50, 3, 1).unwrap(), binary_blobs(50, 3, 2).unwrap());
    }

    #[test]
    fn digits_shapes_ranges_balance() {
        let d = digits(205, 3);
        assert_eq!(
            (d.len, d.sample_shape.clone(), d.inputs.len()),
            (205, vec![1, 28, 28], 205 * 784)
        );
        assert!(d.inputs.iter().all(|&x| (0.0..=1.0).contains(&x)));
        let counts = d.class_counts().unwrap();
        assert_eq!(counts.len(), 10);
        assert!(counts.iter().all(|&c| c == 20 || c == 21), "{counts:?}");
        // every image has ink, and not everywhere
        for i in 0..d.len {
            let bright = d.sample(i).iter().filter(|&&x| x > 0.5).count();
            assert!((20..400).contains(&bright), "image {i}: {bright} bright pixels");
        }
        assert!(
            d.validate_for(&[1, 28, 28], TargetKind::Classes { classes: 10 }, 10)
                .is_ok()
        );
    }

    /// Nearest class mean, a crude linear classifier: clearly better than
    /// chance, clearly short of perfect.
    #[test]
    fn digits_are_learnable_but_not_trivial() {
        let train = digits(2000, 11);
        let test = digits(500, 12);
        let mut means = vec![vec![0f64; 784]; 10];
        let counts = train.class_counts().unwrap();
        let TargetData::Classes(labels) = &train.targets else {
            unreachable!()
        };
        for (i, &l) in labels.iter().enumerate() {
            for (m, &x) in means[l as usize].iter_mut().zip(train.sample(i)) {
                *m += f64::from(x) / counts[l as usize] as f64;
            }
        }
        let TargetData::Classes(test_labels) = &test.targets else {
            unreachable!()
        };
        let correct = (0..test.len)
            .filter(|&i| {
                let dist = |m: &Vec<f64>| -> f64 {
                    m.iter()
                        .zip(test.sample(i))
                        .map(|(a, &b)| (a - f64::from(b)).powi(2))
                        .sum()
                };
                let best = (0..10)
                    .min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])))
                    .unwrap();
                best as u32 == test_labels[i]
            })
            .count();
        let acc = correct as f64 / test.len as f64;
        assert!((0.35..0.95).contains(&acc), "nearest-mean accuracy {acc}");
    }

    #[test]
    fn linear_values() {
        let d = linear(2000, 4);
        assert_eq!(d.sample_shape, vec![1]);
        let TargetData::Values(y, 1) = &d.targets else {
            panic!()
        };
        assert!(d.inputs.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let resid: Vec<f64> = d
            .inputs
            .iter()
            .zip(y)
            .map(|(&x, &y)| f64::from(y) - 2.0 * f64::from(x) - 3.0)
            .collect();
        let mean = resid.iter().sum::<f64>() / resid.len() as f64;
        let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / resid.len() as f64).sqrt();
        assert!(
            mean.abs() < 0.01 && (sd - 0.1).abs() < 0.01,
            "mean {mean} sd {sd}"
        );
    }

    #[test]
    fn blobs_are_balanced_and_near_their_centres() {
        for features in [1, 2, 10] {
            let d = blobs(1000, features, 7, 5).unwrap();
            assert_eq!(d.sample_shape, vec![features]);
            assert_eq!(d.class_counts().unwrap().iter().copied().min(), Some(142));
            // nearest class mean classifies almost everything
            let TargetData::Classes(labels) = &d.targets else {
                unreachable!()
            };
            let mut means = vec![vec![0f64; features]; 7];
            for (i, &l) in labels.iter().enumerate() {
                for (m, &x) in means[l as usize].iter_mut().zip(d.sample(i)) {
                    *m += f64::from(x);
                }
            }
            let counts = d.class_counts().unwrap();
            for (m, &c) in means.iter_mut().zip(&counts) {
                m.iter_mut().for_each(|v| *v /= c as f64);
            }
            let correct = (0..d.len)
                .filter(|&i| {
                    let dist = |m: &Vec<f64>| -> f64 {
                        m.iter()
                            .zip(d.sample(i))
                            .map(|(a, &b)| (a - f64::from(b)).powi(2))
                            .sum()
                    };
                    (0..7)
                        .min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])))
                        .unwrap() as u32
                        == labels[i]
                })
                .count();
            assert!(
                correct as f64 / d.len as f64 > 0.95,
                "{features} features: {correct}/1000"
            );
        }
        assert!(blobs(10, 0, 3, 1).is_err());
    }

    #[test]
    fn binary_blobs_targets() {
        let d = binary_blobs(1001, 4, 6).unwrap();
        let TargetData::Values(y, 1) = &d.targets else {
            panic!()
        };
        assert!(y.iter().all(|&v| v == 0.0 || v == 1.0));
        let ones = y.iter().filter(|&&v| v == 1.0).count();
        assert!(ones == 500 || ones == 501);
        assert!(d.validate_for(&[4], TargetKind::Binary, 1).is_ok());
    }

    #[test]
    fn for_model_picks_a_generator() {
        let c10 = TargetKind::Classes { classes: 10 };
        assert_eq!(for_model(&[1, 28, 28], c10, 10, 20, 1).unwrap(), digits(20, 1));
        assert_eq!(for_model(&[784], c10, 10, 5, 1).unwrap().sample_shape, vec![784]);
        assert_eq!(
            for_model(&[1], TargetKind::Values, 1, 20, 1).unwrap(),
            linear(20, 1)
        );
        assert_eq!(
            for_model(&[5], TargetKind::Classes { classes: 3 }, 3, 20, 1).unwrap(),
            blobs(20, 5, 3, 1).unwrap()
        );
        assert_eq!(
            for_model(&[5], TargetKind::Binary, 1, 20, 1).unwrap(),
            binary_blobs(20, 5, 1).unwrap()
        );
        for (shape, kind, out) in [
            (&[3, 32, 32][..], c10, 10),
            (&[2][..], TargetKind::Values, 1),
            (&[1][..], TargetKind::Values, 3),
            (&[5][..], TargetKind::Binary, 2),
        ] {
            let e = for_model(shape, kind, out, 10, 1).unwrap_err();
            assert!(matches!(e, DataError::NoSynthetic { .. }));
            assert!(e.to_string().contains("--data"), "{e}");
        }
        for (shape, kind, out) in [
            (&[1, 28, 28][..], c10, 10usize),
            (&[1][..], TargetKind::Values, 1),
            (&[6][..], TargetKind::Classes { classes: 4 }, 4),
            (&[6][..], TargetKind::Binary, 1),
        ] {
            let d = for_model(shape, kind, out, 30, 2).unwrap();
            d.validate_for(shape, kind, out).unwrap();
        }
    }
}
