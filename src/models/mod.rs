//! The paper models, one file each. Every model builds its training loss on
//! a fresh tape from a [`Batch`] and predicts classes for evaluation; its
//! parameters live in the caller's `ParamStore`.

pub mod m2;

use crate::autograd::{Tape, Var};
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// One optimisation step's data: labelled examples with their classes and
/// unlabelled examples (either part may be empty).
#[derive(Clone, Debug)]
pub struct Batch {
    /// Labelled inputs (B_l, D).
    pub labelled: Tensor,
    /// Their classes (B_l).
    pub labels: Vec<usize>,
    /// Unlabelled inputs (B_u, D).
    pub unlabelled: Tensor,
}

/// The loss of a step and its named parts (for logging).
pub struct Loss {
    /// The scalar to minimise.
    pub total: Var,
    /// Named scalar parts, e.g. `("labelled_elbo", v)`.
    pub terms: Vec<(&'static str, Var)>,
}

/// What the trainer needs from a model.
pub trait Model: Send + Sync {
    /// The model's name (`m2`, …).
    fn name(&self) -> &'static str;

    /// Builds the training loss for `batch`; `rng` supplies all sampling.
    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss;

    /// Log-probabilities of the classes for inputs x: (B, D) → (B, K).
    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var;

    /// Number of classes (or clusters) the model predicts.
    fn num_classes(&self) -> usize;
}
