//! Evaluation of a trained model on a split: predictions by argmax of the
//! class log-probabilities, then accuracy (classes are the true classes),
//! cluster accuracy (Hungarian), purity and NMI, and the confusion matrix.

use serde::Serialize;

use crate::autograd::{ParamStore, Tape};
use crate::data::{Dataset, UNKNOWN_LABEL};
use crate::metrics;
use crate::models::Model;
use crate::tensor::Tensor;
use crate::Result;

/// Metrics of one split.
#[derive(Clone, Debug, Serialize)]
pub struct EvalMetrics {
    /// Fraction of examples whose predicted class is the true class.
    pub accuracy: f64,
    /// Best one-to-one (Hungarian) mapping of predictions to classes.
    pub cluster_accuracy: f64,
    /// Majority-vote many-to-one mapping.
    pub purity: f64,
    /// Normalised mutual information (arithmetic).
    pub nmi: f64,
    /// Number of examples scored.
    pub count: usize,
    /// Accuracy on the coarse classes (predicted fine class mapped to its
    /// coarse class), when the dataset's classes nest sub-classes.
    pub coarse_accuracy: Option<f64>,
    /// Confusion counts, rows = true class, columns = prediction.
    pub confusion: Vec<Vec<u64>>,
}

/// Argmax predictions of `model` on `ds`, in chunks of 1,000 rows.
pub fn predict(model: &dyn Model, store: &ParamStore, ds: &Dataset) -> Vec<u32> {
    let mut pred = Vec::with_capacity(ds.n);
    let chunk = 1000;
    for start in (0..ds.n).step_by(chunk) {
        let end = (start + chunk).min(ds.n);
        let x = Tensor::new(
            &[end - start, ds.dim],
            ds.x[start * ds.dim..end * ds.dim].to_vec(),
        );
        let mut tape = Tape::no_grad(store);
        let xv = tape.constant(x);
        let lp = model.class_log_probs(&mut tape, xv);
        let k = model.num_classes();
        for row in tape.value(lp).data().chunks_exact(k) {
            let mut best = 0;
            for j in 1..k {
                if row[j] > row[best] {
                    best = j;
                }
            }
            pred.push(best as u32);
        }
    }
    pred
}

/// Scores `model` on the labelled examples of `ds`.
pub fn evaluate(model: &dyn Model, store: &ParamStore, ds: &Dataset) -> Result<EvalMetrics> {
    let pred = predict(model, store, ds);
    let truth = ds
        .labels
        .clone()
        .unwrap_or_else(|| vec![UNKNOWN_LABEL; ds.n]);
    let (p, t): (Vec<u32>, Vec<u32>) = pred
        .iter()
        .zip(&truth)
        .filter(|(_, &t)| t != UNKNOWN_LABEL)
        .map(|(&p, &t)| (p, t))
        .unzip();
    let k = model.num_classes();
    let cm = metrics::ConfusionMatrix::new(&p, &t, ds.num_classes, k)?;
    let coarse_accuracy = match &ds.coarse {
        Some(c) if !p.is_empty() && k == c.fine_to_coarse.len() => {
            let hits = p
                .iter()
                .zip(&t)
                .filter(|(&pf, &tf)| c.fine_to_coarse[pf as usize] == c.fine_to_coarse[tf as usize])
                .count();
            Some(hits as f64 / p.len() as f64)
        }
        _ => None,
    };
    Ok(EvalMetrics {
        coarse_accuracy,
        accuracy: if p.is_empty() {
            0.0
        } else {
            metrics::accuracy(&p, &t)?
        },
        cluster_accuracy: metrics::cluster_accuracy(&p, &t)?.accuracy,
        purity: metrics::purity(&p, &t)?,
        nmi: metrics::nmi(&p, &t)?,
        count: p.len(),
        confusion: cm.counts.chunks(k).map(|r| r.to_vec()).collect(),
    })
}
