//! Out-of-place transpose of a row-major f32 matrix, in 8×8 register tiles.
//!
//! Used where a layout change is cheaper than reading a matrix across its rows:
//! the convolution's weight-gradient operand (after im2col, several times faster
//! than gathering it kernel-row by kernel-row), and GEMM operands that
//! matrixmultiply would otherwise pack one element at a time (see
//! `gemm::relayout`).

/// The naive reference of [`transpose`]: `dst[j·r + i] = src[i·ld + j]`.
pub fn transpose_naive(src: &[f32], r: usize, c: usize, ld: usize, dst: &mut [f32]) {
    for i in 0..r {
        for j in 0..c {
            dst[j * r + i] = src[i * ld + j];
        }
    }
}

/// `dst (c × r) = srcᵀ` for a row-major `src` (r × c) whose rows are `ld ≥ c` apart, in
/// 8×8 tiles (an AVX in-register transpose when the CPU has AVX2).
///
/// # Panics
/// If `ld < c` or a slice is too short.
pub fn transpose(src: &[f32], r: usize, c: usize, ld: usize, dst: &mut [f32]) {
    assert!(
        ld >= c && (r == 0 || src.len() >= (r - 1) * ld + c),
        "transpose: src too short"
    );
    assert!(dst.len() >= r * c, "transpose: dst too short");
    let (r8, c8) = (r / 8 * 8, c / 8 * 8);
    #[cfg(target_arch = "x86_64")]
    let avx = crate::elementwise::dispatch::has_avx2();
    for i0 in (0..r8).step_by(8) {
        for j0 in (0..c8).step_by(8) {
            #[cfg(target_arch = "x86_64")]
            if avx {
                // SAFETY: the CPU supports avx2 (checked above); the tile lies inside
                // both slices (i0 + 8 ≤ r, j0 + 8 ≤ c and the length asserts above).
                unsafe { tile_avx(src, ld, i0, j0, dst, r) };
                continue;
            }
            for a in 0..8 {
                for b in 0..8 {
                    dst[(j0 + b) * r + i0 + a] = src[(i0 + a) * ld + j0 + b];
                }
            }
        }
        for j in c8..c {
            for a in 0..8 {
                dst[j * r + i0 + a] = src[(i0 + a) * ld + j];
            }
        }
    }
    for i in r8..r {
        for j in 0..c {
            dst[j * r + i] = src[i * ld + j];
        }
    }
}

/// Transposes the 8×8 tile at (i0, j0) of `src` (rows `ld` apart) into `dst` (rows `r`
/// apart) with unpack / shuffle / permute2f128.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn tile_avx(src: &[f32], ld: usize, i0: usize, j0: usize, dst: &mut [f32], r: usize) {
    use std::arch::x86_64::*;
    let load = |a: usize| {
        let row = &src[(i0 + a) * ld + j0..(i0 + a) * ld + j0 + 8];
        // SAFETY: `row` has exactly 8 elements, the 8 floats loaded.
        unsafe { _mm256_loadu_ps(row.as_ptr()) }
    };
    let (r0, r1, r2, r3) = (load(0), load(1), load(2), load(3));
    let (r4, r5, r6, r7) = (load(4), load(5), load(6), load(7));
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    let out = [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ];
    for (b, v) in out.into_iter().enumerate() {
        let row = &mut dst[(j0 + b) * r + i0..(j0 + b) * r + i0 + 8];
        // SAFETY: `row` has exactly 8 elements, the 8 floats stored.
        unsafe { _mm256_storeu_ps(row.as_mut_ptr(), v) };
    }
}
