//! An MLP whose first layer takes several inputs and a class:
//! W·[v_1; …; v_m; one-hot y] + b = W_1·v_1 + … + W_m·v_m + T[y] + b.
//!
//! Each part W_i·v_i is computed at its own row count and the caller adds
//! them: in the auxiliary models an x- or a-dependent part is computed once
//! per example and tiled over the K enumerated classes, a z-dependent part
//! once per bound row, and T[y] is a row gather. With batch-norm, every
//! hidden layer is normalised before its activation (Lasagne's
//! `BatchNormLayer` after each dense layer, as Maaløe et al.'s code), with
//! optional per-row weights on the statistics (see
//! [`crate::ops::batchnorm::batch_norm_weighted`]).

use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, BatchNorm, Init, Linear};
use crate::ops;
use crate::rng::StreamRng;

/// A multi-input MLP (parameter ids).
#[derive(Clone, Debug)]
pub struct SumMlp {
    /// First-layer parts, one per input; `parts[0]` carries the bias.
    parts: Vec<Linear>,
    /// (K, H₀) per-class rows of the first layer, if the network takes y.
    class_table: Option<ParamId>,
    /// Hidden layers after the first (H₀→H₁, …).
    hidden: Vec<Linear>,
    /// Output layer.
    out: Linear,
    /// One batch-norm per hidden layer (pre-activation), or none.
    norms: Vec<BatchNorm>,
    act: Activation,
}

/// How a [`SumMlp`] is shaped.
pub struct SumMlpShape<'a> {
    /// Width of each input part.
    pub inputs: &'a [usize],
    /// Classes of the one-hot y input (0: no y).
    pub classes: usize,
    /// Hidden widths (at least one).
    pub hidden: &'a [usize],
    /// Output width.
    pub out: usize,
    /// Initialiser of the output layer.
    pub out_init: Init,
    /// Batch-norm before every hidden activation.
    pub batch_norm: bool,
}

impl SumMlp {
    /// Creates the parameters `<name>.in<i>`, `<name>.class_table`,
    /// `<name>.<l>`, `<name>.out` (and `<name>.bn<l>`). The first layer's
    /// parts are He-normal with the fan-in of the whole layer.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        shape: &SumMlpShape<'_>,
        act: Activation,
        rng: &mut StreamRng,
    ) -> Self {
        let h = shape.hidden;
        assert!(!h.is_empty() && !shape.inputs.is_empty());
        let fan_in: usize = shape.inputs.iter().sum::<usize>() + shape.classes;
        let parts = shape
            .inputs
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let w = Init::HeNormal.tensor(&[h[0], d], fan_in, h[0], rng);
                let weight = store.add(&format!("{name}.in{i}.weight"), w);
                let bias = (i == 0).then(|| {
                    store.add(
                        &format!("{name}.in{i}.bias"),
                        crate::tensor::Tensor::zeros(&[h[0]]),
                    )
                });
                Linear {
                    weight,
                    bias,
                    in_features: d,
                    out_features: h[0],
                }
            })
            .collect();
        let class_table = (shape.classes > 0).then(|| {
            let t = Init::HeNormal.tensor(&[shape.classes, h[0]], fan_in, h[0], rng);
            store.add(&format!("{name}.class_table"), t)
        });
        let hidden = h
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                Linear::new(
                    store,
                    &format!("{name}.{}", i + 1),
                    w[0],
                    w[1],
                    Init::HeNormal,
                    rng,
                )
            })
            .collect();
        let last = *h.last().unwrap();
        let out = Linear::new(
            store,
            &format!("{name}.out"),
            last,
            shape.out,
            shape.out_init,
            rng,
        );
        let norms = if shape.batch_norm {
            h.iter()
                .enumerate()
                .map(|(i, &w)| {
                    let mut bn = BatchNorm::new(store, &format!("{name}.bn{i}"), w);
                    // Lasagne's BatchNormLayer ε (the papers' framework).
                    bn.params.eps = 1e-4;
                    bn
                })
                .collect()
        } else {
            Vec::new()
        };
        SumMlp {
            parts,
            class_table,
            hidden,
            out,
            norms,
            act,
        }
    }

    /// W_i·v_i (+ b for part 0): (B, d_i) → (B, H₀).
    pub fn part(&self, tape: &mut Tape, i: usize, v: Var) -> Var {
        self.parts[i].forward(tape, v)
    }

    /// From the summed first-layer parts `pre` (R, H₀): adds T[y] for the
    /// classes `ys` (one per row, if the network takes y), then
    /// [batch-norm →] activation → hidden layers → output (R, out).
    /// `weights` (R) weigh the rows in the batch-norm statistics.
    pub fn head(
        &self,
        tape: &mut Tape,
        pre: Var,
        ys: Option<&[usize]>,
        weights: Option<&[f32]>,
    ) -> Var {
        let mut h = match (self.class_table, ys) {
            (Some(t), Some(ys)) => {
                let table = tape.param(t);
                let rows = ops::gather_rows(tape, table, ys);
                ops::add(tape, pre, rows)
            }
            (None, None) => pre,
            _ => panic!("SumMlp::head: classes given to a network without y or vice versa"),
        };
        for l in 0..=self.hidden.len() {
            match (l.checked_sub(1).map(|i| &self.hidden[i]), self.norms.get(l)) {
                // A hidden layer straight into the activation: one node.
                (Some(layer), None) => {
                    let shape = [tape.shape(h)[0], layer.out_features];
                    h = layer.forward_activated(tape, h, &shape, self.act);
                }
                (layer, norm) => {
                    if let Some(layer) = layer {
                        h = layer.forward(tape, h);
                    }
                    if let Some(bn) = norm {
                        h = bn.forward_weighted(tape, h, weights);
                    }
                    h = self.act.apply(tape, h);
                }
            }
        }
        self.out.forward(tape, h)
    }
}
