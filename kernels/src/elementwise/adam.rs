//! The Adam update of one parameter slice (Kingma & Ba), with the bias
//! corrections folded into the step's constants:
//! g ← g + λw; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
//! w ← w − step·m / (√v·c₂ + ε), where step = lr / (1 − β₁ᵗ) and c₂ = 1/√(1 − β₂ᵗ).

use super::dispatch::{has_avx2, same_len};

/// The constants of one Adam step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f32,
    /// lr / (1 − β₁ᵗ).
    pub step: f32,
    /// 1 / √(1 − β₂ᵗ).
    pub inv_sqrt_bc2: f32,
}

#[inline(always)]
fn adam_body(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: AdamStep) {
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let gi = g + s.weight_decay * *w;
        *m = s.beta1 * *m + (1.0 - s.beta1) * gi;
        *v = s.beta2 * *v + (1.0 - s.beta2) * gi * gi;
        *w -= s.step * *m / (v.sqrt() * s.inv_sqrt_bc2 + s.eps);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn adam_avx2(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: AdamStep) {
    adam_body(w, g, m, v, s)
}

/// One Adam update of `w` from its gradient `g` and moments `m`, `v`, in place.
/// The AVX2 build does the same IEEE operations 8 lanes at a time (no fused
/// multiply-adds), so every CPU gets the same bits.
///
/// # Panics
/// If the lengths differ.
pub fn adam_update(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: AdamStep) {
    same_len("adam_update", &[w.len(), g.len(), m.len(), v.len()]);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        unsafe { adam_avx2(w, g, m, v, s) };
        return;
    }
    adam_body(w, g, m, v, s)
}
