//! The closed set of ops a node can hold. Each op's struct, forward and
//! backward live together in one file under `src/ops/`; this file only lists
//! them and dispatches `backward` to them.

use super::backward::{Grads, Values};
use super::params::ParamId;
use crate::ops;
use crate::tensor::Tensor;

/// The backward half of an op: given the forward values, the op's output and
/// the gradient of the loss with respect to that output, add the gradient of
/// each parent into `grads`.
pub(crate) trait Backward {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads);

    /// Called first, with the output gradient handed over: an op whose parent's
    /// gradient can be computed in `g`'s own buffer (a reshape, an element-wise
    /// map) moves it there when that is the parent's first contribution, saving a
    /// zeroed buffer and a pass, and returns `None`. Otherwise it returns `g`
    /// untouched and [`Backward::backward`] runs.
    fn backward_owned(
        &self,
        _vals: &Values,
        _out: &Tensor,
        g: Tensor,
        _grads: &mut Grads,
    ) -> Option<Tensor> {
        Some(g)
    }
}

macro_rules! op_enum {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// A node's op: a leaf, a parameter, or one of the differentiable ops.
        pub enum Op {
            /// An input or constant; also any node that needs no gradient.
            Leaf,
            /// A parameter of the store (its value is not copied into the tape).
            Param(ParamId),
            $(
                #[doc = concat!("See [`", stringify!($ty), "`].")]
                $variant($ty),
            )*
        }

        impl Op {
            pub(crate) fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
                match self {
                    Op::Leaf | Op::Param(_) => {}
                    $(Op::$variant(o) => o.backward(vals, out, g, grads),)*
                }
            }

            /// See [`Backward::backward_owned`].
            pub(crate) fn backward_owned(
                &self,
                vals: &Values,
                out: &Tensor,
                g: Tensor,
                grads: &mut Grads,
            ) -> Option<Tensor> {
                match self {
                    Op::Leaf | Op::Param(_) => Some(g),
                    $(Op::$variant(o) => o.backward_owned(vals, out, g, grads),)*
                }
            }
        }
    };
}

op_enum! {
    Binary(ops::arith::Binary),
    Affine(ops::arith::Affine),
    Matmul(ops::matmul::Matmul),
    Linear(ops::linear::Linear),
    Conv2d(ops::conv::Conv2d),
    ConvTranspose2d(ops::conv_transpose::ConvTranspose2d),
    MaxPool2d(ops::pool::MaxPool2d),
    Unary(ops::activation::Unary),
    Sum(ops::reduce::Sum),
    LogSumExp(ops::reduce::LogSumExp),
    Softmax(ops::softmax::Softmax),
    LogSoftmax(ops::softmax::LogSoftmax),
    Reshape(ops::shape::Reshape),
    Transpose(ops::shape::Transpose),
    Concat(ops::shape::Concat),
    Slice(ops::shape::Slice),
    Tile(ops::shape::Tile),
    GatherRows(ops::shape::GatherRows),
    GatheredSum(ops::gathered_sum::GatheredSum),
    L2Normalize(ops::normalize::L2Normalize),
    BatchNorm(ops::batchnorm::BatchNorm),
    Mask(ops::normalize::Mask),
    Clamp(ops::normalize::Clamp),
    BceWithLogits(ops::losses::BceWithLogits),
    SquaredError(ops::losses::SquaredError),
    GaussianLogDensity(ops::losses::GaussianLogDensity),
    KlNormal(ops::losses::KlNormal),
    CategoricalKl(ops::losses::CategoricalKl),
    CategoricalEntropy(ops::losses::CategoricalEntropy),
    CrossEntropy(ops::losses::CrossEntropy),
    GaussianSample(ops::sample::GaussianSample),
    StraightThrough(ops::sample::StraightThrough),
}
