//! PCA to two dimensions: the covariance in f64, its top eigenvectors by
//! subspace iteration with a Rayleigh–Ritz step, then the projection.
//!
//! Forming the covariance costs n·dim²/2 multiply-adds (≈ 1 s for 5,000 ×
//! 784 on one core); each iteration then costs 6·dim², independent of n.

use rand::RngExt;
use rayon::prelude::*;

use super::jacobi::symmetric_eigen;

/// Block size of the subspace iteration: a few more vectors than the two we
/// want makes convergence depend on λ₇/λ₂ rather than λ₃/λ₂.
const BLOCK: usize = 6;
/// Iteration cap (convergence is normally reached in tens of iterations).
const MAX_ITER: usize = 500;

/// Projects the rows of the row-major `n` × `dim` matrix `x` on its first two
/// principal axes (centred). Deterministic: each axis's sign is fixed so its
/// largest-magnitude coordinate is positive. With `dim` = 1 the second
/// coordinate is 0.
///
/// # Panics
/// When `x.len() != n * dim` (a caller bug).
pub fn pca_2d(x: &[f32], n: usize, dim: usize) -> Vec<[f32; 2]> {
    assert_eq!(
        x.len(),
        n * dim,
        "pca_2d: x has {} values, not n·dim = {}",
        x.len(),
        n * dim
    );
    let mean = column_means(x, n, dim);
    let axes = principal_axes(x, n, dim, 2);
    (0..n)
        .map(|i| {
            let row = &x[i * dim..(i + 1) * dim];
            let mut out = [0f32; 2];
            for (k, axis) in axes.iter().enumerate() {
                let dot: f64 = (0..dim).map(|d| (row[d] as f64 - mean[d]) * axis[d]).sum();
                out[k] = dot as f32;
            }
            out
        })
        .collect()
}

/// The first `k` (≤ 6) principal axes of the rows of `x` (`n` × `dim`,
/// row-major), as unit vectors, largest variance first, each signed so its
/// largest-magnitude coordinate is positive. Fewer than `k` are returned when
/// `dim < k`.
pub fn principal_axes(x: &[f32], n: usize, dim: usize, k: usize) -> Vec<Vec<f64>> {
    assert_eq!(
        x.len(),
        n * dim,
        "principal_axes: x has {} values, not n·dim",
        x.len()
    );
    let k = k.min(dim).min(BLOCK);
    if k == 0 {
        return Vec::new();
    }
    let cov = covariance(x, n, dim);
    let p = BLOCK.min(dim);
    let mut q = start_block(dim, p);
    orthonormalise(&mut q, dim, p);
    let mut last = vec![f64::NAN; k];
    for _ in 0..MAX_ITER {
        let z = times(&cov, &q, dim, p);
        q = z;
        orthonormalise(&mut q, dim, p);
        // Rayleigh–Ritz: rotate the block onto the eigenvectors of QᵀCQ.
        let cq = times(&cov, &q, dim, p);
        let mut t = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..p {
                t[a * p + b] = (0..dim).map(|d| q[d * p + a] * cq[d * p + b]).sum();
            }
        }
        for a in 0..p {
            for b in 0..a {
                let s = 0.5 * (t[a * p + b] + t[b * p + a]);
                t[a * p + b] = s;
                t[b * p + a] = s;
            }
        }
        let (vals, vecs) = symmetric_eigen(&t, p);
        q = times_small(&q, &vecs, dim, p);
        let done = (0..k).all(|i| (vals[i] - last[i]).abs() <= 1e-13 * vals[0].abs().max(1e-300));
        last.copy_from_slice(&vals[..k]);
        if done {
            break;
        }
    }
    (0..k)
        .map(|c| {
            let mut v: Vec<f64> = (0..dim).map(|d| q[d * p + c]).collect();
            let big = v
                .iter()
                .copied()
                .fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            v
        })
        .collect()
}

fn column_means(x: &[f32], n: usize, dim: usize) -> Vec<f64> {
    let mut mean = vec![0.0; dim];
    for row in x.chunks_exact(dim.max(1)).take(n) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    mean
}

/// The `dim` × `dim` covariance (divided by n), row-major. Rows of the result
/// are filled in parallel, each summed over samples in order, so the result
/// does not depend on the thread count.
fn covariance(x: &[f32], n: usize, dim: usize) -> Vec<f64> {
    let mean = column_means(x, n, dim);
    let centred: Vec<f64> = x
        .chunks_exact(dim)
        .flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| v as f64 - m))
        .collect();
    let mut cov = vec![0.0; dim * dim];
    cov.par_chunks_mut(dim).enumerate().for_each(|(a, out)| {
        for row in centred.chunks_exact(dim) {
            let ra = row[a];
            if ra != 0.0 {
                for b in a..dim {
                    out[b] += ra * row[b];
                }
            }
        }
    });
    for a in 0..dim {
        for b in a..dim {
            let v = cov[a * dim + b] / n.max(1) as f64;
            cov[a * dim + b] = v;
            cov[b * dim + a] = v;
        }
    }
    cov
}

/// A fixed pseudo-random `dim` × `p` start block (row-major).
fn start_block(dim: usize, p: usize) -> Vec<f64> {
    let mut rng = crate::rng::stream(0, "pca-start");
    (0..dim * p).map(|_| rng.random::<f64>() - 0.5).collect()
}

/// `c` (`dim` × `dim`) times `q` (`dim` × `p`).
fn times(c: &[f64], q: &[f64], dim: usize, p: usize) -> Vec<f64> {
    let mut out = vec![0.0; dim * p];
    out.par_chunks_mut(p).enumerate().for_each(|(r, o)| {
        let crow = &c[r * dim..(r + 1) * dim];
        for (d, &cv) in crow.iter().enumerate() {
            for j in 0..p {
                o[j] += cv * q[d * p + j];
            }
        }
    });
    out
}

/// `q` (`dim` × `p`) times the small `v` (`p` × `p`).
fn times_small(q: &[f64], v: &[f64], dim: usize, p: usize) -> Vec<f64> {
    let mut out = vec![0.0; dim * p];
    for d in 0..dim {
        for j in 0..p {
            out[d * p + j] = (0..p).map(|a| q[d * p + a] * v[a * p + j]).sum();
        }
    }
    out
}

/// Modified Gram–Schmidt on the `p` columns of `q` (`dim` × `p`); a column
/// that vanishes (rank-deficient data) is replaced by the j-th coordinate axis.
fn orthonormalise(q: &mut [f64], dim: usize, p: usize) {
    for j in 0..p {
        for i in 0..j {
            let dot: f64 = (0..dim).map(|d| q[d * p + i] * q[d * p + j]).sum();
            for d in 0..dim {
                q[d * p + j] -= dot * q[d * p + i];
            }
        }
        let norm = (0..dim).map(|d| q[d * p + j].powi(2)).sum::<f64>().sqrt();
        if norm > 1e-300 {
            for d in 0..dim {
                q[d * p + j] /= norm;
            }
        } else {
            for d in 0..dim {
                q[d * p + j] = if d == j { 1.0 } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_of_a_diagonal_covariance_are_the_coordinate_axes() {
        // Rows ±(3, 0, 0), ±(0, 2, 0), ±(0, 0, 1): variances 9/3, 4/3, 1/3.
        let x = [
            3., 0., 0., -3., 0., 0., 0., 2., 0., 0., -2., 0., 0., 0., 1., 0., 0., -1.,
        ];
        let axes = principal_axes(&x, 6, 3, 2);
        assert!((axes[0][0] - 1.0).abs() < 1e-9, "{:?}", axes[0]);
        assert!((axes[1][1] - 1.0).abs() < 1e-9, "{:?}", axes[1]);
        let y = pca_2d(&x, 6, 3);
        assert!((y[0][0] - 3.0).abs() < 1e-5 && (y[2][1] - 2.0).abs() < 1e-5);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(pca_2d(&[], 0, 3).is_empty());
        assert_eq!(pca_2d(&[1.0, 2.0, 4.0], 3, 1).len(), 3);
        assert_eq!(pca_2d(&[1.0, 1.0, 1.0, 1.0], 2, 2), vec![[0.0, 0.0]; 2]);
    }
}
