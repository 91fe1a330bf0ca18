//! Reductions with a fixed summation order: the result depends only on the input, never
//! on the thread count or on which SIMD build runs.
//!
//! Order: a slice is cut into blocks of [`BLOCK`] elements at fixed offsets; within a
//! block, element `i` is added to lane `i mod 16` of 16 running sums, and the 16 lanes
//! are combined in a fixed pairwise tree; block sums are combined by fixed pairwise
//! recursion. Error grows like O(BLOCK/16 + log n)·ε instead of O(n)·ε. No FMA is used,
//! so the SSE2 and AVX2 builds give identical bits.
//!
//! Row-wise kernels treat `x` as a row-major `(rows × cols)` matrix (`rows = len/cols`)
//! and reduce each row the same way; rows are independent, so large matrices run their
//! rows in parallel without affecting the result.

pub mod naive;
mod rows;
mod wide;

pub use rows::*;
pub use wide::{sum_and_dot_f64, sum_f64, sum_sq_dev_f64};

use crate::elementwise::dispatch as avx2;

/// Elements per block of the fixed summation tree.
pub const BLOCK: usize = 1024;

/// Lanes of running sums inside a block.
const LANES: usize = 16;

/// Combines 16 lanes in a fixed pairwise tree.
#[inline(always)]
fn tree(a: [f32; LANES]) -> f32 {
    let mut b = [0.0f32; 8];
    for j in 0..8 {
        b[j] = a[j] + a[j + 8];
    }
    let c = [b[0] + b[4], b[1] + b[5], b[2] + b[6], b[3] + b[7]];
    (c[0] + c[2]) + (c[1] + c[3])
}

/// Σ f(a[i], b[i]) over one block (`a.len() ≤ BLOCK`), 16 lanes then the tree.
#[inline(always)]
fn block_sum2<F: Fn(f32, f32) -> f32>(a: &[f32], b: &[f32], f: &F) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for j in 0..LANES {
            acc[j] += f(xa[j], xb[j]);
        }
    }
    for j in 0..ra.len() {
        acc[j] += f(ra[j], rb[j]);
    }
    tree(acc)
}

/// Fixed pairwise recursion over blocks: split at a multiple of BLOCK near the middle.
#[inline(always)]
fn blocked_sum2<F: Fn(f32, f32) -> f32>(a: &[f32], b: &[f32], f: &F) -> f32 {
    if a.len() <= BLOCK {
        return block_sum2(a, b, f);
    }
    let blocks = a.len().div_ceil(BLOCK);
    let mid = blocks / 2 * BLOCK;
    blocked_sum2(&a[..mid], &b[..mid], f) + blocked_sum2(&a[mid..], &b[mid..], f)
}

/// Σ f(a[i], b[i]) in the fixed order above, on the AVX2 build when available.
#[inline(always)]
pub(crate) fn sum_map2<F: Fn(f32, f32) -> f32>(a: &[f32], b: &[f32], f: F) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if avx2::has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        return unsafe { sum_map2_avx2(a, b, &f) };
    }
    blocked_sum2(a, b, &f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sum_map2_avx2<F: Fn(f32, f32) -> f32>(a: &[f32], b: &[f32], f: &F) -> f32 {
    blocked_sum2(a, b, f)
}

/// Σ x (fixed order; 0 for an empty slice).
pub fn sum(x: &[f32]) -> f32 {
    sum_map2(
        x,
        x,
        #[inline(always)]
        |v, _| v,
    )
}

/// Σ x / len (NaN for an empty slice).
pub fn mean(x: &[f32]) -> f32 {
    sum(x) / x.len() as f32
}

/// Σ a·b (fixed order, a multiply then an add per element).
///
/// # Panics
/// If the lengths differ.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: slice lengths differ");
    sum_map2(
        a,
        b,
        #[inline(always)]
        |x, y| x * y,
    )
}

/// Σ x² (fixed order).
pub fn sum_sq(x: &[f32]) -> f32 {
    sum_map2(
        x,
        x,
        #[inline(always)]
        |v, _| v * v,
    )
}

/// max(a, b) that propagates NaN (the first NaN seen wins).
#[inline(always)]
pub(crate) fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() {
        a
    } else if b > a || b.is_nan() {
        b
    } else {
        a
    }
}

/// Largest element; NaN if any element is NaN; −∞ for an empty slice.
pub fn max(x: &[f32]) -> f32 {
    #[inline(always)]
    fn body(x: &[f32]) -> f32 {
        let mut m = [f32::NEG_INFINITY; LANES];
        let c = x.chunks_exact(LANES);
        let r = c.remainder();
        for v in c {
            for j in 0..LANES {
                m[j] = nan_max(m[j], v[j]);
            }
        }
        for (j, &v) in r.iter().enumerate() {
            m[j] = nan_max(m[j], v);
        }
        m.iter().fold(f32::NEG_INFINITY, |a, &b| nan_max(a, b))
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn body_avx2(x: &[f32]) -> f32 {
        body(x)
    }
    #[cfg(target_arch = "x86_64")]
    if avx2::has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        return unsafe { body_avx2(x) };
    }
    body(x)
}
