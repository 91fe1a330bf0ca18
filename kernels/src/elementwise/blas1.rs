//! BLAS-1 style helpers: y += αx, y += x, x *= α.

use super::dispatch::{has_avx2, same_len};

#[inline(always)]
fn axpy_body(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn axpy_avx2(alpha: f32, x: &[f32], y: &mut [f32]) {
    axpy_body(alpha, x, y)
}

/// `y[i] += alpha·x[i]` (a multiply then an add: same bits on every x86-64 CPU).
///
/// # Panics
/// If the lengths differ.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    same_len("axpy", &[x.len(), y.len()]);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        unsafe { axpy_avx2(alpha, x, y) };
        return;
    }
    axpy_body(alpha, x, y)
}

/// `y[i] += x[i]`.
///
/// # Panics
/// If the lengths differ.
pub fn add_assign(y: &mut [f32], x: &[f32]) {
    same_len("add_assign", &[y.len(), x.len()]);
    for (y, &x) in y.iter_mut().zip(x) {
        *y += x;
    }
}

/// `x[i] *= alpha`.
pub fn scale(x: &mut [f32], alpha: f32) {
    for v in x.iter_mut() {
        *v *= alpha;
    }
}
