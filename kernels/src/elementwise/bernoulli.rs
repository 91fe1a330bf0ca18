//! The Bernoulli negative log-likelihood of targets t ∈ [0, 1] under logits l, one
//! row at a time, with its derivative σ(l) − t in the same pass: the reconstruction
//! term of every VAE decoder with a Bernoulli likelihood. e^−|l| is computed once for
//! both, and the per-element terms stay in a row-sized buffer that lives in cache
//! (the unfused sequence wrote and re-read a buffer the size of the whole batch, and
//! recomputed the exponential in the backward pass).
//!
//! Same operations, in the same order, as `softplus_forward`, then `y −= t·l`, then
//! `reduce::row_sum`, and as `sigmoid_forward` then `− t`: bit-identical results
//! (tested).

use super::dispatch::{has_avx2, same_len};
use super::math;

/// softplus(l) − t·l and σ(l) − t from one e^−|l| (the formulas of [`math::softplus`]
/// and [`math::sigmoid`]).
#[inline(always)]
fn terms(l: f32, t: f32) -> (f32, f32) {
    let e = math::exp(-l.abs());
    let m = if l > 0.0 { l } else { 0.0 };
    let sp = m + math::ln_1p(e);
    let sp = if l.is_nan() { l } else { sp };
    let s = 1.0 / (1.0 + e);
    let sig = if l >= 0.0 { s } else { e * s };
    (sp - t * l, sig - t)
}

#[inline(always)]
fn row_body(l: &[f32], t: &[f32], per: &mut [f32], d: &mut [f32]) {
    for (((p, d), &l), &t) in per.iter_mut().zip(d.iter_mut()).zip(l).zip(t) {
        (*p, *d) = terms(l, t);
    }
}

#[inline(always)]
fn value_body(l: &[f32], t: &[f32], per: &mut [f32]) {
    for ((p, &l), &t) in per.iter_mut().zip(l).zip(t) {
        *p = terms(l, t).0;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn row_avx2(l: &[f32], t: &[f32], per: &mut [f32], d: &mut [f32]) {
    row_body(l, t, per, d)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn value_avx2(l: &[f32], t: &[f32], per: &mut [f32]) {
    value_body(l, t, per)
}

/// Σ_j softplus(l_j) − t_j·l_j over one row (the fixed summation order of
/// [`crate::reduce`]), with `per` as the row's scratch (left holding the terms), and
/// `d[j] = σ(l_j) − t_j` (overwritten) when `d` is given: the derivative of the sum
/// with respect to each logit.
///
/// # Panics
/// If the lengths differ.
pub fn bce_logits_row(l: &[f32], t: &[f32], per: &mut [f32], d: Option<&mut [f32]>) -> f32 {
    same_len("bce_logits_row", &[l.len(), t.len(), per.len()]);
    match d {
        Some(d) => {
            same_len("bce_logits_row", &[l.len(), d.len()]);
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU supports avx2 and fma (checked just above).
                unsafe { row_avx2(l, t, per, d) };
                return crate::reduce::sum(per);
            }
            row_body(l, t, per, d)
        }
        None => {
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU supports avx2 and fma (checked just above).
                unsafe { value_avx2(l, t, per) };
                return crate::reduce::sum(per);
            }
            value_body(l, t, per)
        }
    }
    crate::reduce::sum(per)
}
