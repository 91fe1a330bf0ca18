//! Row L2-normalisation, multiplicative masks (dropout) and clamping.
//!
//! l2_normalize_rows: y = x / n, n = √(Σ_j x_j² + ε);  ∂x = (g − y·(g·y)) / n.
//! mask: y = x ⊙ m for a constant m;  ∂x = g ⊙ m.
//! clamp: y = min(max(x, lo), hi);  ∂x = g where lo ≤ x ≤ hi, else 0.

use rand::RngExt;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// An L2-normalisation node (rows = all axes but the last).
pub struct L2Normalize {
    x: Var,
    norms: Vec<f32>,
}

/// Scales each row (last axis) to unit Euclidean norm; `eps` keeps zero
/// rows finite.
pub fn l2_normalize_rows(tape: &mut Tape, x: Var, eps: f32) -> Var {
    let vx = tape.value(x);
    let (_, cols) = vx.rows_cols();
    let mut out = Tensor::zeros(vx.shape());
    let mut norms = Vec::with_capacity(vx.len() / cols.max(1));
    for (xr, yr) in vx
        .data()
        .chunks_exact(cols)
        .zip(out.data_mut().chunks_exact_mut(cols))
    {
        let n = (sparselabel_kernels::reduce::sum_sq(xr) + eps).sqrt();
        norms.push(n);
        for (y, &v) in yr.iter_mut().zip(xr) {
            *y = v / n;
        }
    }
    let flops = 3 * vx.len() as u64;
    tape.push(
        Record {
            name: "l2_normalize",
            parents: &[x],
            flops,
        },
        out,
        || Op::L2Normalize(L2Normalize { x, norms }),
    )
}

impl Backward for L2Normalize {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = out.rows_cols();
        let Some(gx) = grads.acc(self.x, vals) else {
            return;
        };
        for (r, ((yr, gr), dr)) in out
            .data()
            .chunks_exact(cols)
            .zip(g.data().chunks_exact(cols))
            .zip(gx.chunks_exact_mut(cols))
            .enumerate()
        {
            let dot = sparselabel_kernels::reduce::dot(gr, yr);
            let n = self.norms[r];
            for ((d, &gv), &yv) in dr.iter_mut().zip(gr).zip(yr) {
                *d += (gv - yv * dot) / n;
            }
        }
    }
}

/// A constant multiplicative mask node.
pub struct Mask {
    x: Var,
    mask: Tensor,
}

/// x ⊙ m for a constant mask of the same shape.
pub fn mask(tape: &mut Tape, x: Var, m: Tensor) -> Var {
    let vx = tape.value(x);
    assert_eq!(vx.shape(), m.shape(), "mask shape");
    let data = vx.data().iter().zip(m.data()).map(|(a, b)| a * b).collect();
    let out = Tensor::new(vx.shape(), data);
    let flops = out.len() as u64;
    tape.push(
        Record {
            name: "mask",
            parents: &[x],
            flops,
        },
        out,
        || Op::Mask(Mask { x, mask: m }),
    )
}

impl Backward for Mask {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gx) = grads.acc(self.x, vals) {
            for ((d, &gv), &m) in gx.iter_mut().zip(g.data()).zip(self.mask.data()) {
                *d += gv * m;
            }
        }
    }
}

/// Inverted dropout: in training mode each element is zeroed with
/// probability `p` and the survivors scaled by 1/(1 − p); identity otherwise.
pub fn dropout(tape: &mut Tape, x: Var, p: f32, rng: &mut StreamRng) -> Var {
    assert!(
        (0.0..1.0).contains(&p),
        "dropout probability {p} not in [0, 1)"
    );
    if !tape.is_training() || p == 0.0 {
        return x;
    }
    let n = tape.value(x).len();
    let keep = 1.0 / (1.0 - p);
    let m: Vec<f32> = (0..n)
        .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
        .collect();
    let shape = tape.shape(x).to_vec();
    mask(tape, x, Tensor::new(&shape, m))
}

/// A clamp node.
pub struct Clamp {
    x: Var,
    lo: f32,
    hi: f32,
}

/// Clamps every value into [lo, hi].
pub fn clamp(tape: &mut Tape, x: Var, lo: f32, hi: f32) -> Var {
    let vx = tape.value(x);
    let data = vx.data().iter().map(|v| v.clamp(lo, hi)).collect();
    let out = Tensor::new(vx.shape(), data);
    let flops = out.len() as u64;
    tape.push(
        Record {
            name: "clamp",
            parents: &[x],
            flops,
        },
        out,
        || Op::Clamp(Clamp { x, lo, hi }),
    )
}

impl Backward for Clamp {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let vx = vals.get(self.x);
        if let Some(gx) = grads.acc(self.x, vals) {
            for ((d, &gv), &x) in gx.iter_mut().zip(g.data()).zip(vx.data()) {
                if x >= self.lo && x <= self.hi {
                    *d += gv;
                }
            }
        }
    }
}
