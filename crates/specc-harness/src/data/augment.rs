//! Augmentation of training images ([`Augment`], a spec's `augment(...)`):
//! flips, rotations and shifts drawn for each sample from the training
//! seed, the epoch and the sample's index in the data set, so that an
//! epoch's batches are the same for every thread count and do not depend on
//! which other samples share a batch. Nothing allocates after [`Augmenter::new`].

pub use specc_types::Augment;

use specc_core::par;
use specc_train::Rng;

/// Applies an [`Augment`] to samples of one image shape, with the scratch
/// space it needs.
#[derive(Clone, Debug)]
pub struct Augmenter {
    augment: Augment,
    shape: [usize; 3],
    /// One sample's worth per part of a batch; grown on the first batch.
    scratch: Vec<f32>,
}

impl Augmenter {
    /// An augmenter for samples of `shape` (`[channels, height, width]`);
    /// `None` when `augment` changes nothing.
    pub fn new(augment: Augment, shape: [usize; 3]) -> Option<Self> {
        (!augment.is_none()).then(|| Augmenter {
            augment,
            shape,
            scratch: Vec::new(),
        })
    }

    /// The stream of epoch `epoch`'s random draws for the sample at `index`.
    pub fn rng(seed: u64, epoch: usize, index: usize) -> Rng {
        let key =
            Rng::derive(seed, "augment").next_u64() ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut rng = Rng::new(key ^ (index as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
        rng.next_u64();
        rng
    }

    /// Augments a batch in place, on the runtime's threads: `inputs` holds
    /// one sample per entry of `indices` (the samples' indices in the data
    /// set), one after another. Each sample's result depends on its index
    /// alone, so the thread count does not matter.
    pub fn batch(&mut self, inputs: &mut [f32], indices: &[usize], seed: u64, epoch: usize) {
        let len: usize = self.shape.iter().product();
        let per_part = par::part_len(indices.len(), 8, 1);
        let parts = indices.len().div_ceil(per_part);
        if self.scratch.len() < parts * len {
            self.scratch.resize(parts * len, 0.0);
        }
        let (augment, shape) = (self.augment, self.shape);
        let work = inputs
            .chunks_mut(per_part * len)
            .zip(indices.chunks(per_part))
            .zip(self.scratch.chunks_exact_mut(len));
        par::for_each_part(work, |_, ((inputs, indices), scratch)| {
            for (sample, &index) in inputs.chunks_exact_mut(len).zip(indices) {
                augment_sample(
                    augment,
                    shape,
                    sample,
                    scratch,
                    &mut Self::rng(seed, epoch, index),
                );
            }
        });
    }
}

/// Augments one sample in place with draws from `rng` (`scratch` holds one
/// sample): flip, rotate, then shift, each drawn whether or not it applies
/// so that turning one on does not change the draws of the others.
pub fn augment_sample(a: Augment, shape: [usize; 3], sample: &mut [f32], scratch: &mut [f32], rng: &mut Rng) {
    let w = shape[2];
    let flip = rng.next_f64() < 0.5;
    let angle = rng.uniform(-a.rotate, a.rotate).to_radians();
    let shift = |rng: &mut Rng, n: usize| rng.below(2 * n + 1) as isize - n as isize;
    let (cx, cy) = (shift(rng, a.crop), shift(rng, a.crop));
    let (tx, ty) = (shift(rng, a.translate), shift(rng, a.translate));
    if a.flip && flip {
        for row in sample.chunks_exact_mut(w) {
            row.reverse();
        }
    }
    if a.rotate > 0.0 && angle != 0.0 {
        scratch.copy_from_slice(sample);
        rotate(scratch, sample, shape, angle);
    }
    let (dx, dy) = (cx + tx, cy + ty);
    if dx != 0 || dy != 0 {
        scratch.copy_from_slice(sample);
        shift_image(scratch, sample, shape, dx, dy);
    }
}

/// `out(x, y) = src(x + dx, y + dy)`, 0 outside the image.
fn shift_image(src: &[f32], out: &mut [f32], [channels, h, w]: [usize; 3], dx: isize, dy: isize) {
    let plane = h * w;
    for c in 0..channels {
        for y in 0..h {
            let sy = y as isize + dy;
            let row = &mut out[c * plane + y * w..][..w];
            if !(0..h as isize).contains(&sy) {
                row.fill(0.0);
                continue;
            }
            let from = &src[c * plane + sy as usize * w..][..w];
            for (x, o) in row.iter_mut().enumerate() {
                let sx = x as isize + dx;
                *o = if (0..w as isize).contains(&sx) {
                    from[sx as usize]
                } else {
                    0.0
                };
            }
        }
    }
}

/// `out` is `src` rotated by `angle` radians (counter-clockwise on screen)
/// about the image's centre, sampled bilinearly, 0 outside.
fn rotate(src: &[f32], out: &mut [f32], [channels, h, w]: [usize; 3], angle: f64) {
    let (sin, cos) = angle.sin_cos();
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let plane = h * w;
    let (wi, hi) = (w as i32, h as i32);
    for y in 0..h {
        let ry = y as f64 - cy;
        for x in 0..w {
            // The source of output pixel (x, y): rotate it back.
            let rx = x as f64 - cx;
            let sx = (cos * rx - sin * ry + cx) as f32;
            let sy = (sin * rx + cos * ry + cy) as f32;
            // floor, without a libm call
            let (x0, y0) = (sx as i32, sy as i32);
            let (x0, y0) = (x0 - i32::from(sx < x0 as f32), y0 - i32::from(sy < y0 as f32));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let weights = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
            let o = y * w + x;
            if x0 >= 0 && y0 >= 0 && x0 + 1 < wi && y0 + 1 < hi {
                let i = y0 as usize * w + x0 as usize;
                for c in 0..channels {
                    let p = &src[c * plane + i..];
                    out[c * plane + o] =
                        weights[0] * p[0] + weights[1] * p[1] + weights[2] * p[w] + weights[3] * p[w + 1];
                }
                continue;
            }
            // At the border: the neighbours inside the image only.
            for c in 0..channels {
                let mut v = 0.0;
                for (k, (ox, oy)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
                    let (px, py) = (x0 + ox, y0 + oy);
                    if (0..wi).contains(&px) && (0..hi).contains(&py) {
                        v += weights[k] * src[c * plane + py as usize * w + px as usize];
                    }
                }
                out[c * plane + o] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: [usize; 3]) -> Vec<f32> {
        (0..shape.iter().product::<usize>()).map(|i| i as f32).collect()
    }

    #[test]
    fn nothing_to_do_is_no_augmenter() {
        assert!(Augmenter::new(Augment::NONE, [1, 4, 4]).is_none());
    }

    #[test]
    fn shifts_and_flips_move_pixels_exactly() {
        let shape = [2, 3, 4];
        let src = ramp(shape);
        let mut out = vec![9.0; 24];
        shift_image(&src, &mut out, shape, 1, -1);
        // Row 0 comes from row -1 (zeros); row 1, x = 0 from row 0, x = 1.
        assert_eq!(&out[..4], &[0.0; 4]);
        assert_eq!(&out[4..8], &[1.0, 2.0, 3.0, 0.0]);
        assert_eq!(&out[16..20], &[13.0, 14.0, 15.0, 0.0]);
        // A quarter turn of a square image, and a turn of zero, are exact.
        let sq = [1, 3, 3];
        let src = ramp(sq);
        let mut out = vec![0.0; 9];
        rotate(&src, &mut out, sq, 0.0);
        assert_eq!(out, src);
        rotate(&src, &mut out, sq, std::f64::consts::FRAC_PI_2);
        let rounded: Vec<f32> = out.iter().map(|v| v.round()).collect();
        assert_eq!(rounded, [2.0, 5.0, 8.0, 1.0, 4.0, 7.0, 0.0, 3.0, 6.0]);
    }

    #[test]
    fn draws_depend_on_seed_epoch_and_index_only() {
        let shape = [1, 6, 6];
        let a = Augment {
            flip: true,
            crop: 2,
            translate: 1,
            rotate: 15.0,
        };
        let mut aug = Augmenter::new(a, shape).unwrap();
        // 20 samples in parts of 8, on 1 and 2 threads: the same bits.
        let mut many: Vec<f32> = (0..20).flat_map(|_| ramp(shape)).collect();
        let indices: Vec<usize> = (0..20).collect();
        let mut two = many.clone();
        specc_core::par::with_threads(1, || aug.batch(&mut many, &indices, 5, 1));
        specc_core::par::with_threads(2, || aug.batch(&mut two, &indices, 5, 1));
        assert_eq!(many, two);
        let one = ramp(shape);
        // Samples 7 and 3, as a batch and one at a time in the other order.
        let mut batch: Vec<f32> = one.iter().chain(&one).copied().collect();
        aug.batch(&mut batch, &[7, 3], 11, 2);
        let mut alone = one.clone();
        aug.batch(&mut alone, &[3], 11, 2);
        assert_eq!(&batch[36..], &alone[..]);
        let mut next_epoch = one.clone();
        aug.batch(&mut next_epoch, &[3], 11, 3);
        assert_ne!(next_epoch, alone);
        assert_ne!(&batch[..36], &batch[36..]);
        assert!(
            batch
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0 && *v <= 35.0 + 1e-3)
        );
    }
}
