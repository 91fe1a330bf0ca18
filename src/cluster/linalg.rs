//! Small dense linear algebra in f64 for the clustering code: Cholesky
//! factorisation and the "precision Cholesky" used for Mahalanobis terms.

/// Cholesky factor `L` (lower, row-major `d × d`) with `A = L·Lᵀ`, or `None`
/// if `A` (symmetric, row-major) is not numerically positive definite.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for p in 0..j {
                s -= l[i * d + p] * l[j * d + p];
            }
            if i == j {
                if !(s > 0.0) || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// The precision Cholesky `P = (L⁻¹)ᵀ` (upper, row-major) of a covariance
/// `Σ = L·Lᵀ`, so that `Σ⁻¹ = P·Pᵀ` and the squared Mahalanobis distance of
/// `δ` is `‖Pᵀδ‖²`; also returns `log det P = −½ log det Σ`. `None` if `Σ`
/// is not positive definite.
pub fn precision_cholesky(cov: &[f64], d: usize) -> Option<(Vec<f64>, f64)> {
    let l = cholesky(cov, d)?;
    // M = L⁻¹ (lower) by forward substitution, column by column.
    let mut m = vec![0.0; d * d];
    for c in 0..d {
        m[c * d + c] = 1.0 / l[c * d + c];
        for i in c + 1..d {
            let mut s = 0.0;
            for p in c..i {
                s -= l[i * d + p] * m[p * d + c];
            }
            m[i * d + c] = s / l[i * d + i];
        }
    }
    // P = Mᵀ.
    let mut p = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            p[i * d + j] = m[j * d + i];
        }
    }
    let log_det = (0..d).map(|i| p[i * d + i].ln()).sum();
    Some((p, log_det))
}

/// `‖Pᵀδ‖²` for an upper-triangular `P` (row-major `d × d`); `y` is scratch
/// of length `d`.
#[inline]
pub fn mahalanobis_sq(p: &[f64], delta: &[f64], y: &mut [f64]) -> f64 {
    let d = delta.len();
    y.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..d {
        let di = delta[i];
        let row = &p[i * d + i..(i + 1) * d];
        for (yj, &pij) in y[i..].iter_mut().zip(row) {
            *yj += di * pij;
        }
    }
    y.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_cholesky_inverts() {
        let a = [4.0, 2.0, 0.6, 2.0, 3.0, 0.4, 0.6, 0.4, 2.0];
        let (p, logdet) = precision_cholesky(&a, 3).unwrap();
        // P Pᵀ A = I
        for i in 0..3 {
            for j in 0..3 {
                let mut s = 0.0;
                for q in 0..3 {
                    let ppt: f64 = (0..3).map(|r| p[i * 3 + r] * p[q * 3 + r]).sum();
                    s += ppt * a[q * 3 + j];
                }
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        // det A = 4(6-0.16) - 2(4-0.24) + 0.6(0.8-1.8) = 23.36 - 7.52 - 0.6 = 15.24
        assert!((logdet + 0.5 * 15.24f64.ln()).abs() < 1e-12);
        let mut y = [0.0; 3];
        let delta = [1.0, -1.0, 0.5];
        // δᵀ A⁻¹ δ via solving
        let m = mahalanobis_sq(&p, &delta, &mut y);
        let mut inv_delta = [0.0; 3];
        for i in 0..3 {
            for q in 0..3 {
                let ppt: f64 = (0..3).map(|r| p[i * 3 + r] * p[q * 3 + r]).sum();
                inv_delta[i] += ppt * delta[q];
            }
        }
        let expect: f64 = (0..3).map(|i| delta[i] * inv_delta[i]).sum();
        assert!((m - expect).abs() < 1e-12);
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
