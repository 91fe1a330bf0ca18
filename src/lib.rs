//! sparselabel: learning classifiers and clusters from data with very few
//! labels, with deep generative models, on a CPU. Pure Rust: our own tensor
//! core, reverse-mode autodiff, kernels, clustering and metrics.
//!
//! Data flows one way: `data` → batches → `models` build a loss on a fresh
//! `autograd::Tape` → `backward` → `optim` updates the `ParamStore` →
//! `metrics` → run directory. See `docs/ARCHITECTURE.md`.

pub mod active;
pub mod autograd;
pub mod bench;
pub mod cli;
pub mod cluster;
pub mod data;
pub mod error;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod tensor;
pub mod train;
pub mod viz;

pub use error::{Error, Result};
pub use sparselabel_kernels as kernels;
