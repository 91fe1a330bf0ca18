//! `sparselabel-kernels`: pure f32 compute kernels on slices (no tensor types).
//!
//! * [`gemm`]: strided SGEMM on matrixmultiply, split over rayon by output blocks;
//! * [`conv`]: im2col/col2im, conv2d and transposed conv2d forward and backward;
//! * [`elementwise`]: activations and their derivatives, vectorised;
//! * [`reduce`]: sums, maxima, (log-)softmax with a fixed summation order;
//! * [`transpose`]: out-of-place matrix transpose in 8×8 register tiles;
//! * [`peak`]: the machine's FP32 FMA throughput.
//!
//! Every fast kernel has a naive twin used as the test reference. Parallel kernels cut
//! their work at boundaries that depend only on the shapes, and combine partial results
//! in a fixed order, so results are bit-identical whatever the number of threads.

#![warn(missing_docs)]

pub mod conv;
pub mod elementwise;
pub mod gemm;
pub mod peak;
pub mod reduce;
mod scratch;
pub mod transpose;

pub use gemm::{sgemm, sgemm_naive, sgemm_strided, sgemm_uninit, Transpose};
pub use peak::measure_fma_gflops;
