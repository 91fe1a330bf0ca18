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
    /// Accuracy on the examples of the labelled classes, predictions read
    /// through the model's class map (a prediction of an extra class is
    /// wrong); `None` for models whose classes are the dataset classes or
    /// when no scored example is of a labelled class.
    pub labelled_accuracy: Option<f64>,
    /// For each model class, the true class the Hungarian (one-to-one)
    /// mapping gives it (`None`: unmatched, counted wrong).
    pub cluster_mapping: Vec<Option<u32>>,
    /// For each model class, its majority true class (purity's mapping;
    /// `None`: never predicted).
    pub majority_mapping: Vec<Option<u32>>,
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
    let class_map = model.class_map_in(store);
    let cm = metrics::ConfusionMatrix::new(&p, &t, ds.num_classes, k)?;
    let cluster = metrics::cluster_accuracy(&p, &t)?;
    let mut cluster_mapping = vec![None; k];
    for &(c, class) in &cluster.mapping {
        if let Some(slot) = cluster_mapping.get_mut(c as usize) {
            *slot = Some(class);
        }
    }
    let majority_mapping: Vec<Option<u32>> = (0..k)
        .map(|j| {
            let mut best: Option<(u64, u32)> = None;
            for (class, row) in cm.counts.chunks(k).enumerate() {
                let v = row[j];
                if v > 0 && best.is_none_or(|(b, _)| v > b) {
                    best = Some((v, class as u32));
                }
            }
            best.map(|(_, c)| c)
        })
        .collect();
    // Predictions as dataset classes (u32::MAX: an extra class).
    let as_dataset = |pred: u32| -> u32 {
        match &class_map {
            Some(m) => m.get(pred as usize).copied().flatten().unwrap_or(u32::MAX),
            None => pred,
        }
    };
    let labelled_accuracy = class_map.as_ref().and_then(|m| {
        let labelled: Vec<u32> = m.iter().flatten().copied().collect();
        let (mut hits, mut n) = (0usize, 0usize);
        for (&pp, &tt) in p.iter().zip(&t) {
            if labelled.contains(&tt) {
                n += 1;
                hits += usize::from(as_dataset(pp) == tt);
            }
        }
        (n > 0).then(|| hits as f64 / n as f64)
    });
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
        } else if class_map.is_some() {
            let hits = p
                .iter()
                .zip(&t)
                .filter(|(&pp, &tt)| as_dataset(pp) == tt)
                .count();
            hits as f64 / p.len() as f64
        } else {
            metrics::accuracy(&p, &t)?
        },
        cluster_accuracy: cluster.accuracy,
        labelled_accuracy,
        cluster_mapping,
        majority_mapping,
        purity: metrics::purity(&p, &t)?,
        nmi: metrics::nmi(&p, &t)?,
        count: p.len(),
        confusion: cm.counts.chunks(k).map(|r| r.to_vec()).collect(),
    })
}
