//! Element-wise arithmetic with broadcasting (add, sub, mul, div) and the
//! scalar affine map y = s·x + c (scalar add, scalar multiply, negation).
//!
//! Derivatives: ∂(a+b) = (g, g); ∂(a−b) = (g, −g); ∂(a·b) = (g·b, g·a);
//! ∂(a/b) = (g/b, −g·a/b²). Gradients of broadcast operands are summed over
//! the broadcast dimensions, in row-major order of the output.

use super::broadcast::{aligned_strides, for_each};
use crate::autograd::{Grads, Op, Record, Tape, Values, Var};
use crate::tensor::{broadcast_shapes, Tensor};

/// Which binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// a + b
    Add,
    /// a − b
    Sub,
    /// a · b
    Mul,
    /// a / b
    Div,
}

impl BinaryKind {
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryKind::Add => a + b,
            BinaryKind::Sub => a - b,
            BinaryKind::Mul => a * b,
            BinaryKind::Div => a / b,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BinaryKind::Add => "add",
            BinaryKind::Sub => "sub",
            BinaryKind::Mul => "mul",
            BinaryKind::Div => "div",
        }
    }
}

/// A broadcasting binary op node.
pub struct Binary {
    kind: BinaryKind,
    a: Var,
    b: Var,
}

fn binary(tape: &mut Tape, kind: BinaryKind, a: Var, b: Var) -> Var {
    let (va, vb) = (tape.value(a), tape.value(b));
    let out_shape = broadcast_shapes(va.shape(), vb.shape()).unwrap_or_else(|| {
        panic!(
            "{}: shapes {:?} and {:?} do not broadcast",
            kind.name(),
            va.shape(),
            vb.shape()
        )
    });
    let mut out = Tensor::zeros(&out_shape);
    if va.shape() == vb.shape() {
        for ((o, &x), &y) in out.data_mut().iter_mut().zip(va.data()).zip(vb.data()) {
            *o = kind.apply(x, y);
        }
    } else {
        let (sa, sb) = (
            aligned_strides(va.shape(), &out_shape),
            aligned_strides(vb.shape(), &out_shape),
        );
        let (da, db, od) = (va.data(), vb.data(), out.data_mut());
        for_each(&out_shape, &sa, &sb, |o, ia, ib| {
            od[o] = kind.apply(da[ia], db[ib])
        });
    }
    let flops = out.len() as u64;
    tape.push(
        Record {
            name: kind.name(),
            parents: &[a, b],
            flops,
        },
        out,
        || Op::Binary(Binary { kind, a, b }),
    )
}

/// a + b (broadcasting).
pub fn add(tape: &mut Tape, a: Var, b: Var) -> Var {
    binary(tape, BinaryKind::Add, a, b)
}

/// a − b (broadcasting).
pub fn sub(tape: &mut Tape, a: Var, b: Var) -> Var {
    binary(tape, BinaryKind::Sub, a, b)
}

/// a · b element-wise (broadcasting).
pub fn mul(tape: &mut Tape, a: Var, b: Var) -> Var {
    binary(tape, BinaryKind::Mul, a, b)
}

/// a / b element-wise (broadcasting).
pub fn div(tape: &mut Tape, a: Var, b: Var) -> Var {
    binary(tape, BinaryKind::Div, a, b)
}

impl crate::autograd::Backward for Binary {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (va, vb) = (vals.get(self.a), vals.get(self.b));
        let kind = self.kind;
        // d(out)/d(a) and d(out)/d(b) at one element.
        let da_fn = |_x: f32, y: f32, _o: f32| match kind {
            BinaryKind::Add | BinaryKind::Sub => 1.0,
            BinaryKind::Mul => y,
            BinaryKind::Div => 1.0 / y,
        };
        let db_fn = |x: f32, y: f32, o: f32| match kind {
            BinaryKind::Add => 1.0,
            BinaryKind::Sub => -1.0,
            BinaryKind::Mul => x,
            BinaryKind::Div => -o / y,
        };
        let (gd, od) = (g.data(), out.data());
        if va.shape() == vb.shape() && matches!(kind, BinaryKind::Add | BinaryKind::Sub) {
            // The common case of residual sums and biases: no per-element closure.
            if let Some(ga) = grads.acc(self.a, vals) {
                sparselabel_kernels::elementwise::add_assign(ga, gd);
            }
            if let Some(gb) = grads.acc(self.b, vals) {
                let sign = if kind == BinaryKind::Add { 1.0 } else { -1.0 };
                sparselabel_kernels::elementwise::axpy(sign, gd, gb);
            }
            return;
        }
        if va.shape() == vb.shape() {
            let (xa, xb) = (va.data(), vb.data());
            if let Some(ga) = grads.acc(self.a, vals) {
                for i in 0..ga.len() {
                    ga[i] += gd[i] * da_fn(xa[i], xb[i], od[i]);
                }
            }
            if let Some(gb) = grads.acc(self.b, vals) {
                for i in 0..gb.len() {
                    gb[i] += gd[i] * db_fn(xa[i], xb[i], od[i]);
                }
            }
            return;
        }
        let sa = aligned_strides(va.shape(), out.shape());
        let sb = aligned_strides(vb.shape(), out.shape());
        let (xa, xb) = (va.data(), vb.data());
        if let Some(ga) = grads.acc(self.a, vals) {
            for_each(out.shape(), &sa, &sb, |o, ia, ib| {
                ga[ia] += gd[o] * da_fn(xa[ia], xb[ib], od[o])
            });
        }
        if let Some(gb) = grads.acc(self.b, vals) {
            for_each(out.shape(), &sa, &sb, |o, ia, ib| {
                gb[ib] += gd[o] * db_fn(xa[ia], xb[ib], od[o])
            });
        }
    }
}

/// y = scale·x + shift, element-wise with scalar constants.
pub struct Affine {
    x: Var,
    scale: f32,
}

/// y = scale·x + shift.
pub fn affine(tape: &mut Tape, x: Var, scale: f32, shift: f32) -> Var {
    let vx = tape.value(x);
    let data: Vec<f32> = vx.data().iter().map(|&v| scale * v + shift).collect();
    let out = Tensor::new(vx.shape(), data);
    let flops = 2 * out.len() as u64;
    tape.push(
        Record {
            name: "affine",
            parents: &[x],
            flops,
        },
        out,
        || Op::Affine(Affine { x, scale }),
    )
}

/// x + c for a scalar constant c.
pub fn add_scalar(tape: &mut Tape, x: Var, c: f32) -> Var {
    affine(tape, x, 1.0, c)
}

/// c · x for a scalar constant c.
pub fn mul_scalar(tape: &mut Tape, x: Var, c: f32) -> Var {
    affine(tape, x, c, 0.0)
}

/// −x.
pub fn neg(tape: &mut Tape, x: Var) -> Var {
    affine(tape, x, -1.0, 0.0)
}

impl crate::autograd::Backward for Affine {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gx) = grads.acc(self.x, vals) {
            sparselabel_kernels::elementwise::axpy(self.scale, g.data(), gx);
        }
    }
}
