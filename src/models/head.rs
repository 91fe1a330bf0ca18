//! Linear classifier heads fitted on fixed features of the labelled
//! examples (M1's posterior means): multinomial logistic regression or a
//! one-vs-rest linear SVM (squared-norm regularised hinge loss). Features
//! are standardised with the labelled examples' mean and spread; the head's
//! parameters are buffers of the model's store, so checkpoints keep them.
//!
//! Fitting is full-batch Adam on a private store (deterministic), from zero:
//! softmax: mean −log softmax(W·f + b)_y + λ/2‖W‖²;
//! SVM: mean Σ_k max(0, 1 − t_k (W_k·f + b_k)) + λ/2‖W‖², t_k = ±1.

use serde::{Deserialize, Serialize};

use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::ops;
use crate::optim::{Adam, AdamConfig, Optimizer};
use crate::tensor::Tensor;

/// Which linear classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Multinomial logistic regression.
    Softmax,
    /// One-vs-rest linear SVM.
    Svm,
    /// Label spreading over a k-NN graph of every training example's
    /// features (transductive; see [`super::label_spreading`]).
    Spreading,
}

impl HeadKind {
    /// Parses `softmax`, `svm` or `spreading`.
    pub fn parse(s: &str) -> crate::Result<Self> {
        match s {
            "softmax" | "logistic" => Ok(HeadKind::Softmax),
            "svm" => Ok(HeadKind::Svm),
            "spreading" | "label-spreading" => Ok(HeadKind::Spreading),
            _ => Err(crate::Error::Usage(format!(
                "head '{s}' must be softmax, svm or spreading"
            ))),
        }
    }
}

/// A linear head's buffers.
#[derive(Clone, Copy, Debug)]
pub struct LinearHead {
    kind: HeadKind,
    weight: ParamId,
    bias: ParamId,
    mean: ParamId,
    inv_std: ParamId,
}

const L2: f32 = 1e-3;
const ITERATIONS: usize = 300;

impl LinearHead {
    /// Adds the head's buffers (zero weights: predicts class 0 until fitted).
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        features: usize,
        classes: usize,
        kind: HeadKind,
    ) -> Self {
        LinearHead {
            kind,
            weight: store.add_buffer(
                &format!("{name}.weight"),
                Tensor::zeros(&[classes, features]),
            ),
            bias: store.add_buffer(&format!("{name}.bias"), Tensor::zeros(&[classes])),
            mean: store.add_buffer(&format!("{name}.feature_mean"), Tensor::zeros(&[features])),
            inv_std: store.add_buffer(
                &format!("{name}.feature_inv_std"),
                Tensor::full(&[features], 1.0),
            ),
        }
    }

    /// Class scores for features f: (B, F) → (B, K) log-probabilities
    /// (softmax of the scores also for the SVM, so argmax is the decision).
    pub fn log_probs(&self, tape: &mut Tape, f: Var) -> Var {
        let (m, s) = (tape.param(self.mean), tape.param(self.inv_std));
        let centred = ops::sub(tape, f, m);
        let z = ops::mul(tape, centred, s);
        let (w, b) = (tape.param(self.weight), tape.param(self.bias));
        let scores = ops::linear(tape, z, w, Some(b));
        ops::log_softmax(tape, scores)
    }

    /// Fits the head on features (N, F) with classes `labels`, writing the
    /// result into `store`.
    pub fn fit(
        &self,
        store: &mut ParamStore,
        features: &Tensor,
        labels: &[usize],
    ) -> crate::Result<()> {
        let (n, f) = (features.shape()[0], features.shape()[1]);
        let k = store.value(self.bias).len();
        if n == 0 {
            return Ok(());
        }
        // Standardisation from the labelled features.
        let mut mean = vec![0f64; f];
        for row in features.data().chunks_exact(f) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64 / n as f64;
            }
        }
        let mut var = vec![0f64; f];
        for row in features.data().chunks_exact(f) {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v as f64 - m).powi(2) / n as f64;
            }
        }
        let mean_t = Tensor::new(&[f], mean.iter().map(|&m| m as f32).collect());
        let inv_t = Tensor::new(
            &[f],
            var.iter()
                .map(|&v| (1.0 / (v.sqrt() + 1e-6)) as f32)
                .collect(),
        );
        let z = Tensor::new(
            &[n, f],
            features
                .data()
                .chunks_exact(f)
                .flat_map(|row| {
                    row.iter()
                        .zip(mean_t.data())
                        .zip(inv_t.data())
                        .map(|((v, m), s)| (v - m) * s)
                })
                .collect(),
        );
        let mut local = ParamStore::new();
        let w = local.add("weight", Tensor::zeros(&[k, f]));
        let b = local.add("bias", Tensor::zeros(&[k]));
        let mut opt = Adam::new(&local, AdamConfig::default());
        let targets: Tensor = Tensor::new(
            &[n, k],
            labels
                .iter()
                .flat_map(|&y| (0..k).map(move |j| if j == y { 1.0 } else { -1.0 }))
                .collect(),
        );
        for _ in 0..ITERATIONS {
            let mut tape = Tape::new(&local);
            let x = tape.constant(z.clone());
            let (wv, bv) = (tape.param(w), tape.param(b));
            let scores = ops::linear(&mut tape, x, wv, Some(bv));
            let data_loss = match self.kind {
                // (A spreading head is not a LinearHead; softmax if asked.)
                HeadKind::Softmax | HeadKind::Spreading => {
                    let ce = ops::cross_entropy(&mut tape, scores, labels, None);
                    ops::mean_all(&mut tape, ce)
                }
                HeadKind::Svm => {
                    let t = tape.constant(targets.clone());
                    let margin = ops::mul(&mut tape, scores, t);
                    let slack = ops::neg(&mut tape, margin);
                    let slack = ops::add_scalar(&mut tape, slack, 1.0);
                    let hinge = ops::relu(&mut tape, slack);
                    let s = ops::sum_all(&mut tape, hinge);
                    ops::mul_scalar(&mut tape, s, 1.0 / n as f32)
                }
            };
            let sq = ops::square(&mut tape, wv);
            let reg = ops::sum_all(&mut tape, sq);
            let reg = ops::mul_scalar(&mut tape, reg, 0.5 * L2);
            let loss = ops::add(&mut tape, data_loss, reg);
            let g = tape.backward(loss)?;
            drop(tape);
            local.zero_grad();
            local.accumulate(&g);
            opt.step(&mut local, 0.05);
        }
        store.get_mut(self.weight).value = local.value(w).clone();
        store.get_mut(self.bias).value = local.value(b).clone();
        store.get_mut(self.mean).value = mean_t;
        store.get_mut(self.inv_std).value = inv_t;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three separable blobs: both heads classify the training points.
    #[test]
    fn both_heads_separate_blobs() {
        let centres = [[0.0f32, 5.0], [5.0, 0.0], [-5.0, -5.0]];
        let mut rng = crate::rng::stream(1, "blobs");
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..60 {
            let c = i % 3;
            for &centre in &centres[c] {
                data.push(centre + rand::RngExt::random::<f32>(&mut rng) - 0.5);
            }
            labels.push(c);
        }
        let x = Tensor::new(&[60, 2], data);
        for kind in [HeadKind::Softmax, HeadKind::Svm] {
            let mut store = ParamStore::new();
            let head = LinearHead::new(&mut store, "head", 2, 3, kind);
            head.fit(&mut store, &x, &labels).unwrap();
            let mut tape = Tape::no_grad(&store);
            let xv = tape.constant(x.clone());
            let lp = head.log_probs(&mut tape, xv);
            let correct = tape
                .value(lp)
                .data()
                .chunks(3)
                .zip(&labels)
                .filter(|(row, &y)| (0..3).all(|j| row[y] >= row[j]))
                .count();
            assert_eq!(correct, 60, "{kind:?}");
        }
    }
}
