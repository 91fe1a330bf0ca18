//! Element-wise activations and maps, on the kernels' vectorised loops.
//!
//! | op | y | ∂y/∂x |
//! |---|---|---|
//! | relu | max(x, 0) | [x > 0] |
//! | leaky_relu(s) | x if x > 0 else s·x | 1 or s |
//! | elu(α) | x if x > 0 else α(eˣ − 1) | 1 or y + α |
//! | sigmoid | 1/(1 + e⁻ˣ) | y(1 − y) |
//! | tanh | tanh x | 1 − y² |
//! | softplus | log(1 + eˣ) | sigmoid(x) |
//! | exp | eˣ | y |
//! | log | ln x | 1/x |
//! | log1p | ln(1 + x) | 1/(1 + x) |
//! | sqrt | √x | 1/(2y) |
//! | square | x² | 2x |

use rayon::prelude::*;
use sparselabel_kernels::elementwise as ew;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// Which element-wise map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryKind {
    /// max(x, 0)
    Relu,
    /// x or slope·x
    LeakyRelu(f32),
    /// x or α(eˣ − 1)
    Elu(f32),
    /// logistic function
    Sigmoid,
    /// hyperbolic tangent
    Tanh,
    /// log(1 + eˣ), computed stably
    Softplus,
    /// eˣ
    Exp,
    /// ln x
    Log,
    /// ln(1 + x)
    Log1p,
    /// √x
    Sqrt,
    /// x²
    Square,
}

impl UnaryKind {
    fn name(self) -> &'static str {
        match self {
            UnaryKind::Relu => "relu",
            UnaryKind::LeakyRelu(_) => "leaky_relu",
            UnaryKind::Elu(_) => "elu",
            UnaryKind::Sigmoid => "sigmoid",
            UnaryKind::Tanh => "tanh",
            UnaryKind::Softplus => "softplus",
            UnaryKind::Exp => "exp",
            UnaryKind::Log => "log",
            UnaryKind::Log1p => "log1p",
            UnaryKind::Sqrt => "sqrt",
            UnaryKind::Square => "square",
        }
    }

    fn forward(self, x: &[f32], y: &mut [f32]) {
        match self {
            UnaryKind::Relu => ew::relu_forward(x, y),
            UnaryKind::LeakyRelu(s) => ew::leaky_relu_forward(x, s, y),
            UnaryKind::Elu(a) => ew::elu_forward(x, a, y),
            UnaryKind::Sigmoid => ew::sigmoid_forward(x, y),
            UnaryKind::Tanh => ew::tanh_forward(x, y),
            UnaryKind::Softplus => ew::softplus_forward(x, y),
            UnaryKind::Exp => ew::exp_forward(x, y),
            UnaryKind::Log => ew::log_forward(x, y),
            UnaryKind::Log1p => ew::log1p_forward(x, y),
            UnaryKind::Sqrt => ew::sqrt_forward(x, y),
            UnaryKind::Square => ew::square_forward(x, y),
        }
    }

    fn backward(self, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        match self {
            UnaryKind::Relu => ew::relu_backward(x, y, dy, dx),
            UnaryKind::LeakyRelu(s) => ew::leaky_relu_backward(x, s, y, dy, dx),
            UnaryKind::Elu(a) => ew::elu_backward(x, a, y, dy, dx),
            UnaryKind::Sigmoid => ew::sigmoid_backward(x, y, dy, dx),
            UnaryKind::Tanh => ew::tanh_backward(x, y, dy, dx),
            UnaryKind::Softplus => ew::softplus_backward(x, y, dy, dx),
            UnaryKind::Exp => ew::exp_backward(x, y, dy, dx),
            UnaryKind::Log => ew::log_backward(x, y, dy, dx),
            UnaryKind::Log1p => ew::log1p_backward(x, y, dy, dx),
            UnaryKind::Sqrt => ew::sqrt_backward(x, y, dy, dx),
            UnaryKind::Square => ew::square_backward(x, y, dy, dx),
        }
    }
}

/// Element-wise maps over at least this many values run on rayon in chunks
/// of [`PAR_CHUNK`] values. The chunk size is fixed (never derived from the
/// thread count), so results are the same on any number of threads.
pub(crate) const PAR_MIN: usize = 1 << 16;
/// Chunk of a parallel element-wise map (a multiple of every SIMD width).
pub(crate) const PAR_CHUNK: usize = 1 << 14;

/// y = f(x) chunk by chunk, in parallel for large inputs.
pub(crate) fn par_map(x: &[f32], y: &mut [f32], f: impl Fn(&[f32], &mut [f32]) + Sync) {
    if y.len() >= PAR_MIN {
        x.par_chunks(PAR_CHUNK)
            .zip(y.par_chunks_mut(PAR_CHUNK))
            .for_each(|(x, y)| f(x, y));
    } else {
        f(x, y);
    }
}

/// dx = f(x, y, dy, dx) chunk by chunk, in parallel for large inputs.
fn par_map_backward(
    x: &[f32],
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    f: impl Fn(&[f32], &[f32], &[f32], &mut [f32]) + Sync,
) {
    if dx.len() >= PAR_MIN {
        x.par_chunks(PAR_CHUNK)
            .zip(y.par_chunks(PAR_CHUNK))
            .zip(dy.par_chunks(PAR_CHUNK))
            .zip(dx.par_chunks_mut(PAR_CHUNK))
            .for_each(|(((x, y), dy), dx)| f(x, y, dy, dx));
    } else {
        f(x, y, dy, dx);
    }
}

/// An element-wise map node.
pub struct Unary {
    kind: UnaryKind,
    x: Var,
}

/// Applies an element-wise map.
pub fn unary(tape: &mut Tape, kind: UnaryKind, x: Var) -> Var {
    let vx = tape.value(x);
    let mut out = Tensor::zeros(vx.shape());
    par_map(vx.data(), out.data_mut(), |x, y| kind.forward(x, y));
    let flops = out.len() as u64;
    tape.push(
        Record {
            name: kind.name(),
            parents: &[x],
            flops,
        },
        out,
        || Op::Unary(Unary { kind, x }),
    )
}

impl Backward for Unary {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let x = vals.get(self.x);
        if let Some(gx) = grads.acc(self.x, vals) {
            let kind = self.kind;
            par_map_backward(x.data(), out.data(), g.data(), gx, |x, y, dy, dx| {
                kind.backward(x, y, dy, dx)
            });
        }
    }

    /// The activations' first contribution is g·f'(x), computed in g's buffer.
    fn backward_owned(
        &self,
        vals: &Values,
        out: &Tensor,
        mut g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        if !grads.is_fresh(self.x) {
            return Some(g);
        }
        let (x, y) = (vals.get(self.x).data(), out.data());
        let d = g.data_mut();
        match self.kind {
            UnaryKind::Relu => ew::relu_backward_in_place(x, y, d),
            UnaryKind::LeakyRelu(s) => ew::leaky_relu_backward_in_place(x, s, y, d),
            UnaryKind::Elu(a) => ew::elu_backward_in_place(x, a, y, d),
            UnaryKind::Sigmoid => ew::sigmoid_backward_in_place(x, y, d),
            UnaryKind::Tanh => ew::tanh_backward_in_place(x, y, d),
            UnaryKind::Softplus => ew::softplus_backward_in_place(x, y, d),
            _ => return Some(g),
        }
        grads.add(self.x, g);
        None
    }
}

macro_rules! unary_fns {
    ($($name:ident => $kind:expr, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $name(tape: &mut Tape, x: Var) -> Var {
            unary(tape, $kind, x)
        }
    )*};
}

unary_fns! {
    relu => UnaryKind::Relu, "max(x, 0).";
    sigmoid => UnaryKind::Sigmoid, "1 / (1 + e^(−x)).";
    tanh => UnaryKind::Tanh, "tanh x.";
    softplus => UnaryKind::Softplus, "log(1 + eˣ), stable for large |x|.";
    exp => UnaryKind::Exp, "eˣ.";
    log => UnaryKind::Log, "ln x.";
    log1p => UnaryKind::Log1p, "ln(1 + x).";
    sqrt => UnaryKind::Sqrt, "√x.";
    square => UnaryKind::Square, "x².";
}

/// x for x > 0, slope·x otherwise.
pub fn leaky_relu(tape: &mut Tape, x: Var, slope: f32) -> Var {
    unary(tape, UnaryKind::LeakyRelu(slope), x)
}

/// x for x > 0, α(eˣ − 1) otherwise.
pub fn elu(tape: &mut Tape, x: Var, alpha: f32) -> Var {
    unary(tape, UnaryKind::Elu(alpha), x)
}
