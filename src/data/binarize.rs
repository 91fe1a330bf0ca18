//! Binarisation of [0, 1] intensities (DESIGN.md §3): dynamic (a fresh
//! Bernoulli draw each time, e.g. per batch) or a fixed threshold.

use rand::RngExt;

/// Dynamic binarisation: `out[i] = 1` with probability `x[i]`, else `0`,
/// drawing one uniform number per element from `rng` in order.
/// `x` and `out` must have the same length (only the common prefix is used).
pub fn dynamic<R: rand::Rng + ?Sized>(x: &[f32], rng: &mut R, out: &mut [f32]) {
    for (o, &p) in out.iter_mut().zip(x) {
        let u: f32 = rng.random();
        *o = if u < p { 1.0 } else { 0.0 };
    }
}

/// Fixed-threshold binarisation: `out[i] = 1` if `x[i] > t`, else `0`.
/// `x` and `out` must have the same length (only the common prefix is used).
pub fn threshold(x: &[f32], t: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = if v > t { 1.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_matches_intensity_on_average_and_replays() {
        let x = vec![0.0f32, 1.0, 0.25, 0.75];
        let mut sums = [0f32; 4];
        let mut rng = crate::rng::stream(3, "binarize");
        let mut out = [0f32; 4];
        for _ in 0..4000 {
            dynamic(&x, &mut rng, &mut out);
            for (s, o) in sums.iter_mut().zip(out) {
                *s += o;
            }
        }
        assert_eq!(sums[0], 0.0);
        assert_eq!(sums[1], 4000.0);
        assert!((sums[2] / 4000.0 - 0.25).abs() < 0.03);
        assert!((sums[3] / 4000.0 - 0.75).abs() < 0.03);
        let (mut a, mut b) = ([0f32; 4], [0f32; 4]);
        dynamic(&x, &mut crate::rng::stream(9, "b"), &mut a);
        dynamic(&x, &mut crate::rng::stream(9, "b"), &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn threshold_is_strict() {
        let mut out = [0f32; 3];
        threshold(&[0.5, 0.51, 0.1], 0.5, &mut out);
        assert_eq!(out, [0.0, 1.0, 0.0]);
    }
}
