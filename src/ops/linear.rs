//! Fused affine layer y = x·Wᵀ + b (PyTorch's weight layout, so checkpoints
//! read naturally in Python).
//!
//! x: (B, I), W: (O, I), b: (O), y: (B, O).
//! Derivatives: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g.

use sparselabel_kernels::gemm::{sgemm, Transpose};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A fused linear node.
pub struct Linear {
    x: Var,
    w: Var,
    b: Option<Var>,
}

/// x·Wᵀ + b for x: (B, I), W: (O, I), optional b: (O).
pub fn linear(tape: &mut Tape, x: Var, w: Var, b: Option<Var>) -> Var {
    let (vx, vw) = (tape.value(x), tape.value(w));
    assert!(
        vx.ndim() == 2 && vw.ndim() == 2 && vx.shape()[1] == vw.shape()[1],
        "linear: input {:?} does not match weight {:?}",
        vx.shape(),
        vw.shape()
    );
    let (rows, inp, outp) = (vx.shape()[0], vx.shape()[1], vw.shape()[0]);
    let mut out = Tensor::zeros(&[rows, outp]);
    let beta = if let Some(b) = b {
        let vb = tape.value(b);
        assert_eq!(vb.shape(), &[outp], "linear: bias shape");
        for row in out.data_mut().chunks_exact_mut(outp) {
            row.copy_from_slice(vb.data());
        }
        1.0
    } else {
        0.0
    };
    let (vx, vw) = (tape.value(x), tape.value(w));
    sgemm(
        Transpose::No,
        Transpose::Yes,
        rows,
        outp,
        inp,
        1.0,
        vx.data(),
        inp,
        vw.data(),
        inp,
        beta,
        out.data_mut(),
        outp,
    );
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
        let (rows, inp, outp) = (vx.shape()[0], vx.shape()[1], vw.shape()[0]);
        if let Some(gx) = grads.acc(self.x, vals) {
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
        if let Some(gw) = grads.acc(self.w, vals) {
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
