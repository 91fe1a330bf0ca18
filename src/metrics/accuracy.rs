//! Classification accuracy: the model's classes are the true classes.

use crate::data::UNKNOWN_LABEL;
use crate::{Error, Result};

/// Fraction of examples (with a known true label) whose prediction equals
/// the true label; 0 when there are none.
pub fn accuracy(pred: &[u32], truth: &[u32]) -> Result<f64> {
    if pred.len() != truth.len() {
        return Err(Error::Usage(format!(
            "{} predictions for {} true labels",
            pred.len(),
            truth.len()
        )));
    }
    let (mut hit, mut total) = (0usize, 0usize);
    for (&p, &t) in pred.iter().zip(truth) {
        if t != UNKNOWN_LABEL {
            total += 1;
            hit += usize::from(p == t);
        }
    }
    Ok(if total == 0 {
        0.0
    } else {
        hit as f64 / total as f64
    })
}
