//! Softmax and log-softmax over the last axis, computed stably from the row
//! maximum.
//!
//! softmax: y_j = e^{x_j} / Σ_k e^{x_k};  ∂x_j = y_j (g_j − Σ_k g_k y_k).
//! log-softmax: y_j = x_j − logsumexp(x);  ∂x_j = g_j − e^{y_j} Σ_k g_k.

use sparselabel_kernels::reduce as kr;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A softmax node.
pub struct Softmax {
    x: Var,
}

/// A log-softmax node.
pub struct LogSoftmax {
    x: Var,
}

/// Softmax over the last axis.
pub fn softmax(tape: &mut Tape, x: Var) -> Var {
    let vx = tape.value(x);
    let (_, cols) = vx.rows_cols();
    let mut out = Tensor::zeros(vx.shape());
    kr::row_softmax(vx.data(), cols, out.data_mut());
    let flops = 4 * vx.len() as u64;
    tape.push(
        Record {
            name: "softmax",
            parents: &[x],
            flops,
        },
        out,
        || Op::Softmax(Softmax { x }),
    )
}

/// Log-softmax over the last axis.
pub fn log_softmax(tape: &mut Tape, x: Var) -> Var {
    let vx = tape.value(x);
    let (_, cols) = vx.rows_cols();
    let mut out = Tensor::zeros(vx.shape());
    kr::row_log_softmax(vx.data(), cols, out.data_mut());
    let flops = 4 * vx.len() as u64;
    tape.push(
        Record {
            name: "log_softmax",
            parents: &[x],
            flops,
        },
        out,
        || Op::LogSoftmax(LogSoftmax { x }),
    )
}

impl Backward for Softmax {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = out.rows_cols();
        if let Some(gx) = grads.acc(self.x, vals) {
            kr::row_softmax_backward(out.data(), g.data(), cols, gx);
        }
    }
}

impl Backward for LogSoftmax {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = out.rows_cols();
        if let Some(gx) = grads.acc(self.x, vals) {
            kr::row_log_softmax_backward(out.data(), g.data(), cols, gx);
        }
    }
}
