//! Measurements behind `sparselabel bench`: GEMM and convolution throughput,
//! training-step throughput of the paper models, each printed as one JSON
//! object per line. Timings are medians of repeated runs after a warm-up.

pub mod conv;
pub mod gemm;
pub mod overhead;
pub mod step;
mod timing;

pub use timing::{median_seconds, Timing};
