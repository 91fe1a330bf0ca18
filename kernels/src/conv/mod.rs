//! 2-D convolution and transposed convolution on NCHW f32 slices.
//!
//! Fast paths are im2col + GEMM per image, parallel over the batch on rayon:
//! * forward: `Y_n (Cout×P) = W (Cout×K) · cols_n (K×P)`, K = Cin·KH·KW, P = OH·OW;
//! * backward data: `dcols = Wᵀ · dY_n`, then `dX_n += col2im(dcols)`;
//! * backward weight: `dW += Σ_n dY_n · cols_nᵀ`, summed over fixed batch chunks (chunk
//!   boundaries depend only on the shape) whose partial sums are added in chunk order,
//!   so the result is bit-identical for any number of threads.
//!
//! Direct kernels skip im2col and packing where they measured faster (the choice
//! depends only on the shape and the CPU, so results never depend on the thread count):
//! `direct`, output channels as SIMD lanes, for forwards and weight gradients with 48+
//! output channels; `batch_lanes`, 16 images per AVX-512 vector, for narrower layers
//! with 128+ taps; `batch_lanes_data`, the same lanes for data gradients (and so
//! transposed-conv forwards) with 16+ input channels and 128+ multiply-adds per input
//! element, each pixel summing only the taps that reach it. Other data gradients use
//! GEMM + col2im.
//!
//! Two special cases skip im2col: a 1×1 kernel with stride 1 and no padding (cols_n is
//! X_n itself), and a kernel covering the whole unpadded input (1×1 output: the whole
//! batch is one GEMM, e.g. the 9×9 conv on a 9×9 input).
//!
//! A transposed convolution (PyTorch `ConvTranspose2d`) is the adjoint of a convolution:
//! its forward is a conv's backward-data, its backward-data a conv's forward, and its
//! weight gradient a conv's weight gradient with the roles of x and dy swapped
//! ([`transposed`]). Naive direct-loop twins of every function live in [`naive`].

mod batch_lanes;
mod batch_lanes_data;
mod conv2d;
mod direct;
mod im2col;
pub mod naive;
mod shape;
pub mod transposed;

pub use conv2d::{conv2d_backward_data, conv2d_backward_weight, conv2d_forward};
pub use im2col::{col2im, im2col};
pub use naive::{
    conv2d_backward_data_naive, conv2d_backward_weight_naive, conv2d_forward_naive,
    conv_transpose2d_backward_data_naive, conv_transpose2d_backward_weight_naive,
    conv_transpose2d_forward_naive,
};
pub use shape::{Conv2dShape, ConvTranspose2dShape};
pub use transposed::{
    conv_transpose2d_backward_data, conv_transpose2d_backward_weight, conv_transpose2d_forward,
};
