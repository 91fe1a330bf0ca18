//! Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations
//! (f64), used for the Rayleigh–Ritz step of PCA's subspace iteration.

/// Eigenvalues (descending) and eigenvectors (columns of the returned
/// row-major `p` × `p` matrix, in the same order) of the symmetric `p` × `p`
/// matrix `a` (row-major; only symmetric input gives meaningful output).
pub fn symmetric_eigen(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j] * a[i * p + j])
            .sum();
        let scale: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-30 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for k in 0..p {
            for l in k + 1..p {
                rotate(&mut a, &mut v, p, k, l);
            }
        }
    }
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&i, &j| a[j * p + j].total_cmp(&a[i * p + i]));
    let values = order.iter().map(|&i| a[i * p + i]).collect();
    let mut vectors = vec![0.0; p * p];
    for (new, &old) in order.iter().enumerate() {
        for r in 0..p {
            vectors[r * p + new] = v[r * p + old];
        }
    }
    (values, vectors)
}

/// One Jacobi rotation zeroing `a[k][l]`; accumulates it into `v`.
fn rotate(a: &mut [f64], v: &mut [f64], p: usize, k: usize, l: usize) {
    let akl = a[k * p + l];
    if akl == 0.0 {
        return;
    }
    let theta = (a[l * p + l] - a[k * p + k]) / (2.0 * akl);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for r in 0..p {
        let (ark, arl) = (a[r * p + k], a[r * p + l]);
        a[r * p + k] = c * ark - s * arl;
        a[r * p + l] = s * ark + c * arl;
    }
    for r in 0..p {
        let (akr, alr) = (a[k * p + r], a[l * p + r]);
        a[k * p + r] = c * akr - s * alr;
        a[l * p + r] = s * akr + c * alr;
    }
    for r in 0..p {
        let (vrk, vrl) = (v[r * p + k], v[r * p + l]);
        v[r * p + k] = c * vrk - s * vrl;
        v[r * p + l] = s * vrk + c * vrl;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_decomposition() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1)/√2 and (1, −1)/√2.
        let (vals, vecs) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        let h = 0.5f64.sqrt();
        assert!((vecs[0].abs() - h).abs() < 1e-12 && (vecs[2].abs() - h).abs() < 1e-12);
        assert!(vecs[0] * vecs[2] > 0.0);
    }

    #[test]
    fn reconstructs_a_random_symmetric_matrix() {
        let p = 5;
        let mut a = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..=i {
                let x = ((i * 7 + j * 3) % 11) as f64 - 5.0;
                a[i * p + j] = x;
                a[j * p + i] = x;
            }
        }
        let (vals, v) = symmetric_eigen(&a, p);
        for i in 0..p {
            for j in 0..p {
                let r: f64 = (0..p).map(|k| v[i * p + k] * vals[k] * v[j * p + k]).sum();
                assert!((r - a[i * p + j]).abs() < 1e-9);
            }
        }
        assert!(vals.windows(2).all(|w| w[0] >= w[1]));
    }
}
