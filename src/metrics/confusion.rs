//! Confusion matrix of a classifier: rows are true classes, columns predicted.

use crate::data::UNKNOWN_LABEL;
use crate::{Error, Result};

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Number of true classes (rows).
    pub num_classes: usize,
    /// Number of predicted labels (columns; may exceed the classes, e.g. for
    /// clusters).
    pub num_predicted: usize,
    /// Row-major `num_classes × num_predicted` counts.
    pub counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Counts `pred` against `truth`; examples with an unknown true label are
    /// skipped; a label beyond the given sizes is an error.
    pub fn new(
        pred: &[u32],
        truth: &[u32],
        num_classes: usize,
        num_predicted: usize,
    ) -> Result<Self> {
        if pred.len() != truth.len() {
            return Err(Error::Usage(format!(
                "{} predictions for {} true labels",
                pred.len(),
                truth.len()
            )));
        }
        let mut counts = vec![0u64; num_classes * num_predicted];
        for (i, (&p, &t)) in pred.iter().zip(truth).enumerate() {
            if t == UNKNOWN_LABEL {
                continue;
            }
            if t as usize >= num_classes || p as usize >= num_predicted {
                return Err(Error::Usage(format!(
                    "example {i}: label {t} or prediction {p} outside {num_classes} × {num_predicted}"
                )));
            }
            counts[t as usize * num_predicted + p as usize] += 1;
        }
        Ok(ConfusionMatrix {
            num_classes,
            num_predicted,
            counts,
        })
    }

    /// Count of examples of class `t` predicted as `p`.
    pub fn get(&self, t: usize, p: usize) -> u64 {
        self.counts[t * self.num_predicted + p]
    }

    /// Each row divided by its sum (rows without examples stay 0).
    pub fn row_normalised(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.counts.len()];
        for t in 0..self.num_classes {
            let row = &self.counts[t * self.num_predicted..(t + 1) * self.num_predicted];
            let s: u64 = row.iter().sum();
            if s > 0 {
                for (o, &c) in out[t * self.num_predicted..].iter_mut().zip(row) {
                    *o = c as f64 / s as f64;
                }
            }
        }
        out
    }

    /// Fraction on the diagonal (accuracy when predictions are classes).
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().sum();
        let diag: u64 = (0..self.num_classes.min(self.num_predicted))
            .map(|i| self.get(i, i))
            .sum();
        if total == 0 {
            0.0
        } else {
            diag as f64 / total as f64
        }
    }
}
