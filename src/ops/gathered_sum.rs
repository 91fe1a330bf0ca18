//! out[r] = a[src[r]] + table[ys[r]]: a row of `a` plus a row of `table`, each picked
//! by index. This is the input of a conditioning layer, x·W_x once per example plus
//! W_y once per class, for every enumerated (example, class) row of M2-style models.
//! Fused, so neither operand is tiled or gathered into a batch-sized copy before the
//! sum (it replaces tile, concat, gather_rows and add, forward and backward).
//!
//! Derivatives: ∂a[i] = Σ_{r: src[r] = i} g[r] and ∂table[k] = Σ_{r: ys[r] = k} g[r],
//! each summed in increasing r from zero, as the unfused ops summed them. An optional
//! rectifier applies to the sum in the same node (as in `linear`).

use rayon::prelude::*;
use sparselabel_kernels::elementwise as ew;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::ops::activation::PAR_MIN;
use crate::ops::rectifier::{rectified_backward, rectified_backward_owned, Rectifier};
use crate::tensor::{pool, Tensor};

/// A fused gathered-sum node.
pub struct GatheredSum {
    a: Var,
    src: Vec<usize>,
    table: Var,
    ys: Vec<usize>,
    act: Option<Rectifier>,
}

/// `out[r] = a[src[r]] + table[ys[r]]` for a: (N, D), table: (K, D) and
/// `src`, `ys` of equal length R (entries < N and < K); out: (R, D).
///
/// # Panics
/// If the shapes disagree or an index is out of range.
pub fn gathered_sum(tape: &mut Tape, a: Var, src: &[usize], table: Var, ys: &[usize]) -> Var {
    gathered_sum_rectified(tape, a, src, table, ys, None)
}

/// [`gathered_sum`] followed by an optional rectifier in the same node:
/// rect(a[src[r]] + table[ys[r]]).
pub fn gathered_sum_rectified(
    tape: &mut Tape,
    a: Var,
    src: &[usize],
    table: Var,
    ys: &[usize],
    act: Option<Rectifier>,
) -> Var {
    let (va, vt) = (tape.value(a), tape.value(table));
    assert!(
        va.ndim() == 2 && vt.ndim() == 2 && va.shape()[1] == vt.shape()[1],
        "gathered_sum: a {:?} and table {:?} need equal row lengths",
        va.shape(),
        vt.shape()
    );
    assert_eq!(
        src.len(),
        ys.len(),
        "gathered_sum: src and ys differ in length"
    );
    let (n, k, d) = (va.shape()[0], vt.shape()[0], va.shape()[1]);
    assert!(
        src.iter().all(|&i| i < n) && ys.iter().all(|&y| y < k),
        "gathered_sum: an index is out of range ({n} rows of a, {k} of the table)"
    );
    let (ad, td) = (va.data(), vt.data());
    let mut out = pool::for_overwrite(src.len() * d);
    let row = |(r, o): (usize, &mut [f32])| {
        let (x, t) = (&ad[src[r] * d..][..d], &td[ys[r] * d..][..d]);
        for ((o, &x), &t) in o.iter_mut().zip(x).zip(t) {
            *o = x + t;
        }
        if let Some(act) = act {
            act.forward(o);
        }
    };
    if d > 0 && out.len() >= PAR_MIN {
        out.par_chunks_mut(d).enumerate().for_each(row);
    } else if d > 0 {
        out.chunks_mut(d).enumerate().for_each(row);
    }
    let out = Tensor::new(&[src.len(), d], out);
    let (src, ys) = (src.to_vec(), ys.to_vec());
    tape.push(
        Record {
            name: if act.is_some() {
                "gathered_sum_rect"
            } else {
                "gathered_sum"
            },
            parents: &[a, table],
            flops: (src.len() * d) as u64,
        },
        out,
        || {
            Op::GatheredSum(GatheredSum {
                a,
                src,
                table,
                ys,
                act,
            })
        },
    )
}

/// `grad[i] += Σ_{r: index[r] = i} g[r]` in increasing r, rows of `grad` in parallel
/// when large (each row's sum has one fixed order).
fn scatter_add(grad: &mut [f32], index: &[usize], g: &[f32], d: usize) {
    if d == 0 {
        return;
    }
    let rows = grad.len() / d;
    // Counting sort of r by index[r], stable: row i's sources are
    // order[start[i]..start[i + 1]], in increasing r.
    let mut start = vec![0usize; rows + 1];
    for &i in index {
        start[i + 1] += 1;
    }
    for i in 0..rows {
        start[i + 1] += start[i];
    }
    let mut next = start[..rows].to_vec();
    let mut order = vec![0usize; index.len()];
    for (r, &i) in index.iter().enumerate() {
        order[next[i]] = r;
        next[i] += 1;
    }
    let row = |(i, gi): (usize, &mut [f32])| {
        for &r in &order[start[i]..start[i + 1]] {
            ew::add_assign(gi, &g[r * d..][..d]);
        }
    };
    if g.len() >= PAR_MIN {
        grad.par_chunks_mut(d).enumerate().for_each(row);
    } else {
        grad.chunks_mut(d).enumerate().for_each(row);
    }
}

impl GatheredSum {
    /// The gradients of the (unrectified) sum given `g` at its output.
    fn sum_backward(&self, vals: &Values, g: &Tensor, grads: &mut Grads) {
        let d = g.shape()[1];
        if let Some(ga) = grads.acc(self.a, vals) {
            scatter_add(ga, &self.src, g.data(), d);
        }
        if let Some(gt) = grads.acc(self.table, vals) {
            scatter_add(gt, &self.ys, g.data(), d);
        }
    }
}

impl Backward for GatheredSum {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        rectified_backward(self.act, out, g, |g| self.sum_backward(vals, g, grads));
    }

    fn backward_owned(
        &self,
        vals: &Values,
        out: &Tensor,
        g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        rectified_backward_owned(self.act, out, g, |g| self.sum_backward(vals, g, grads))
    }
}
