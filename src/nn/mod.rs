//! Layers built on the ops: each holds `ParamId`s into a `ParamStore` and has
//! a `forward(&self, tape, x)`; parameters are named `<layer>.<param>` with
//! PyTorch's shapes and names (`weight`, `bias`, `running_mean`, …), so a
//! checkpoint reads naturally from Python.

mod activation;
mod batchnorm;
mod conv;
mod init;
mod linear;
mod mlp;

pub use activation::Activation;
pub use batchnorm::BatchNorm;
pub use conv::{Conv2d, ConvTranspose2d};
pub use init::Init;
pub use linear::Linear;
pub use mlp::Mlp;

use crate::autograd::{Tape, Var};
use crate::ops;
use crate::rng::StreamRng;

/// Inverted dropout with probability `p` (identity in evaluation mode).
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub p: f32,
}

impl Dropout {
    /// Applies dropout with masks drawn from `rng`.
    pub fn forward(&self, tape: &mut Tape, x: Var, rng: &mut StreamRng) -> Var {
        ops::dropout(tape, x, self.p, rng)
    }
}

/// Scales each row to unit L2 norm.
#[derive(Clone, Copy, Debug)]
pub struct L2Normalize {
    /// Added under the square root so zero rows stay finite.
    pub eps: f32,
}

impl Default for L2Normalize {
    fn default() -> Self {
        L2Normalize { eps: 1e-12 }
    }
}

impl L2Normalize {
    /// Applies the normalisation.
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        ops::l2_normalize_rows(tape, x, self.eps)
    }
}
