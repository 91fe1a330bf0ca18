//! Sums and means over one axis or over everything, and log-sum-exp over the
//! last axis. Summation order is fixed (row-major), so results do not depend
//! on threads.
//!
//! sum over axis k: y[..., ...] = Σ_i x[..., i, ...];  ∂x = g broadcast along k.
//! logsumexp over the last axis: y = log Σ_j e^{x_j};  ∂x_j = g·e^{x_j − y}.

use sparselabel_kernels::reduce as kr;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A sum node: over one axis (`Some(axis)`) or all elements (`None`), times
/// a constant scale (1 for sum, 1/n for mean).
pub struct Sum {
    x: Var,
    axis: Option<usize>,
    scale: f32,
}

/// (outer, axis length, inner) decomposition of a shape around `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

fn reduce(tape: &mut Tape, x: Var, axis: Option<usize>, scale: f32, name: &'static str) -> Var {
    let vx = tape.value(x);
    let out = match axis {
        None => Tensor::scalar(scale * kr::sum(vx.data())),
        Some(axis) => {
            assert!(
                axis < vx.ndim(),
                "{name}: axis {axis} out of range for shape {:?}",
                vx.shape()
            );
            let (outer, len, inner) = split_at_axis(vx.shape(), axis);
            let mut shape = vx.shape().to_vec();
            shape.remove(axis);
            let mut out = Tensor::zeros(&shape);
            let (xd, od) = (vx.data(), out.data_mut());
            if inner == 1 {
                kr::row_sum(xd, len, od);
                od.iter_mut().for_each(|v| *v *= scale);
            } else {
                for o in 0..outer {
                    let dst = &mut od[o * inner..(o + 1) * inner];
                    kr::col_sum_accumulate(&xd[o * len * inner..(o + 1) * len * inner], inner, dst);
                    dst.iter_mut().for_each(|v| *v *= scale);
                }
            }
            out
        }
    };
    let flops = vx.len() as u64;
    tape.push(
        Record {
            name,
            parents: &[x],
            flops,
        },
        out,
        || Op::Sum(Sum { x, axis, scale }),
    )
}

/// Σ over `axis` (the axis is removed).
pub fn sum(tape: &mut Tape, x: Var, axis: usize) -> Var {
    reduce(tape, x, Some(axis), 1.0, "sum")
}

/// Mean over `axis` (the axis is removed).
pub fn mean(tape: &mut Tape, x: Var, axis: usize) -> Var {
    let n = tape.shape(x)[axis].max(1);
    reduce(tape, x, Some(axis), 1.0 / n as f32, "mean")
}

/// Σ of all elements, a scalar.
pub fn sum_all(tape: &mut Tape, x: Var) -> Var {
    reduce(tape, x, None, 1.0, "sum_all")
}

/// Mean of all elements, a scalar.
pub fn mean_all(tape: &mut Tape, x: Var) -> Var {
    let n = tape.value(x).len().max(1);
    reduce(tape, x, None, 1.0 / n as f32, "mean_all")
}

impl Backward for Sum {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let shape = vals.get(self.x).shape();
        let Some(gx) = grads.acc(self.x, vals) else {
            return;
        };
        let gd = g.data();
        match self.axis {
            None => {
                let v = self.scale * gd[0];
                gx.iter_mut().for_each(|e| *e += v);
            }
            Some(axis) => {
                let (outer, len, inner) = split_at_axis(shape, axis);
                for o in 0..outer {
                    for i in 0..len {
                        let dst = &mut gx[(o * len + i) * inner..(o * len + i + 1) * inner];
                        let src = &gd[o * inner..(o + 1) * inner];
                        for (d, s) in dst.iter_mut().zip(src) {
                            *d += self.scale * s;
                        }
                    }
                }
            }
        }
    }
}

/// Log-sum-exp over the last axis: x (…, D) → y (…).
pub struct LogSumExp {
    x: Var,
}

/// log Σ_j exp(x[…, j]) over the last axis, computed stably.
pub fn logsumexp(tape: &mut Tape, x: Var) -> Var {
    let vx = tape.value(x);
    let (rows, cols) = vx.rows_cols();
    let shape = &vx.shape()[..vx.ndim() - 1];
    let mut out = Tensor::zeros(shape);
    debug_assert_eq!(out.len(), rows);
    kr::row_logsumexp(vx.data(), cols, out.data_mut());
    let flops = 3 * vx.len() as u64;
    tape.push(
        Record {
            name: "logsumexp",
            parents: &[x],
            flops,
        },
        out,
        || Op::LogSumExp(LogSumExp { x }),
    )
}

impl Backward for LogSumExp {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let vx = vals.get(self.x);
        let (_, cols) = vx.rows_cols();
        let Some(gx) = grads.acc(self.x, vals) else {
            return;
        };
        for (r, (xrow, grow)) in vx
            .data()
            .chunks_exact(cols)
            .zip(gx.chunks_exact_mut(cols))
            .enumerate()
        {
            let (y, gr) = (out.data()[r], g.data()[r]);
            for (gv, &xv) in grow.iter_mut().zip(xrow) {
                *gv += gr * (xv - y).exp();
            }
        }
    }
}
