//! Matrix product of two 2-D tensors.
//!
//! y = a·b with a: (M, K), b: (K, N), y: (M, N).
//! Derivatives: ∂a = g·bᵀ, ∂b = aᵀ·g.

use sparselabel_kernels::gemm::{sgemm, Transpose};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A matrix-product node.
pub struct Matmul {
    a: Var,
    b: Var,
}

/// a·b for a: (M, K), b: (K, N).
pub fn matmul(tape: &mut Tape, a: Var, b: Var) -> Var {
    let (va, vb) = (tape.value(a), tape.value(b));
    assert!(
        va.ndim() == 2 && vb.ndim() == 2 && va.shape()[1] == vb.shape()[0],
        "matmul: shapes {:?} and {:?} do not chain",
        va.shape(),
        vb.shape()
    );
    let (m, k, n) = (va.shape()[0], va.shape()[1], vb.shape()[1]);
    let mut out = Tensor::zeros(&[m, n]);
    sgemm(
        Transpose::No,
        Transpose::No,
        m,
        n,
        k,
        1.0,
        va.data(),
        k,
        vb.data(),
        n,
        0.0,
        out.data_mut(),
        n,
    );
    let flops = 2 * (m * n * k) as u64;
    tape.push(
        Record {
            name: "matmul",
            parents: &[a, b],
            flops,
        },
        out,
        || Op::Matmul(Matmul { a, b }),
    )
}

impl Backward for Matmul {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (va, vb) = (vals.get(self.a), vals.get(self.b));
        let (m, k, n) = (va.shape()[0], va.shape()[1], vb.shape()[1]);
        if let Some(ga) = grads.acc(self.a, vals) {
            // ∂a (M, K) += g (M, N) · bᵀ (N, K)
            sgemm(
                Transpose::No,
                Transpose::Yes,
                m,
                k,
                n,
                1.0,
                g.data(),
                n,
                vb.data(),
                n,
                1.0,
                ga,
                k,
            );
        }
        if let Some(gb) = grads.acc(self.b, vals) {
            // ∂b (K, N) += aᵀ (K, M) · g (M, N)
            sgemm(
                Transpose::Yes,
                Transpose::No,
                k,
                n,
                m,
                1.0,
                va.data(),
                k,
                g.data(),
                n,
                1.0,
                gb,
                n,
            );
        }
    }
}
