//! Clustering on plain row-major matrices: k-means (k-means++, Lloyd,
//! Euclidean or Mahalanobis), Gaussian mixtures by EM (full or diagonal
//! covariance), and the Hungarian assignment.
//!
//! Parallel over points with rayon, yet deterministic: points are processed
//! in fixed chunks of [`CHUNK`] rows and partial sums are combined in chunk
//! order, so results are bit-identical for any number of threads.

pub mod gmm;
pub mod hungarian;
pub mod kmeans;
pub mod linalg;
mod par;

pub use gmm::{gmm, CovarianceType, Gmm, GmmConfig, GmmFit, GmmInit};
pub use hungarian::hungarian;
pub use kmeans::{kmeans, kmeans_run, CovarianceScope, Distance, KMeansConfig, KMeansResult};
pub use par::CHUNK;

use crate::{Error, Result};

/// Checks that `x` is `n × dim` with `n ≥ k ≥ 1`, `dim ≥ 1` and finite values.
fn check_input(x: &[f32], n: usize, dim: usize, k: usize) -> Result<()> {
    if dim == 0 || x.len() != n.saturating_mul(dim) {
        return Err(Error::Usage(format!(
            "data of {} values is not {n} points of dimension {dim}",
            x.len()
        )));
    }
    if k == 0 || k > n {
        return Err(Error::Usage(format!(
            "k = {k} must be between 1 and the number of points ({n})"
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::Usage(format!(
            "point {} has a non-finite value in feature {}",
            i / dim,
            i % dim
        )));
    }
    Ok(())
}
