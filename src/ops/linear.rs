//! Fused affine layer y = x·Wᵀ + b (PyTorch's weight layout, so checkpoints
//! read naturally in Python).
//!
//! x: (B, I) (or (B, …) with I elements per row), W: (O, I), b: (O), y: (B, O)
//! (or any (B, …) with O elements per row).
//! Derivatives: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g.

use rayon::prelude::*;
use sparselabel_kernels::gemm::{sgemm, sgemm_uninit, Transpose};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A fused linear node.
pub struct Linear {
    x: Var,
    w: Var,
    b: Option<Var>,
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
    // then the bias added in one pass.
    let mut out = product(
        Transpose::No,
        Transpose::Yes,
        rows,
        outp,
        inp,
        (vx.data(), inp),
        (vw.data(), inp),
    );
    if let Some(b) = b {
        let vb = tape.value(b);
        assert_eq!(vb.shape(), &[outp], "linear: bias shape");
        add_rows(&mut out, vb.data());
    }
    let out = Tensor::new(shape, out);
    let flops = (2 * rows * inp * outp + rows * outp) as u64;
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
            name: "linear",
            parents,
            flops,
        },
        out,
        || Op::Linear(Linear { x, w, b }),
    )
}

impl Backward for Linear {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
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

/// `y[i, :] += b` for every row of y, in parallel blocks of rows for large y
/// (element-wise, so the split cannot change the result).
fn add_rows(y: &mut [f32], b: &[f32]) {
    let add = |blk: &mut [f32]| {
        for row in blk.chunks_exact_mut(b.len()) {
            sparselabel_kernels::elementwise::add_assign(row, b);
        }
    };
    if y.len() >= crate::ops::activation::PAR_MIN {
        let rows = crate::ops::activation::PAR_CHUNK.div_ceil(b.len());
        y.par_chunks_mut(rows * b.len()).for_each(add);
    } else {
        add(y);
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
