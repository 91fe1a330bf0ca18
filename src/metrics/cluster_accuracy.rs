//! Cluster accuracy (best one-to-one mapping of clusters to classes, by the
//! Hungarian method) and purity (each cluster mapped to its majority class).

use super::Contingency;
use crate::cluster::hungarian;
use crate::Result;

/// Cluster accuracy and the mapping that achieves it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterAccuracy {
    /// Fraction of examples whose cluster maps to their class.
    pub accuracy: f64,
    /// `(cluster, class)` pairs of the optimal one-to-one mapping; clusters
    /// not listed (when there are more clusters than classes) count as wrong.
    pub mapping: Vec<(u32, u32)>,
}

/// Cluster accuracy: the best one-to-one mapping of the predicted clusters to
/// the true classes (K clusters may be more or fewer than the classes;
/// unmatched clusters count as wrong).
pub fn cluster_accuracy(pred: &[u32], truth: &[u32]) -> Result<ClusterAccuracy> {
    let t = Contingency::new(pred, truth)?;
    if t.total == 0 {
        return Ok(ClusterAccuracy {
            accuracy: 0.0,
            mapping: Vec::new(),
        });
    }
    let (r, c) = (t.clusters.len(), t.classes.len());
    let max = t.counts.iter().copied().max().unwrap_or(0) as f64;
    let cost: Vec<f64> = t.counts.iter().map(|&v| max - v as f64).collect();
    let pairs = hungarian(&cost, r, c)?;
    let hits: u64 = pairs.iter().map(|&(i, j)| t.get(i, j)).sum();
    let mapping = pairs
        .iter()
        .map(|&(i, j)| (t.clusters[i], t.classes[j]))
        .collect();
    Ok(ClusterAccuracy {
        accuracy: hits as f64 / t.total as f64,
        mapping,
    })
}

/// Purity: every cluster is mapped to its most frequent class (many-to-one),
/// as Willetts and Rui Shu report; never below cluster accuracy.
pub fn purity(pred: &[u32], truth: &[u32]) -> Result<f64> {
    let t = Contingency::new(pred, truth)?;
    if t.total == 0 {
        return Ok(0.0);
    }
    let hits: u64 = t
        .counts
        .chunks(t.classes.len())
        .map(|row| row.iter().copied().max().unwrap_or(0))
        .sum();
    Ok(hits as f64 / t.total as f64)
}
