//! Differentiable ops, one file per op or op family, each with its forward
//! function (pushes a node on the tape) and its backward (the `Backward`
//! impl of its struct) side by side. Shapes are written `x: (B, D)`.

pub mod activation;
pub mod arith;
pub mod batchnorm;
pub mod conv;
pub mod conv_transpose;
pub mod gathered_sum;
pub mod linear;
pub mod losses;
pub mod matmul;
pub mod normalize;
pub mod pool;
pub mod rectifier;
pub mod reduce;
pub mod sample;
pub mod shape;
pub mod softmax;

mod broadcast;

pub use activation::{
    elu, exp, leaky_relu, log, log1p, relu, sigmoid, softplus, sqrt, square, tanh,
};
pub use arith::{add, add_scalar, div, mul, mul_scalar, neg, sub};
pub use batchnorm::batch_norm;
pub use conv::conv2d;
pub use conv_transpose::conv_transpose2d;
pub use gathered_sum::{gathered_sum, gathered_sum_rectified};
pub use linear::{linear, linear_rectified_to, linear_to};
pub use losses::{
    bce_with_logits, categorical_entropy, categorical_kl, cross_entropy, gaussian_log_density,
    kl_normal, kl_std_normal, squared_error,
};
pub use matmul::matmul;
pub use normalize::{clamp, dropout, l2_normalize_rows, mask};
pub use pool::max_pool2d;
pub use rectifier::Rectifier;
pub use reduce::{logsumexp, mean, mean_all, sum, sum_all};
pub use sample::{gaussian_sample, gumbel_softmax, straight_through};
pub use shape::{concat, gather_rows, reshape, slice, split, tile, transpose};
pub use softmax::{log_softmax, softmax};
