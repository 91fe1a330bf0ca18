//! Multi-layer perceptron builder: sizes [d0, d1, …, dn] make n linear layers
//! with an activation between them (none after the last).

use super::{Activation, Init, Linear};
use crate::autograd::{ParamStore, Tape, Var};
use crate::rng::StreamRng;

/// A stack of linear layers.
#[derive(Clone, Debug)]
pub struct Mlp {
    /// The layers, input first; named `<name>.0`, `<name>.1`, ….
    pub layers: Vec<Linear>,
    /// Applied after every layer but the last.
    pub activation: Activation,
}

impl Mlp {
    /// Builds layers d0→d1→…→dn.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        sizes: &[usize],
        activation: Activation,
        init: Init,
        rng: &mut StreamRng,
    ) -> Self {
        assert!(
            sizes.len() >= 2,
            "an MLP needs at least an input and an output size"
        );
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Linear::new(store, &format!("{name}.{i}"), w[0], w[1], init, rng))
            .collect();
        Mlp { layers, activation }
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.layers.last().map(|l| l.out_features).unwrap_or(0)
    }

    /// Applies the stack to x: (B, d0) → (B, dn).
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        self.forward_then(tape, x, Activation::Identity)
    }

    /// [`Mlp::forward`] followed by `out` on the last layer's output, fused into
    /// that layer when `out` is a rectifier (the same values and gradients as
    /// `out.apply` after `forward`).
    pub fn forward_then(&self, tape: &mut Tape, x: Var, out: Activation) -> Var {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            let act = if i + 1 < self.layers.len() {
                self.activation
            } else {
                out
            };
            h = if act == Activation::Identity {
                layer.forward(tape, h)
            } else {
                let shape = [tape.shape(h)[0], layer.out_features];
                layer.forward_activated(tape, h, &shape, act)
            };
        }
        h
    }
}
