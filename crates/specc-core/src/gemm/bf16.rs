//! Mixed-precision products: f32 matrices in, f32 out, with the operands
//! rounded to bfloat16 (round to nearest, ties to even) as they are packed
//! and multiplied with f32 accumulation ([`crate::Precision::Bf16`]).
//!
//! The driver is the blocked scheme of the f32 GEMM (`super::blocked`),
//! with packed panels of bf16 *pairs*: step `p` of a panel holds, for each
//! of its `w` rows (or columns), one `u32` whose low half is element
//! `2p` along `k` and whose high half is element `2p + 1` (an odd `k` is
//! padded with a zero). That is the operand layout of `vdpbf16ps`, which
//! adds both products of a pair to each f32 lane; the portable kernel reads
//! the same panels and does the same two additions per pair in the same
//! order (high half first, as Intel defines `vdpbf16ps` and the hardware
//! does). Each element of `c` is the sum over its pairs in order, in blocks
//! of [`KC`] along `k`, whatever the kernel or thread count; the products of
//! two bf16 values are exact in f32 and rounding flushes subnormal operands
//! to zero as the hardware would, so every kernel computes the same bits
//! (but for subnormal results, which `vdpbf16ps` flushes too). Thin
//! products with a long `k` take a dot-product path (`dot`) with the same
//! property.

use super::{Path, Strided};
use crate::scratch::{self, Slot};
use crate::simd::KernelKind;

/// Rows of a tile.
pub(super) const MR: usize = 8;
/// Columns of a tile (two zmm registers of 16 f32 lanes).
pub(super) const NR: usize = 32;
/// Rows of `op(a)` per packed block.
pub(super) const MC: usize = 128;
/// Depth (elements of `k`, even) per packed block.
pub(super) const KC: usize = 256;
/// Columns of `op(b)` per packed block.
pub(super) const NC: usize = 4096;

/// `x` rounded to the nearest bfloat16, ties to even, as its 16 bits; a
/// subnormal becomes a zero of its sign (as `vcvtneps2bf16` and
/// `vdpbf16ps` treat them) and a NaN stays a NaN, made quiet.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    (rounded_bits(x) >> 16) as u16
}

/// The bits of `x` rounded to bfloat16 in the high half (the low half is
/// garbage). LLVM turns the branches into selects, so loops over it
/// vectorise (explicit masks measured slower).
#[inline(always)]
fn rounded_bits(x: f32) -> u32 {
    let bits = x.to_bits();
    let magnitude = bits & 0x7fff_ffff;
    // Adding 0x7fff plus the lowest kept bit rounds half-way cases to even;
    // a carry into the exponent is the correct rounding up (to infinity at
    // the top of the range).
    let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1));
    let nan = (bits | 0x0040_0000) & 0xffff_0000;
    let zero = bits & 0x8000_0000;
    if magnitude > 0x7f80_0000 {
        nan
    } else if magnitude < 0x0080_0000 {
        zero
    } else {
        rounded
    }
}

/// The f32 value of the bfloat16 `h` (exact).
#[inline(always)]
pub fn from_bf16(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// `x` rounded to bfloat16 precision, as an f32: what a bf16 product sees
/// of an f32 operand.
#[inline]
pub fn round_bf16(x: f32) -> f32 {
    from_bf16(to_bf16(x))
}

/// A bf16 micro-kernel: `c (rows x cols) = alpha * a * b + beta * c` for one
/// `MR x NR` tile from `pairs` steps of packed panels.
///
/// # Safety
/// `pairs >= 1`; `a` is valid for reads of `pairs * MR` values and `b` of
/// `pairs * NR`; `rows <= MR`, `cols <= NR`, and `c.add(i * rsc + j * csc)`
/// is valid for reads and writes for every `i < rows`, `j < cols` and
/// aliases neither panel; the CPU supports the kernel's target features.
type KernelFn = unsafe fn(
    pairs: usize,
    alpha: f32,
    a: *const u32,
    b: *const u32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
);

/// The bf16 kernel for `kind`: `vdpbf16ps` with AVX512-BF16, else the
/// portable loops compiled for the instruction set `kind` names.
fn kernel(kind: KernelKind) -> KernelFn {
    match kind {
        #[cfg(target_arch = "x86_64")]
        KernelKind::Avx512Bf16 => avx512bf16,
        #[cfg(target_arch = "x86_64")]
        KernelKind::Avx512 => portable_avx512,
        #[cfg(target_arch = "x86_64")]
        KernelKind::Avx2 => portable_avx2,
        _ => portable,
    }
}

/// The name of the bf16 kernel the GEMM runs for `kind`.
pub fn kernel_name(kind: KernelKind) -> &'static str {
    match kind {
        KernelKind::Avx512Bf16 => "avx512bf16 (vdpbf16ps)",
        _ => "portable",
    }
}

/// `c (m x n, row stride ldc) = alpha * a * b + beta * c` in bf16 on one
/// thread along `path` (chosen for the whole product by the caller), for
/// `m, k, n >= 1` and `alpha != 0`.
#[allow(clippy::too_many_arguments)]
pub(super) fn product(
    kind: KernelKind,
    path: Path,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Strided<'_, f32>,
    b: Strided<'_, f32>,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    match path {
        // `a` is m x k and `b` is n x k (as b^T), both contiguous along k.
        Path::Dot => dot(kind, m, k, n, alpha, a, b.transposed(), beta, c, ldc),
        // The two orientations compute each element by the same sum.
        Path::Transposed => blocked(
            kind,
            n,
            k,
            m,
            alpha,
            b.transposed(),
            a.transposed(),
            beta,
            c,
            1,
            ldc,
        ),
        Path::Blocked => blocked(kind, m, k, n, alpha, a, b, beta, c, ldc, 1),
    }
}

/// Depth of the dot-product path's chunks: 16 lanes of pairs.
const DOT_CHUNK: usize = 32;

/// `c = alpha * a * b^T + beta * c` by dot products, for thin products
/// with a long `k` (a convolution's weight gradient, `32 x 676 x 9`): the
/// rows of `a` (`m x k`) and of `b` (`n x k`), contiguous along `k`, are
/// rounded to bf16 pairs once (zero-padded to whole [`DOT_CHUNK`]s), then
/// each element of `c` is 16 lanes of pair sums over the chunks in order,
/// added up in a fixed tree: the same on every kernel.
#[allow(clippy::too_many_arguments)]
fn dot(
    kind: KernelKind,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Strided<'_, f32>,
    b: Strided<'_, f32>,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    assert!(a.cs == 1 && b.cs == 1);
    assert!((m - 1) * a.rs + k <= a.data.len() && (n - 1) * b.rs + k <= b.data.len());
    assert!((m - 1) * ldc + n <= c.len());
    let row = k.next_multiple_of(DOT_CHUNK) / 2;
    scratch::with_two(
        Slot::Pack,
        m * row,
        n * row,
        |a_pairs: &mut [u32], b_pairs: &mut [u32]| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    pair_rows(a_pairs, a, m, k, row);
                    pair_rows(b_pairs, b, n, k, row);
                },
            );
            let (a_pairs, b_pairs) = (&*a_pairs, &*b_pairs);
            match kind {
                #[cfg(target_arch = "x86_64")]
                KernelKind::Avx512Bf16 => {
                    // SAFETY: `kind` passed `is_supported` in `gemm_with_kernel`,
                    // so the CPU has AVX512-BF16 and AVX-512F.
                    unsafe { dot_avx512bf16(m, n, row, alpha, a_pairs, b_pairs, beta, c, ldc) }
                }
                _ => crate::simd::dispatch(
                    #[inline(always)]
                    || dot_portable(m, n, row, alpha, a_pairs, b_pairs, beta, c, ldc),
                ),
            }
        },
    );
}

/// `out[r * row..][..row]` = row `r` of `src` (`rows x k`) as bf16 pairs,
/// zero-padded.
#[inline(always)]
fn pair_rows(out: &mut [u32], src: Strided<'_, f32>, rows: usize, k: usize, row: usize) {
    for (r, dst) in out[..rows * row].chunks_exact_mut(row).enumerate() {
        let lane = &src.data[r * src.rs..][..k];
        let (two, tail) = lane.as_chunks::<2>();
        for (d, &[x, y]) in dst.iter_mut().zip(two) {
            *d = pair(x, y);
        }
        let rest = &mut dst[two.len()..];
        rest.fill(0);
        if let [x] = tail {
            rest[0] = pair(*x, 0.0);
        }
    }
}

/// The sum of 16 lanes in a fixed order (halves added pairwise).
#[inline(always)]
fn lane_sum(v: [f32; 16]) -> f32 {
    let s8: [f32; 8] = core::array::from_fn(|l| v[l] + v[l + 8]);
    let s4: [f32; 4] = core::array::from_fn(|l| s8[l] + s8[l + 4]);
    (s4[0] + s4[2]) + (s4[1] + s4[3])
}

/// `c[i][j] = alpha * sum + beta * c[i][j]`.
#[inline(always)]
fn store(c: &mut [f32], at: usize, alpha: f32, sum: f32, beta: f32) {
    let x = alpha * sum;
    c[at] = if beta == 0.0 { x } else { x + beta * c[at] };
}

/// The dot path in portable loops: per element, 16 lanes of pair sums
/// (high half first, as `vdpbf16ps`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dot_portable(
    m: usize,
    n: usize,
    row: usize,
    alpha: f32,
    a: &[u32],
    b: &[u32],
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    let half = |x: u32| (f32::from_bits(x << 16), f32::from_bits(x & 0xffff_0000));
    for i in 0..m {
        let ar = &a[i * row..][..row];
        for j in 0..n {
            let br = &b[j * row..][..row];
            let mut acc = [0f32; 16];
            for (ac, bc) in ar.chunks_exact(16).zip(br.chunks_exact(16)) {
                for l in 0..16 {
                    let ((a_lo, a_hi), (b_lo, b_hi)) = (half(ac[l]), half(bc[l]));
                    acc[l] += a_hi * b_hi;
                    acc[l] += a_lo * b_lo;
                }
            }
            store(c, i * ldc + j, alpha, lane_sum(acc), beta);
        }
    }
}

/// The dot path on AVX512-BF16: blocks of 4 rows of `a` by 4 rows of `b`
/// (16 accumulators), one `vdpbf16ps` per pair of rows and chunk; rows past
/// the end repeat the last one (their sums are discarded).
///
/// # Safety
/// The CPU supports AVX512-BF16 and AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bf16,avx512f")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn dot_avx512bf16(
    m: usize,
    n: usize,
    row: usize,
    alpha: f32,
    a: &[u32],
    b: &[u32],
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    use core::arch::x86_64::*;
    const R: usize = 4;
    assert!(a.len() >= m * row && b.len() >= n * row && row.is_multiple_of(16));
    for i0 in (0..m).step_by(R) {
        let ar: [&[u32]; R] = core::array::from_fn(|r| &a[(i0 + r).min(m - 1) * row..][..row]);
        for j0 in (0..n).step_by(R) {
            let br: [&[u32]; R] = core::array::from_fn(|s| &b[(j0 + s).min(n - 1) * row..][..row]);
            let mut acc = [[_mm512_setzero_ps(); R]; R];
            for p in (0..row).step_by(16) {
                // SAFETY: p + 16 <= row (row is a multiple of 16), so each
                // load reads 16 u32 inside its row slice; unaligned loads
                // need no alignment. 16 u32 lanes are 32 bf16 lanes bit for
                // bit (`__m512i` and `__m512bh` are both 64 plain bytes).
                unsafe {
                    // Plain loops, not `array::from_fn`: a closure called
                    // from a function without this one's target features
                    // is not inlined, and each load became a call.
                    let mut av: [__m512bh; R] =
                        [core::mem::transmute::<__m512i, __m512bh>(_mm512_setzero_si512()); R];
                    for r in 0..R {
                        av[r] = core::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(
                            ar[r][p..].as_ptr().cast(),
                        ));
                    }
                    for s in 0..R {
                        let bv: __m512bh =
                            core::mem::transmute(_mm512_loadu_si512(br[s][p..].as_ptr().cast()));
                        for r in 0..R {
                            acc[r][s] = _mm512_dpbf16_ps(acc[r][s], av[r], bv);
                        }
                    }
                }
            }
            for r in 0..R.min(m - i0) {
                for s in 0..R.min(n - j0) {
                    let mut lanes = [0f32; 16];
                    // SAFETY: `lanes` holds 16 f32, the width of the store.
                    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), acc[r][s]) };
                    store(c, (i0 + r) * ldc + j0 + s, alpha, lane_sum(lanes), beta);
                }
            }
        }
    }
}

/// `c = alpha * op(a) * op(b) + beta * c` in bf16 on one thread, for
/// `m, k, n >= 1` and `alpha != 0`: `op(a)` is `m x k`, `op(b)` `k x n` and
/// element `(i, j)` of `c` is at `i * rsc + j * csc`.
#[allow(clippy::too_many_arguments)]
fn blocked(
    kind: KernelKind,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Strided<'_, f32>,
    b: Strided<'_, f32>,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    // The kernels write c through raw pointers; this bound makes every
    // element (i < m, j < n) they are given an element of `c`.
    assert!((m - 1) * rsc + (n - 1) * csc < c.len());
    assert!((m - 1) * a.rs + (k - 1) * a.cs < a.data.len() && (k - 1) * b.rs + (n - 1) * b.cs < b.data.len());
    let func = kernel(kind);
    let a_len = MC.min(m.next_multiple_of(MR)) * KC.min(k).div_ceil(2);
    let b_len = NC.min(n.next_multiple_of(NR)) * KC.min(k).div_ceil(2);
    scratch::with_two(
        Slot::Pack,
        a_len,
        b_len,
        |a_pack: &mut [u32], b_pack: &mut [u32]| {
            for jc in (0..n).step_by(NC) {
                let nc = NC.min(n - jc);
                for pc in (0..k).step_by(KC) {
                    let kc = KC.min(k - pc);
                    let pairs = kc.div_ceil(2);
                    let beta = if pc == 0 { beta } else { 1.0 };
                    // Columns of op(b) are the panel's lanes: along j stride cs.
                    pack_pairs::<NR>(b_pack, b.data, pc * b.rs + jc * b.cs, nc, kc, b.cs, b.rs);
                    for ic in (0..m).step_by(MC) {
                        let mc = MC.min(m - ic);
                        pack_pairs::<MR>(a_pack, a.data, ic * a.rs + pc * a.cs, mc, kc, a.rs, a.cs);
                        for jr in 0..nc.div_ceil(NR) {
                            let cols = NR.min(nc - jr * NR);
                            for ir in 0..mc.div_ceil(MR) {
                                let rows = MR.min(mc - ir * MR);
                                // SAFETY (the `KernelFn` contract): `pack_pairs`
                                // filled ceil(mc / MR) panels of `pairs * MR`
                                // values in `a_pack` and ceil(nc / NR) of
                                // `pairs * NR` in `b_pack` (it slices, so it
                                // panics were they shorter); panels `ir` and `jr`
                                // are among them. pairs >= 1 since k >= 1. The
                                // tile's rows `ic + ir * MR + i < m` (i < rows) and
                                // columns `jc + jr * NR + j < n` (j < cols) are
                                // elements of `c` by the assertion above; `c` is
                                // a unique borrow, so it aliases neither buffer.
                                // `kind` passed `is_supported` in
                                // `gemm_with_kernel`, so the CPU has the
                                // kernel's features.
                                unsafe {
                                    func(
                                        pairs,
                                        alpha,
                                        a_pack.as_ptr().add(ir * pairs * MR),
                                        b_pack.as_ptr().add(jr * pairs * NR),
                                        beta,
                                        c.as_mut_ptr().add((ic + ir * MR) * rsc + (jc + jr * NR) * csc),
                                        rsc,
                                        csc,
                                        rows,
                                        cols,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        },
    );
}

/// Packs the `len x kc` block whose element `(r, p)` is
/// `src[off + r * sw + p * sk]` into `out` as panels of `W` lanes of bf16
/// pairs (see the module documentation), zero-padded to whole panels and an
/// even depth. Lanes contiguous in `src` (`sw == 1`) are rounded and paired
/// straight from it; otherwise [`STAGE`] steps at a time are first packed in
/// f32 by the f32 GEMM's packing (its vector transposes included) into a
/// small stack buffer. The pairing loops run over `W` contiguous lanes and
/// are vectorised for the selected instruction set. Safe code: every index
/// is bounds-checked.
#[allow(clippy::too_many_arguments)]
fn pack_pairs<const W: usize>(
    out: &mut [u32],
    src: &[f32],
    off: usize,
    len: usize,
    kc: usize,
    sw: usize,
    sk: usize,
) {
    let pairs = kc.div_ceil(2);
    let out = &mut out[..len.div_ceil(W) * W * pairs];
    let mut stage = [0f32; STAGE * NR];
    crate::simd::dispatch(
        #[inline(always)]
        || {
            for (q, panel) in out.chunks_exact_mut(pairs * W).enumerate() {
                let r0 = q * W;
                let ww = W.min(len - r0);
                let base = off + r0 * sw;
                let panel: &mut [[u32; W]] = panel.as_chunks_mut().0;
                if sw == 1 && ww == W {
                    for (p, dst) in panel.iter_mut().enumerate() {
                        let lo: &[f32; W] = src[base + 2 * p * sk..][..W].try_into().expect("W lanes");
                        if 2 * p + 1 < kc {
                            let hi: &[f32; W] =
                                src[base + (2 * p + 1) * sk..][..W].try_into().expect("W lanes");
                            pair_lanes(dst, lo, hi);
                        } else {
                            pair_lanes(dst, lo, &[0.0; W]);
                        }
                    }
                    continue;
                }
                for p0 in (0..kc).step_by(STAGE) {
                    let steps = STAGE.min(kc - p0);
                    let stage = &mut stage[..steps * W];
                    super::pack::pack(stage, src, base + p0 * sk, ww, steps, sw, sk, W);
                    let (stage, _) = stage.as_chunks::<W>();
                    for (dst, two) in panel[p0 / 2..].iter_mut().zip(stage.chunks(2)) {
                        pair_lanes(dst, &two[0], two.get(1).unwrap_or(&[0.0; W]));
                    }
                }
            }
        },
    );
}

/// Steps of `k` staged at a time by [`pack_pairs`] (even, so that pairs do
/// not straddle two stages).
const STAGE: usize = 64;

/// `dst[j] = pair(lo[j], hi[j])` for every lane.
#[inline(always)]
fn pair_lanes<const W: usize>(dst: &mut [u32; W], lo: &[f32; W], hi: &[f32; W]) {
    for ((d, &x), &y) in dst.iter_mut().zip(lo).zip(hi) {
        *d = pair(x, y);
    }
}

/// The bf16 pair of `lo` (low half) and `hi`: branch-free, for vectorised
/// loops.
#[inline(always)]
fn pair(lo: f32, hi: f32) -> u32 {
    rounded_bits(lo) >> 16 | rounded_bits(hi) & 0xffff_0000
}

/// The portable kernel's body: per pair, both products added to an f32
/// accumulator, high half first: the order of Intel's definition of
/// `vdpbf16ps`, which the hardware here follows bit for bit (a test checks
/// it against every kernel the CPU runs).
///
/// # Safety
/// The [`KernelFn`] contract.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn portable_body(
    pairs: usize,
    alpha: f32,
    a: *const u32,
    b: *const u32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
) {
    // SAFETY: the contract makes `a` valid for `pairs * MR` reads and `b`
    // for `pairs * NR`; neither is written while these slices live.
    let (a, b) = unsafe {
        (
            core::slice::from_raw_parts(a, pairs * MR),
            core::slice::from_raw_parts(b, pairs * NR),
        )
    };
    let mut acc = [[0f32; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        // Loops rather than `array::from_fn`, whose closure is not inlined
        // into the target-feature copies of this body.
        let (mut b_lo, mut b_hi) = ([0f32; NR], [0f32; NR]);
        for j in 0..NR {
            b_lo[j] = f32::from_bits(bp[j] << 16);
            b_hi[j] = f32::from_bits(bp[j] & 0xffff_0000);
        }
        for i in 0..MR {
            let (a_lo, a_hi) = (f32::from_bits(ap[i] << 16), f32::from_bits(ap[i] & 0xffff_0000));
            for j in 0..NR {
                acc[i][j] += a_hi * b_hi[j];
                acc[i][j] += a_lo * b_lo[j];
            }
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: i < rows and j < cols: a valid element of `c`.
            unsafe {
                let d = c.add(i * rsc + j * csc);
                let x = alpha * acc[i][j];
                *d = if beta == 0.0 { x } else { x + beta * *d };
            }
        }
    }
}

/// Defines the portable kernel compiled with `$features` (none: the
/// target baseline). The same operations, so the same results: LLVM does
/// not contract the separate multiply and add.
macro_rules! portable_kernel {
    ($(#[$cfg:meta])* $name:ident $(, $features:literal)?) => {
        #[doc = concat!("The portable kernel", $(" compiled for `", $features, "`",)? ".")]
        ///
        /// # Safety
        /// The [`KernelFn`] contract, with the CPU features it is compiled for.
        $(#[$cfg])*
        $(#[target_feature(enable = $features)])?
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(
            pairs: usize,
            alpha: f32,
            a: *const u32,
            b: *const u32,
            beta: f32,
            c: *mut f32,
            rsc: usize,
            csc: usize,
            rows: usize,
            cols: usize,
        ) {
            // SAFETY: the caller's contract is the body's.
            unsafe { portable_body(pairs, alpha, a, b, beta, c, rsc, csc, rows, cols) }
        }
    };
}

portable_kernel!(portable);
portable_kernel!(
    #[cfg(target_arch = "x86_64")]
    portable_avx2,
    "avx2,fma"
);
portable_kernel!(
    #[cfg(target_arch = "x86_64")]
    portable_avx512,
    "avx512f,avx2,fma"
);

/// The AVX512-BF16 kernel: per pair step, two loads of the `b` panel, `MR`
/// broadcasts of `a` pairs and `2 * MR` `vdpbf16ps` into accumulators that
/// stay in registers; full tiles of a row-contiguous `c` are updated with
/// vector loads and stores, edge tiles with masked ones, others through a
/// stack tile.
///
/// # Safety
/// The [`KernelFn`] contract, with AVX512-BF16 and AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bf16,avx512f,avx512bw,avx2,fma")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn avx512bf16(
    pairs: usize,
    alpha: f32,
    a: *const u32,
    b: *const u32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
) {
    use core::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    for p in 0..pairs {
        // SAFETY: p < pairs, so `b[p * NR..][..NR]` and `a[p * MR..][..MR]`
        // are in the panels (contract); unaligned loads need no alignment.
        // A 512-bit vector of 16 u32 lanes is a vector of 32 bf16 lanes
        // bit for bit (`__m512bh` and `__m512i` are both 64 plain bytes).
        unsafe {
            let b0: __m512bh = core::mem::transmute(_mm512_loadu_si512(b.add(p * NR).cast()));
            let b1: __m512bh = core::mem::transmute(_mm512_loadu_si512(b.add(p * NR + 16).cast()));
            for i in 0..MR {
                let ai: __m512bh = core::mem::transmute(_mm512_set1_epi32(*a.add(p * MR + i) as i32));
                acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
                acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
            }
        }
    }
    let (alpha_v, beta_v) = (_mm512_set1_ps(alpha), _mm512_set1_ps(beta));
    if csc == 1 {
        for i in 0..rows {
            for v in 0..2 {
                let valid = cols.saturating_sub(v * 16).min(16);
                if valid == 0 {
                    break;
                }
                let mask = ((1u32 << valid) - 1) as __mmask16;
                // SAFETY: lanes `l < valid` address columns `v * 16 + l <
                // cols` of row `i < rows`, valid elements of `c`
                // (contract); masked-off lanes are neither read nor written.
                unsafe {
                    let d = c.add(i * rsc + v * 16);
                    let x = _mm512_mul_ps(acc[i][v], alpha_v);
                    let out = if beta == 0.0 {
                        x
                    } else {
                        _mm512_fmadd_ps(beta_v, _mm512_maskz_loadu_ps(mask, d), x)
                    };
                    _mm512_mask_storeu_ps(d, mask, out);
                }
            }
        }
    } else {
        let mut tile = [0f32; MR * NR];
        for i in 0..MR {
            for v in 0..2 {
                // SAFETY: `i * NR + v * 16 + 16 <= MR * NR`, inside `tile`.
                unsafe {
                    _mm512_storeu_ps(
                        tile.as_mut_ptr().add(i * NR + v * 16),
                        _mm512_mul_ps(acc[i][v], alpha_v),
                    )
                };
            }
        }
        for i in 0..rows {
            for j in 0..cols {
                // SAFETY: i < rows, j < cols: a valid element of `c`.
                unsafe {
                    let d = c.add(i * rsc + j * csc);
                    let x = tile[i * NR + j];
                    *d = if beta == 0.0 { x } else { x + beta * *d };
                }
            }
        }
    }
}
