//! Reverse-mode automatic differentiation on an index-based tape.
//!
//! A [`Tape`] is an arena of nodes built afresh for each step: every op pushes
//! one node holding its output value and a closed [`Op`] describing how to
//! send gradients to its parents (parents are indices, never pointers).
//! Parameters live outside the tape in a [`ParamStore`] and enter a step as
//! leaves that are not copied; [`Tape::backward`] walks the nodes in reverse
//! index order, which makes gradients deterministic, and returns
//! [`Gradients`] that the store accumulates.

mod backward;
pub mod gradcheck;
mod op;
mod params;
mod tape;
mod trace;

pub use backward::{Gradients, Grads, ParamTensors, Values};
pub(crate) use op::Backward;
pub use op::Op;
pub use params::{ParamId, ParamStore};
pub use tape::{Record, Tape, Var};
pub use trace::{OpTrace, Trace};
