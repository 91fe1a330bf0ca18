//! Training infrastructure: configuration and presets, batching, the loop,
//! evaluation, run directories and checkpoints.

pub mod batches;
pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod figures;
pub mod model_figures;
pub mod report;
pub mod run_dir;
pub mod trainer;

pub use config::{preset, Preset, TrainConfig, PRESETS};
pub use evaluate::{evaluate, predict, EvalMetrics};
pub use run_dir::RunDir;
pub use trainer::{default_out, Outcome, Trainer};
