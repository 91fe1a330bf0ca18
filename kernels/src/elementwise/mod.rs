//! Element-wise maps on f32 slices: activations with their derivatives, BLAS-1
//! helpers and the Adam update.
//!
//! Conventions (llm.c style pairs):
//! * `<name>_forward(x, [param,] y)` **overwrites** `y[i] = f(x[i])`;
//! * `<name>_backward(x, [param,] y, dy, dx)` **accumulates** `dx[i] += dy[i]·f'(x[i])`,
//!   given the forward input `x` and output `y` (each uses whichever is cheaper or more
//!   stable; its doc says which).
//!
//! All slices of one call must have the same length (panics otherwise). Loops are
//! branch-free and vectorise; exp/log/tanh/sigmoid/softplus use the polynomial kernels
//! of [`math`], and every map runs an AVX2+FMA build when the CPU has it (same bits as
//! the baseline build, see [`math`]).

mod activations;
mod adam;
mod bernoulli;
mod blas1;
pub(crate) mod dispatch;
pub mod math;
mod pointwise;

pub use activations::*;
pub use adam::*;
pub use bernoulli::*;
pub use blas1::*;
pub use pointwise::*;
