//! `bench`: training throughput, inference latency, GFLOP/s against the
//! machine's peak measured in the same run, peak memory, and the GFLOP/s of
//! each dense and conv2d layer's kernels at its own shapes.
//!
//! Figures on a shared machine swing between runs; compare against other
//! systems as ratios measured side by side, never against old numbers.

use crate::files::emit;
use specc_core::gemm::{matmul_nn, matmul_nt, matmul_tn};
use specc_core::simd::with_precision;
use specc_core::{LayerKernel, Precision, conv, depthwise};
use specc_train::{Model, Rng, TargetKind, Targets};
use std::time::{Duration, Instant};

/// The machine's ceilings on the threads the models use, measured now.
pub struct Peak {
    /// Independent FMA chains in the widest vector unit available, on
    /// each of `threads` threads at once (the sum).
    pub fma_gflops: f64,
    /// Which instructions the FMA loop used.
    pub fma_kind: &'static str,
    /// A 1024^3 sgemm through specc's own GEMM path, on `threads` threads.
    pub sgemm_gflops: f64,
    /// Independent `vdpbf16ps` chains (32 bf16 multiply-adds each), summed
    /// over the threads, when the CPU has AVX512-BF16.
    pub bf16_gflops: Option<f64>,
    /// The same 1024^3 product in bf16 ([`Precision::Bf16`]).
    pub bf16_gemm_gflops: f64,
    /// [`specc_core::par::threads`].
    pub threads: usize,
}

/// Runs `f` repeatedly for at least `budget` (and at least `min_runs` times)
/// and returns the durations of each run.
fn sample(budget: Duration, min_runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_runs || started.elapsed() < budget {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// FMA throughput: `chains` independent accumulators so the FMA units never
/// wait on a result.
pub fn fma_peak() -> (f64, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return (unsafe { x86::fma_avx512() }, "avx512");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return (unsafe { x86::fma_avx2() }, "avx2+fma");
        }
    }
    (fma_portable(), "portable")
}

fn fma_portable() -> f64 {
    const LANES: usize = 64;
    let iterations = 2_000_000usize;
    let mut acc = [1.0f32; LANES];
    let (a, b) = (std::hint::black_box(0.999_999f32), std::hint::black_box(1e-7f32));
    let t = Instant::now();
    for _ in 0..iterations {
        for x in acc.iter_mut() {
            *x = x.mul_add(a, b);
        }
    }
    let seconds = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (2 * LANES * iterations) as f64 / seconds / 1e9
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::time::Instant;

    const ITERATIONS: usize = 20_000_000;

    /// 16 chains of 16-lane FMAs.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma_avx512() -> f64 {
        let a = _mm512_set1_ps(std::hint::black_box(0.999_999));
        let b = _mm512_set1_ps(std::hint::black_box(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); 16];
        let t = Instant::now();
        for _ in 0..ITERATIONS {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        std::hint::black_box(acc);
        (2 * 16 * 16 * ITERATIONS) as f64 / seconds / 1e9
    }

    /// 12 chains of 8-lane FMAs.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma_avx2() -> f64 {
        let a = _mm256_set1_ps(std::hint::black_box(0.999_999));
        let b = _mm256_set1_ps(std::hint::black_box(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); 12];
        let t = Instant::now();
        for _ in 0..ITERATIONS {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        std::hint::black_box(acc);
        (2 * 12 * 8 * ITERATIONS) as f64 / seconds / 1e9
    }

    /// 16 chains of `vdpbf16ps` (16 lanes of two bf16 products each).
    #[target_feature(enable = "avx512bf16,avx512f")]
    pub unsafe fn dpbf16_avx512() -> f64 {
        // SAFETY: a vector of 16 u32 lanes is 32 bf16 lanes bit for bit
        // (both are 64 plain bytes); 0x3f80_3f80 is the pair (1.0, 1.0).
        let (a, b): (__m512bh, __m512bh) = unsafe {
            (
                std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(std::hint::black_box(
                    0x3f80_3f80,
                ))),
                std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(std::hint::black_box(
                    0x3380_3380,
                ))),
            )
        };
        let mut acc = [_mm512_set1_ps(1.0); 16];
        let t = Instant::now();
        for _ in 0..ITERATIONS {
            for x in acc.iter_mut() {
                *x = _mm512_dpbf16_ps(*x, a, b);
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        std::hint::black_box(acc);
        (2 * 32 * 16 * ITERATIONS) as f64 / seconds / 1e9
    }
}

/// bf16 multiply-add throughput (`vdpbf16ps`), when the CPU has AVX512-BF16.
pub fn bf16_peak() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if specc_core::simd::KernelKind::Avx512Bf16.is_supported() {
        // SAFETY: the CPU supports AVX512-BF16 and AVX-512F, checked just above.
        return Some(unsafe { x86::dpbf16_avx512() });
    }
    None
}

/// The best of three 1024^3 products through specc's GEMM in `precision`.
pub fn gemm_peak(precision: Precision) -> f64 {
    let n = 1024;
    let mut rng = Rng::new(1);
    let a: Vec<f32> = (0..n * n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let b: Vec<f32> = (0..n * n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let mut c = vec![0.0f32; n * n];
    let times = sample(Duration::ZERO, 3, || {
        with_precision(precision, || {
            specc_core::gemm::gemm(n, n, n, 1.0, &a, false, &b, false, 0.0, &mut c)
        })
    });
    let best = times.into_iter().min().unwrap_or(Duration::from_secs(1));
    2.0 * (n * n * n) as f64 / best.as_secs_f64() / 1e9
}

pub fn peak() -> Peak {
    let threads = specc_core::par::threads();
    let loops: Vec<((f64, &'static str), Option<f64>)> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads).map(|_| scope.spawn(fma_peak)).collect();
        let fma: Vec<_> = running
            .into_iter()
            .map(|t| t.join().expect("the FMA loop does not panic"))
            .collect();
        let running: Vec<_> = (0..threads).map(|_| scope.spawn(bf16_peak)).collect();
        let bf16 = running
            .into_iter()
            .map(|t| t.join().expect("the bf16 loop does not panic"));
        fma.into_iter().zip(bf16).collect()
    });
    Peak {
        fma_gflops: loops.iter().map(|l| l.0.0).sum(),
        fma_kind: loops[0].0.1,
        sgemm_gflops: gemm_peak(Precision::F32),
        bf16_gflops: loops.iter().map(|l| l.1).sum(),
        bf16_gemm_gflops: gemm_peak(Precision::Bf16),
        threads,
    }
}

/// Peak resident memory of this process (Linux: VmHWM), in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A random batch of inputs and targets for `M`.
fn batch_for<M: Model<F = f32>>(batch: usize) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let mut rng = Rng::new(7);
    let x = (0..batch * M::input_len())
        .map(|_| rng.next_f64() as f32)
        .collect();
    let (classes, values) = match M::TARGETS {
        TargetKind::Classes { classes } => (
            (0..batch).map(|_| rng.below(classes) as u32).collect(),
            Vec::new(),
        ),
        TargetKind::Binary => (
            Vec::new(),
            (0..batch * M::output_len())
                .map(|_| rng.below(2) as f32)
                .collect(),
        ),
        TargetKind::Values => (
            Vec::new(),
            (0..batch * M::output_len())
                .map(|_| rng.uniform(-1.0, 1.0) as f32)
                .collect(),
        ),
    };
    (x, classes, values)
}

/// Training throughput at one batch size: (samples/s, GFLOP/s of the step).
pub fn training<M: Model<F = f32>>(batch: usize, budget: Duration) -> (f64, f64) {
    let mut model = M::new(0);
    let (x, classes, values) = batch_for::<M>(batch);
    let targets = || match M::TARGETS {
        TargetKind::Classes { .. } => Targets::Classes(&classes),
        _ => Targets::Values(&values),
    };
    // Tiny steps keep the parameters from drifting far during the benchmark.
    model.set_learning_rate(1e-6);
    model.train_step(&x, targets(), batch);
    let step = median(sample(budget, 5, || {
        model.train_step(&x, targets(), batch);
    }));
    let seconds = step.as_secs_f64();
    let samples_per_second = batch as f64 / seconds;
    let gflops = 3.0 * M::FORWARD_FLOPS as f64 * batch as f64 / seconds / 1e9;
    (samples_per_second, gflops)
}

/// Median batch-1 inference latency in microseconds.
pub fn inference_latency<M: Model<F = f32>>(budget: Duration) -> f64 {
    let mut model = M::new(0);
    let (x, _, _) = batch_for::<M>(1);
    let mut out = vec![0.0f32; M::output_len()];
    model.predict_into(&x, 1, &mut out);
    median(sample(budget, 50, || model.predict_into(&x, 1, &mut out))).as_secs_f64() * 1e6
}

/// Runs the whole benchmark in `precision` and prints its table; fails
/// only if standard output cannot be written.
pub fn run<M: Model<F = f32>>(
    seconds_per_figure: f64,
    precision: Precision,
) -> Result<(), crate::RunnerError> {
    let budget = Duration::from_secs_f64(seconds_per_figure);
    emit!(
        "benchmark of {} in {precision} (forward {:.2} MFLOP per sample; a training step counts 3x)",
        M::NAME,
        M::FORWARD_FLOPS as f64 / 1e6
    )?;
    let peak = peak();
    emit!(
        "machine peak, {} thread(s): FMA loop {:.1} GFLOP/s ({}), sgemm 1024^3 {:.1} GFLOP/s ({:.0}% of FMA)",
        peak.threads,
        peak.fma_gflops,
        peak.fma_kind,
        peak.sgemm_gflops,
        100.0 * peak.sgemm_gflops / peak.fma_gflops
    )?;
    let bf16_peak = match peak.bf16_gflops {
        Some(g) => {
            emit!(
                "bf16 peak: vdpbf16ps loop {g:.1} GFLOP/s, bf16 GEMM 1024^3 {:.1} GFLOP/s ({:.0}% of it; kernel {})",
                peak.bf16_gemm_gflops,
                100.0 * peak.bf16_gemm_gflops / g,
                specc_core::gemm::bf16_kernel_name()
            )?;
            g
        }
        None => {
            emit!(
                "bf16 peak: this CPU has no AVX512-BF16 (bf16 runs the portable kernel); bf16 GEMM 1024^3 {:.1} GFLOP/s",
                peak.bf16_gemm_gflops
            )?;
            peak.fma_gflops
        }
    };
    // Shares are of the peak of the precision the products run in.
    let (ceiling, of) = match precision {
        Precision::Bf16 => (bf16_peak, "% of bf16"),
        Precision::F32 => (peak.fma_gflops, "% of FMA"),
    };
    emit!("{:<28} {:>14} {:>12} {:>12}", "figure", "value", "GFLOP/s", of)?;
    for batch in [1usize, 32, 128] {
        let (samples, gflops) = training::<M>(batch, budget);
        emit!(
            "{:<28} {:>14} {:>12.1} {:>11.1}%",
            format!("training, batch {batch}"),
            format!("{samples:.0} samples/s"),
            gflops,
            100.0 * gflops / ceiling
        )?;
    }
    let latency = inference_latency::<M>(budget);
    let gflops = M::FORWARD_FLOPS as f64 / (latency * 1e-6) / 1e9;
    emit!(
        "{:<28} {:>14} {:>12.1} {:>11.1}%",
        "inference, batch 1 (median)",
        format!("{latency:.1} us"),
        gflops,
        100.0 * gflops / ceiling
    )?;
    if let Some(mib) = peak_memory_mib() {
        emit!("peak memory: {mib:.1} MiB")?;
    }
    if !M::KERNELS.is_empty() {
        emit!("")?;
        let figures = layer_kernels(M::KERNELS, LAYER_BATCH, budget.min(LAYER_BUDGET));
        print_layer_kernels(&figures, ceiling, of)?;
    }
    Ok(())
}

/// The batch size of the per-layer figures.
pub const LAYER_BATCH: usize = 128;

/// The time spent measuring each pass of each layer (at most the per-figure budget).
const LAYER_BUDGET: Duration = Duration::from_millis(50);

/// A pass of a dense or conv2d layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Forward,
    InputGradient,
    WeightGradient,
}

impl Pass {
    pub fn label(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::InputGradient => "input gradient",
            Pass::WeightGradient => "weight gradient",
        }
    }
}

/// One pass of one layer, timed through the runtime kernel the generated
/// code calls for it.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelFigure {
    /// The layer's name in the spec.
    pub layer: &'static str,
    pub pass: Pass,
    /// The GEMM's `m x k x n`; for conv2d `batch x [m x k x n]`, one product
    /// per sample. `-` for a pass the layer does not compute.
    pub shape: String,
    /// FLOPs of one call over the whole batch (a multiply-add is two).
    pub flops: u64,
    /// Median GFLOP/s; `None` for a pass the layer does not compute (the
    /// input gradient of a layer that reads the model's input).
    pub gflops: Option<f64>,
}

fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
    (0..len).map(|_| rng.uniform(-1.0, 1.0) as f32).collect()
}

/// GFLOP/s of `flops` per call of `f`: one warm-up call, then the median of
/// runs over `budget` (at least three).
fn kernel_gflops(flops: u64, budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let seconds = median(sample(budget, 3, f)).as_secs_f64().max(1e-9);
    flops as f64 / seconds / 1e9
}

/// Times the forward, input-gradient and weight-gradient kernels of each
/// layer at `batch` with the layer's shapes, on random buffers allocated once
/// per layer: three figures per layer, in the order of `kernels`.
pub fn layer_kernels(kernels: &[LayerKernel], batch: usize, budget: Duration) -> Vec<KernelFigure> {
    let mut rng = Rng::new(11);
    let mut figures = Vec::with_capacity(3 * kernels.len());
    for kernel in kernels {
        let layer = kernel.name();
        let figure = |pass, shape: String, flops: usize, gflops: Option<f64>| KernelFigure {
            layer,
            pass,
            shape: if gflops.is_some() { shape } else { "-".into() },
            flops: if gflops.is_some() { flops as u64 } else { 0 },
            gflops,
        };
        match *kernel {
            LayerKernel::Dense {
                inputs,
                units,
                input_gradient,
                ..
            } => {
                let x = random(batch * inputs, &mut rng);
                let weight = random(units * inputs, &mut rng);
                let dy = random(batch * units, &mut rng);
                let mut y = vec![0.0f32; batch * units];
                let mut dx = vec![0.0f32; batch * inputs];
                let mut d_weight = vec![0.0f32; units * inputs];
                let flops = 2 * batch * inputs * units;
                let forward = kernel_gflops(flops as u64, budget, || {
                    matmul_nt(batch, inputs, units, &x, &weight, &mut y, false)
                });
                let backward_input = input_gradient.then(|| {
                    kernel_gflops(flops as u64, budget, || {
                        matmul_nn(batch, units, inputs, &dy, &weight, &mut dx, false)
                    })
                });
                let backward_weight = kernel_gflops(flops as u64, budget, || {
                    matmul_tn(units, batch, inputs, &dy, &x, &mut d_weight, false)
                });
                figures.extend([
                    figure(
                        Pass::Forward,
                        format!("{batch}x{inputs}x{units}"),
                        flops,
                        Some(forward),
                    ),
                    figure(
                        Pass::InputGradient,
                        format!("{batch}x{units}x{inputs}"),
                        flops,
                        backward_input,
                    ),
                    figure(
                        Pass::WeightGradient,
                        format!("{units}x{batch}x{inputs}"),
                        flops,
                        Some(backward_weight),
                    ),
                ]);
            }
            LayerKernel::Depthwise {
                shape,
                input_gradient,
                ..
            } => {
                let filters = shape.channels * shape.multiplier;
                let (taps, positions) = (shape.kernel_h * shape.kernel_w, shape.out_h * shape.out_w);
                let x = random(batch * shape.input_len(), &mut rng);
                let weight = random(filters * taps, &mut rng);
                let dy = random(batch * shape.output_len(), &mut rng);
                let mut y = vec![0.0f32; batch * shape.output_len()];
                let mut dx = vec![0.0f32; batch * shape.input_len()];
                let mut d_weight = vec![0.0f32; filters * taps];
                let flops = 2 * filters * taps * positions * batch;
                let forward = kernel_gflops(flops as u64, budget, || {
                    depthwise::forward(&shape, batch, &x, &weight, None, &mut y)
                });
                let backward_input = input_gradient.then(|| {
                    kernel_gflops(flops as u64, budget, || {
                        depthwise::backward_input(&shape, batch, &dy, &weight, &mut dx, false)
                    })
                });
                let backward_weight = kernel_gflops(flops as u64, budget, || {
                    depthwise::backward_weights(&shape, batch, &x, &dy, &mut d_weight, None)
                });
                let dims = format!("{batch} x {filters} x [{taps}x{positions}]");
                figures.extend([
                    figure(Pass::Forward, dims.clone(), flops, Some(forward)),
                    figure(Pass::InputGradient, dims.clone(), flops, backward_input),
                    figure(Pass::WeightGradient, dims, flops, Some(backward_weight)),
                ]);
            }
            LayerKernel::Conv2d {
                shape,
                input_gradient,
                ..
            } => {
                let (filters, patch, positions) = (shape.filters, shape.patch_len(), shape.out_positions());
                let x = random(batch * shape.input_len(), &mut rng);
                let weight = random(filters * patch, &mut rng);
                let dy = random(batch * shape.output_len(), &mut rng);
                let mut y = vec![0.0f32; batch * shape.output_len()];
                let mut dx = vec![0.0f32; batch * shape.input_len()];
                let mut d_weight = vec![0.0f32; filters * patch];
                let mut dy_scratch = dy.clone();
                let flops = 2 * filters * patch * positions * batch;
                let forward = kernel_gflops(flops as u64, budget, || {
                    conv::forward(&shape, batch, &x, &weight, None, &mut y, |_| {})
                });
                let mut backward = |grads: conv::Gradients<'_, f32>| {
                    conv::backward(&shape, batch, &x, None, |_, _| {}, &mut dy_scratch, grads)
                };
                let backward_input = input_gradient.then(|| {
                    kernel_gflops(flops as u64, budget, || {
                        backward(conv::Gradients {
                            d_weight: None,
                            d_bias: None,
                            dx: Some(conv::InputGradient {
                                weight: &weight,
                                dx: &mut dx,
                                accumulate: false,
                            }),
                        })
                    })
                });
                let backward_weight = kernel_gflops(flops as u64, budget, || {
                    backward(conv::Gradients {
                        d_weight: Some(&mut d_weight),
                        d_bias: None,
                        dx: None,
                    })
                });
                figures.extend([
                    figure(
                        Pass::Forward,
                        format!("{batch} x [{filters}x{patch}x{positions}]"),
                        flops,
                        Some(forward),
                    ),
                    figure(
                        Pass::InputGradient,
                        format!("{batch} x [{patch}x{filters}x{positions}]"),
                        flops,
                        backward_input,
                    ),
                    figure(
                        Pass::WeightGradient,
                        format!("{batch} x [{filters}x{positions}x{patch}]"),
                        flops,
                        Some(backward_weight),
                    ),
                ]);
            }
        }
    }
    figures
}

/// Prints the per-layer table under the main one.
fn print_layer_kernels(figures: &[KernelFigure], ceiling: f64, of: &str) -> Result<(), crate::RunnerError> {
    emit!(
        "per layer, batch {LAYER_BATCH}: the runtime kernel of each pass at the layer's shape \
         (conv2d: one GEMM per sample, plus im2col or col2im, or a direct forward pass for one input channel at stride 1; -: pass not computed)"
    )?;
    let layer_width = figures.iter().map(|f| f.layer.len()).max().unwrap_or(0).max(5);
    let shape_width = figures.iter().map(|f| f.shape.len()).max().unwrap_or(0).max(17);
    emit!(
        "{:<layer_width$}  {:<15}  {:<shape_width$} {:>12} {:>12}",
        "layer",
        "pass",
        "shape (m x k x n)",
        "GFLOP/s",
        of
    )?;
    for f in figures {
        let (gflops, share) = match f.gflops {
            Some(g) => (format!("{g:.1}"), format!("{:.1}%", 100.0 * g / ceiling)),
            None => ("-".to_string(), "-".to_string()),
        };
        emit!(
            "{:<layer_width$}  {:<15}  {:<shape_width$} {:>12} {:>12}",
            f.layer,
            f.pass.label(),
            f.shape,
            gflops,
            share
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_kernels_time_all_three_passes_of_a_convolution_with_an_input_gradient() {
        let shape = conv::Conv2dShape {
            channels: 2,
            height: 6,
            width: 5,
            filters: 3,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_left: 0,
            out_h: 4,
            out_w: 3,
        };
        let kernels = [
            // With its input gradient, which the generated models' first
            // convolutions (tests/tests/runner.rs) never compute.
            LayerKernel::Conv2d {
                name: "conv2d_1",
                shape,
                input_gradient: true,
            },
            LayerKernel::Dense {
                name: "dense_1",
                inputs: 36,
                units: 4,
                input_gradient: true,
            },
            LayerKernel::Depthwise {
                name: "depthwise_conv2d_1",
                shape: depthwise::DepthwiseShape {
                    channels: 2,
                    height: 6,
                    width: 5,
                    multiplier: 2,
                    kernel_h: 3,
                    kernel_w: 3,
                    stride_h: 1,
                    stride_w: 1,
                    dilation_h: 1,
                    dilation_w: 1,
                    pad_top: 0,
                    pad_left: 0,
                    out_h: 4,
                    out_w: 3,
                },
                input_gradient: true,
            },
        ];
        let figures = layer_kernels(&kernels, 2, Duration::ZERO);
        let rows: Vec<(&str, Pass, &str)> = figures
            .iter()
            .map(|f| (f.layer, f.pass, f.shape.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("conv2d_1", Pass::Forward, "2 x [3x18x12]"),
                ("conv2d_1", Pass::InputGradient, "2 x [18x3x12]"),
                ("conv2d_1", Pass::WeightGradient, "2 x [3x12x18]"),
                ("dense_1", Pass::Forward, "2x36x4"),
                ("dense_1", Pass::InputGradient, "2x4x36"),
                ("dense_1", Pass::WeightGradient, "4x2x36"),
                ("depthwise_conv2d_1", Pass::Forward, "2 x 4 x [9x12]"),
                ("depthwise_conv2d_1", Pass::InputGradient, "2 x 4 x [9x12]"),
                ("depthwise_conv2d_1", Pass::WeightGradient, "2 x 4 x [9x12]"),
            ]
        );
        assert_eq!(figures[0].flops, 2 * 3 * 18 * 12 * 2);
        assert_eq!(figures[1].flops, 2 * 3 * 18 * 12 * 2);
        assert_eq!(figures[3].flops, 2 * 2 * 36 * 4);
        assert_eq!(figures[6].flops, 2 * 4 * 9 * 12 * 2);
        for f in &figures {
            assert!(f.gflops.is_some_and(|g| g > 0.0 && g.is_finite()), "{f:?}");
        }
    }
}
