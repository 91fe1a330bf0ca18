//! Adjusted Rand index (Hubert and Arabie), as scikit-learn computes it.

use super::Contingency;
use crate::Result;

fn comb2(n: u64) -> f64 {
    let n = n as f64;
    n * (n - 1.0) / 2.0
}

/// ARI of a clustering against the true classes: 1 for identical partitions,
/// about 0 for random ones (can be negative). Special cases as scikit-learn:
/// 1 when both have a single cluster or every example is its own cluster.
pub fn adjusted_rand_index(pred: &[u32], truth: &[u32]) -> Result<f64> {
    let t = Contingency::new(pred, truth)?;
    let n = t.total;
    let (r, c) = (t.clusters.len(), t.classes.len());
    if n == 0 || (r == c && (r == 1 || r as u64 == n)) {
        return Ok(1.0);
    }
    let sum_ij: f64 = t.counts.iter().map(|&v| comb2(v)).sum();
    let sum_a: f64 = t.row_sums().iter().map(|&v| comb2(v)).sum();
    let sum_b: f64 = t.col_sums().iter().map(|&v| comb2(v)).sum();
    let expected = sum_a * sum_b / comb2(n);
    let max = 0.5 * (sum_a + sum_b);
    if max == expected {
        return Ok(1.0);
    }
    Ok((sum_ij - expected) / (max - expected))
}
