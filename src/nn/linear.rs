//! Fully connected layer y = x·Wᵀ + b with W: (out, in).

use super::{Activation, Init};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::ops;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// A linear layer.
#[derive(Clone, Copy, Debug)]
pub struct Linear {
    /// Weight (out, in), named `<name>.weight`.
    pub weight: ParamId,
    /// Bias (out), named `<name>.bias`, if any.
    pub bias: Option<ParamId>,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
}

impl Linear {
    /// Creates the parameters (bias initialised to zero).
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        inp: usize,
        out: usize,
        init: Init,
        rng: &mut StreamRng,
    ) -> Self {
        let weight = store.add(
            &format!("{name}.weight"),
            init.tensor(&[out, inp], inp, out, rng),
        );
        let bias = Some(store.add(&format!("{name}.bias"), Tensor::zeros(&[out])));
        Linear {
            weight,
            bias,
            in_features: inp,
            out_features: out,
        }
    }

    /// Applies the layer to x: (B, in), or (B, …) with `in` elements per row.
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        ops::linear(tape, x, w, b)
    }

    /// act(layer(x)) with the output laid out as `shape` (B, …): a rectifier
    /// is applied inside the layer's node ([`ops::linear_rectified_to`]), any
    /// other activation as its own node.
    pub fn forward_activated(
        &self,
        tape: &mut Tape,
        x: Var,
        shape: &[usize],
        act: Activation,
    ) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        match act.rectifier() {
            Some(r) => ops::linear_rectified_to(tape, x, w, b, shape, Some(r)),
            None => {
                let y = ops::linear_to(tape, x, w, b, shape);
                act.apply(tape, y)
            }
        }
    }

    /// [`Linear::forward`] with the output laid out as `shape` (B, …) (see
    /// [`ops::linear_to`]).
    pub fn forward_to(&self, tape: &mut Tape, x: Var, shape: &[usize]) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        ops::linear_to(tape, x, w, b, shape)
    }
}
