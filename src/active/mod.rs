//! Cluster-based active labelling (Vengalil & Sinha): cluster the latent
//! codes of a β-VAE, have an oracle label the decoded cluster centres (a
//! person at the terminal, or a simulation that reads the training labels),
//! split clusters that are not clean, and propagate each label to the
//! cluster's members with a weight that falls with the distance to the
//! centre. The model that trains on those weights is
//! [`crate::models::clustervae`].

pub mod answers;
pub mod config;
pub mod oracle;
pub mod session;
pub mod terminal;
pub mod tree;

pub use config::ActiveConfig;
pub use oracle::{DatasetOracle, Oracle, Query, Reply};
pub use session::{run_iteration, IterationInput, IterationOutcome, Propagated};
pub use terminal::{Style, TerminalOracle};
