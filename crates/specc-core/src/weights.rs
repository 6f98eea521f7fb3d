//! Weights baked into a program: an exported model's tensors are one
//! little-endian f32 blob, `include_bytes!`ed into an [`Aligned`] static and
//! read in place with [`f32s`].

/// A value aligned to 64 bytes: `static BLOB: Aligned<[u8; N]> =
/// Aligned(*include_bytes!("weights.bin"));` starts the blob on a cache
/// line, so that it can be read as `f32`s without copying.
#[repr(C, align(64))]
pub struct Aligned<T: ?Sized>(pub T);

/// `bytes` read as little-endian `f32`s, in place.
///
/// # Panics
/// If `bytes` is not aligned to 4 or its length is not a multiple of 4
/// (an [`Aligned`] blob of whole values is both), or on a big-endian
/// target, where the blob's bytes are not native `f32`s.
pub fn f32s(bytes: &[u8]) -> &[f32] {
    if cfg!(target_endian = "big") {
        panic!("baked weights are little-endian f32s; this target is big-endian");
    }
    // SAFETY: every bit pattern of 4 bytes is a valid f32 (possibly NaN),
    // and `align_to` puts in `values` only whole, aligned f32s lying inside
    // `bytes`, borrowed for as long as `bytes` is.
    let (head, values, tail) = unsafe { bytes.align_to::<f32>() };
    assert!(
        head.is_empty() && tail.is_empty(),
        "baked weights: {} bytes at {:p} are not whole aligned f32s",
        bytes.len(),
        bytes.as_ptr()
    );
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    static BLOB: Aligned<[u8; 12]> = Aligned([0, 0, 128, 63, 0, 0, 0, 192, 0, 0, 192, 127]);

    #[test]
    fn an_aligned_blob_reads_as_its_values() {
        let v = f32s(&BLOB.0);
        assert_eq!(v[..2], [1.0, -2.0]);
        assert!(v[2].is_nan());
        assert_eq!(f32s(&BLOB.0[4..8]), [-2.0]);
    }

    #[test]
    #[should_panic(expected = "not whole aligned f32s")]
    fn a_misaligned_or_partial_blob_is_refused() {
        f32s(&BLOB.0[1..9]);
    }
}
