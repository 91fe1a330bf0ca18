//! f64 reference twins of the reductions (plain loops), for tests.

/// Σ x in f64.
pub fn sum_naive(x: &[f32]) -> f64 {
    x.iter().map(|&v| v as f64).sum()
}

/// Σ a·b in f64.
pub fn dot_naive(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// log Σ exp(x) in f64 (shifted by the max).
pub fn logsumexp_naive(x: &[f32]) -> f64 {
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
}

/// Row-wise softmax in f64.
pub fn softmax_naive(x: &[f32]) -> Vec<f64> {
    let l = logsumexp_naive(x);
    x.iter().map(|&v| (v as f64 - l).exp()).collect()
}

/// Column sums `Σ_i x[i, j]` in f64.
pub fn col_sum_naive(x: &[f32], cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; cols];
    for row in x.chunks(cols) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += v as f64);
    }
    out
}
