//! Fused affine layer y = x·Wᵀ + b (PyTorch's weight layout, so checkpoints
//! read naturally in Python), optionally followed in the same node by a
//! rectifier (see [`crate::ops::rectifier`]).
//!
//! x: (B, I) (or (B, …) with I elements per row), W: (O, I), b: (O), y: (B, O)
//! (or any (B, …) with O elements per row).
//! Derivatives: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g.

use rayon::prelude::*;
use sparselabel_kernels::elementwise as ew;
use sparselabel_kernels::gemm::{sgemm, sgemm_uninit, Transpose};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::ops::activation::{PAR_CHUNK, PAR_MIN};
use crate::ops::rectifier::{rectified_backward, rectified_backward_owned, Rectifier};
use crate::tensor::Tensor;

/// A fused linear node.
pub struct Linear {
    x: Var,
    w: Var,
    b: Option<Var>,
    act: Option<Rectifier>,
}

/// x·Wᵀ + b for x: (B, I), W: (O, I), optional b: (O); y: (B, O).
///
/// x may have more dimensions, (B, …) with I elements per row, as PyTorch's
/// `Flatten` then `Linear`: a convolution's output goes in without a reshape.
pub fn linear(tape: &mut Tape, x: Var, w: Var, b: Option<Var>) -> Var {
    let shape = [tape.shape(x)[0], tape.shape(w)[0]];
    linear_to(tape, x, w, b, &shape)
}

/// [`linear`] with the output laid out as `shape` = (B, …) with O elements per
/// row (e.g. (B, C, H, W) for a transposed convolution), instead of a reshape
/// that would copy it.
pub fn linear_to(tape: &mut Tape, x: Var, w: Var, b: Option<Var>, shape: &[usize]) -> Var {
    linear_rectified_to(tape, x, w, b, shape, None)
}

/// [`linear_to`] followed by an optional rectifier on the output, in the same
/// node: rect(x·Wᵀ + b).
pub fn linear_rectified_to(
    tape: &mut Tape,
    x: Var,
    w: Var,
    b: Option<Var>,
    shape: &[usize],
    act: Option<Rectifier>,
) -> Var {
    assert!(
        act.is_none_or(|a| (0.0..1.0).contains(&a.slope)),
        "linear: rectifier slope {:?} outside [0, 1)",
        act
    );
    let (vx, vw) = (tape.value(x), tape.value(w));
    let rows = vx.shape().first().copied().unwrap_or(0);
    assert!(
        vx.ndim() >= 2 && vw.ndim() == 2 && rows * vw.shape()[1] == vx.len(),
        "linear: input {:?} does not match weight {:?}",
        vx.shape(),
        vw.shape()
    );
    let (inp, outp) = (vw.shape()[1], vw.shape()[0]);
    assert!(
        shape.first() == Some(&rows) && shape.iter().product::<usize>() == rows * outp,
        "linear: output shape {shape:?} does not hold {rows} rows of {outp}"
    );
    // x·Wᵀ straight into uninitialised memory (no zeroing, no read-back),
    // then the bias and the rectifier in one pass.
    let mut out = product(
        Transpose::No,
        Transpose::Yes,
        rows,
        outp,
        inp,
        (vx.data(), inp),
        (vw.data(), inp),
    );
    let bias = b.map(|b| tape.value(b));
    if let Some(vb) = bias {
        assert_eq!(vb.shape(), &[outp], "linear: bias shape");
    }
    finish_rows(&mut out, outp, bias.map(|vb| vb.data()), act);
    let out = Tensor::new(shape, out);
    let flops = (2 * rows * inp * outp + rows * outp * (1 + act.is_some() as usize)) as u64;
    let parents_buf;
    let parents: &[Var] = match b {
        Some(bv) => {
            parents_buf = [x, w, bv];
            &parents_buf
        }
        None => {
            parents_buf = [x, w, w];
            &parents_buf[..2]
        }
    };
    tape.push(
        Record {
            name: if act.is_some() {
                "linear_rect"
            } else {
                "linear"
            },
            parents,
            flops,
        },
        out,
        || Op::Linear(Linear { x, w, b, act }),
    )
}

impl Backward for Linear {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        rectified_backward(self.act, out, g, |g| self.affine_backward(vals, g, grads));
    }

    fn backward_owned(
        &self,
        vals: &Values,
        out: &Tensor,
        g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        rectified_backward_owned(self.act, out, g, |g| self.affine_backward(vals, g, grads))
    }
}

impl Linear {
    /// The gradients of x·Wᵀ + b given the gradient `g` at its output.
    fn affine_backward(&self, vals: &Values, g: &Tensor, grads: &mut Grads) {
        let (vx, vw) = (vals.get(self.x), vals.get(self.w));
        let (rows, inp, outp) = (vx.shape()[0], vw.shape()[1], vw.shape()[0]);
        if grads.is_fresh(self.x) {
            // ∂x (B, I) = g (B, O) · W (O, I), the first contribution.
            let gx = product(
                Transpose::No,
                Transpose::No,
                rows,
                inp,
                outp,
                (g.data(), outp),
                (vw.data(), inp),
            );
            grads.add(self.x, Tensor::new(vx.shape(), gx));
        } else if let Some(gx) = grads.acc(self.x, vals) {
            // ∂x (B, I) += g (B, O) · W (O, I)
            sgemm(
                Transpose::No,
                Transpose::No,
                rows,
                inp,
                outp,
                1.0,
                g.data(),
                outp,
                vw.data(),
                inp,
                1.0,
                gx,
                inp,
            );
        }
        if grads.is_fresh(self.w) {
            // ∂W (O, I) = gᵀ (O, B) · x (B, I), the first contribution.
            let gw = product(
                Transpose::Yes,
                Transpose::No,
                outp,
                inp,
                rows,
                (g.data(), outp),
                (vx.data(), inp),
            );
            grads.add(self.w, Tensor::new(vw.shape(), gw));
        } else if let Some(gw) = grads.acc(self.w, vals) {
            // ∂W (O, I) += gᵀ (O, B) · x (B, I)
            sgemm(
                Transpose::Yes,
                Transpose::No,
                outp,
                inp,
                rows,
                1.0,
                g.data(),
                outp,
                vx.data(),
                inp,
                1.0,
                gw,
                inp,
            );
        }
        if let Some(b) = self.b {
            if let Some(gb) = grads.acc(b, vals) {
                sparselabel_kernels::reduce::col_sum_accumulate(g.data(), outp, gb);
            }
        }
    }
}

/// `y[i, :] ← rect(y[i, :] + b)` for every row of y (each part optional), row by
/// row so each row is read once, in parallel blocks of rows for large y
/// (element-wise, so the split cannot change the result).
fn finish_rows(y: &mut [f32], cols: usize, b: Option<&[f32]>, act: Option<Rectifier>) {
    if b.is_none() && act.is_none() {
        return;
    }
    let finish = |blk: &mut [f32]| {
        for row in blk.chunks_exact_mut(cols) {
            if let Some(b) = b {
                ew::add_assign(row, b);
            }
            if let Some(act) = act {
                act.forward(row);
            }
        }
    };
    if y.len() >= PAR_MIN {
        let rows = PAR_CHUNK.div_ceil(cols);
        y.par_chunks_mut(rows * cols).for_each(finish);
    } else {
        finish(y);
    }
}

/// `op(A)·op(B)` (m × n) in a pooled buffer that is written once and never
/// zeroed; `a` and `b` are (data, leading dimension).
fn product(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    (a, lda): (&[f32], usize),
    (b, ldb): (&[f32], usize),
) -> Vec<f32> {
    let mut out = crate::tensor::pool::with_capacity(m * n);
    sgemm_uninit(
        ta,
        tb,
        m,
        n,
        k,
        1.0,
        a,
        lda,
        b,
        ldb,
        &mut out.spare_capacity_mut()[..m * n],
    );
    // SAFETY: sgemm_uninit initialised all m·n elements.
    unsafe { out.set_len(m * n) };
    out
}
