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
                if s.is_nan() || s <= 0.0 || s.is_infinite() {
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

/// A row- or column-major view for [`gemm`]: the slice and its row and
/// column strides (in elements, non-negative).
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// The elements.
    pub data: &'a [f64],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

/// `C ← A·B + beta·C` for `A: m × k`, `B: k × n`, `C: m × n` row-major with
/// `n` columns, via matrixmultiply's single-threaded f64 kernel (the same
/// arithmetic for the same shapes, so callers stay deterministic).
///
/// Panics if a view does not cover its matrix (an internal invariant).
pub fn gemm(m: usize, k: usize, n: usize, a: View, b: View, beta: f64, c: &mut [f64]) {
    let last = |v: &View, r: usize, c: usize| (r.max(1) - 1) * v.rs + (c.max(1) - 1) * v.cs;
    assert!(m == 0 || k == 0 || last(&a, m, k) < a.data.len());
    assert!(k == 0 || n == 0 || last(&b, k, n) < b.data.len());
    assert!(c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserts above guarantee that every element the kernel reads
    // (A[i·rs + p·cs] for i < m, p < k; likewise B) lies inside `a.data` and
    // `b.data`, and every element it writes (C[i·n + j], i < m, j < n) inside
    // `c`; `c` is a unique borrow, so it does not alias `a` or `b`. Strides
    // fit in isize because they index existing slices.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
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

    #[test]
    fn gemm_matches_naive_with_transposed_a() {
        // A stored as kxm (so Aᵀ view), B kxn.
        let (m, k, n) = (3, 4, 2);
        let at: Vec<f64> = (0..k * m).map(|v| v as f64 * 0.5 - 1.0).collect();
        let b: Vec<f64> = (0..k * n).map(|v| (v as f64).sin()).collect();
        let mut c = vec![1.0; m * n];
        gemm(
            m,
            k,
            n,
            View {
                data: &at,
                rs: 1,
                cs: m,
            },
            View {
                data: &b,
                rs: n,
                cs: 1,
            },
            1.0,
            &mut c,
        );
        for i in 0..m {
            for j in 0..n {
                let e: f64 = 1.0 + (0..k).map(|p| at[p * m + i] * b[p * n + j]).sum::<f64>();
                assert!((c[i * n + j] - e).abs() < 1e-12);
            }
        }
    }
}
