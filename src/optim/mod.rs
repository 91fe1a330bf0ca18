//! Optimisers (Adam, SGD with momentum), learning-rate schedules and
//! gradient clipping. Optimisers read the gradients accumulated in the
//! `ParamStore`, update the trainable values in place and keep their state
//! per parameter so it can be checkpointed.

mod adam;
mod clip;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm};
pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::autograd::ParamStore;
use crate::tensor::Tensor;
use crate::Result;

/// What every optimiser offers to the trainer and to checkpoints.
pub trait Optimizer {
    /// One update of every trainable parameter from its stored gradient,
    /// with learning rate `lr`.
    fn step(&mut self, store: &mut ParamStore, lr: f32);

    /// Number of steps taken.
    fn steps(&self) -> u64;

    /// The state as named tensors (e.g. `adam.m.<param>`), for checkpoints.
    fn state(&self, store: &ParamStore) -> Vec<(String, Tensor)>;

    /// Restores the state from named tensors written by `state`.
    fn load_state(
        &mut self,
        store: &ParamStore,
        state: &[(String, Tensor)],
        steps: u64,
    ) -> Result<()>;
}

/// Finds `name` in `state` and checks its shape.
pub(crate) fn find_state<'a>(
    state: &'a [(String, Tensor)],
    name: &str,
    shape: &[usize],
) -> Result<&'a Tensor> {
    let t = state
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .ok_or_else(|| crate::Error::Other(format!("optimiser state {name} missing")))?;
    if t.shape() != shape {
        return Err(crate::Error::Other(format!(
            "optimiser state {name}: shape {:?} expected, found {:?}",
            shape,
            t.shape()
        )));
    }
    Ok(t)
}
