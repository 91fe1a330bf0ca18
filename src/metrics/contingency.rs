//! The contingency table of two labelings, over the label values that occur.

use crate::data::UNKNOWN_LABEL;
use crate::{Error, Result};

/// Counts `n[c][t]` of examples with predicted label `clusters[c]` and true
/// label `classes[t]`, for the distinct values that occur (sorted), ignoring
/// examples whose true label is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contingency {
    /// Distinct predicted labels, increasing (rows).
    pub clusters: Vec<u32>,
    /// Distinct true labels, increasing (columns).
    pub classes: Vec<u32>,
    /// Row-major `clusters.len() × classes.len()` counts.
    pub counts: Vec<u64>,
    /// Number of examples counted.
    pub total: u64,
}

fn distinct(v: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut d: Vec<u32> = v.collect();
    d.sort_unstable();
    d.dedup();
    d
}

impl Contingency {
    /// Builds the table; unequal lengths are an error.
    pub fn new(pred: &[u32], truth: &[u32]) -> Result<Contingency> {
        if pred.len() != truth.len() {
            return Err(Error::Usage(format!(
                "{} predictions for {} true labels",
                pred.len(),
                truth.len()
            )));
        }
        let keep = |i: &usize| truth[*i] != UNKNOWN_LABEL;
        let clusters = distinct((0..pred.len()).filter(keep).map(|i| pred[i]));
        let classes = distinct((0..pred.len()).filter(keep).map(|i| truth[i]));
        let mut counts = vec![0u64; clusters.len() * classes.len()];
        let mut total = 0;
        for i in (0..pred.len()).filter(keep) {
            let r = clusters.binary_search(&pred[i]).unwrap_or(0);
            let c = classes.binary_search(&truth[i]).unwrap_or(0);
            counts[r * classes.len() + c] += 1;
            total += 1;
        }
        Ok(Contingency {
            clusters,
            classes,
            counts,
            total,
        })
    }

    /// Count at row `r`, column `c`.
    pub fn get(&self, r: usize, c: usize) -> u64 {
        self.counts[r * self.classes.len() + c]
    }

    /// Row sums (examples per cluster).
    pub fn row_sums(&self) -> Vec<u64> {
        self.counts
            .chunks(self.classes.len().max(1))
            .map(|r| r.iter().sum())
            .collect()
    }

    /// Column sums (examples per class).
    pub fn col_sums(&self) -> Vec<u64> {
        let mut s = vec![0u64; self.classes.len()];
        for row in self.counts.chunks(self.classes.len().max(1)) {
            s.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        s
    }
}
