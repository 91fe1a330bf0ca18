//! Batch normalisation layer (BatchNorm1d for (N, C), BatchNorm2d for
//! (N, C, H, W)): γ = 1, β = 0, running mean 0, running variance 1.

use super::Activation;
use crate::autograd::{ParamStore, Tape, Var};
use crate::ops;
use crate::ops::batchnorm::BatchNormParams;
use crate::tensor::Tensor;

/// A batch-norm layer over `channels`.
#[derive(Clone, Copy, Debug)]
pub struct BatchNorm {
    /// Parameter and buffer ids plus momentum and ε.
    pub params: BatchNormParams,
}

impl BatchNorm {
    /// Creates γ, β and the running statistics (momentum 0.1, ε 1e-5, as PyTorch).
    pub fn new(store: &mut ParamStore, name: &str, channels: usize) -> Self {
        let params = BatchNormParams {
            gamma: store.add(&format!("{name}.weight"), Tensor::full(&[channels], 1.0)),
            beta: store.add(&format!("{name}.bias"), Tensor::zeros(&[channels])),
            running_mean: store
                .add_buffer(&format!("{name}.running_mean"), Tensor::zeros(&[channels])),
            running_var: store.add_buffer(
                &format!("{name}.running_var"),
                Tensor::full(&[channels], 1.0),
            ),
            momentum: 0.1,
            eps: 1e-5,
        };
        BatchNorm { params }
    }

    /// Normalises x with batch statistics (training) or running ones (evaluation).
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        ops::batch_norm(tape, x, &self.params)
    }

    /// [`forward`](Self::forward) then `act`; a ReLU or leaky ReLU runs inside the
    /// batch-norm node ([`ops::batchnorm::batch_norm_rectified`]).
    pub fn forward_activated(&self, tape: &mut Tape, x: Var, act: Activation) -> Var {
        match act.rectifier() {
            Some(r) => ops::batchnorm::batch_norm_rectified(tape, x, &self.params, Some(r)),
            None => {
                let y = self.forward(tape, x);
                act.apply(tape, y)
            }
        }
    }

    /// As [`forward`](Self::forward) with per-row weights on the training
    /// statistics (see [`ops::batchnorm::batch_norm_weighted`]).
    pub fn forward_weighted(&self, tape: &mut Tape, x: Var, weights: Option<&[f32]>) -> Var {
        ops::batchnorm::batch_norm_weighted(tape, x, &self.params, weights)
    }
}
