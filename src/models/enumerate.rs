//! The class-enumeration plumbing shared by the M2 family (MLP and conv M2,
//! and the models built like it): one pass over B_l labelled and B_u
//! unlabelled inputs, one bound over B_l + K·B_u rows, and the objective
//!
//! J = mean_l L(x, y) + α·mean_l −log q(y|x) + mean_u [Σ_y q(y|x)·L(x, y) − H(q(y|x))].
//!
//! Row order of the bound: each labelled example with its label, then every
//! unlabelled example with each class (row B_l + t·B_u + i pairs unlabelled
//! example i with class t), so the sampling order is labelled-then-unlabelled.

use super::{Batch, Loss};
use crate::autograd::{Tape, Var};
use crate::ops;
use crate::tensor::{pool, Tensor};

/// Stacks row blocks of width `d`, each `(rows, copies)`: the block's rows
/// repeated `copies` times, in order (labelled once, unlabelled K times).
pub fn stack_rows(blocks: &[(&Tensor, usize)], d: usize) -> Tensor {
    let rows: usize = blocks.iter().map(|(t, n)| t.shape()[0] * n).sum();
    let mut data = pool::with_capacity(rows * d);
    for (t, n) in blocks {
        for _ in 0..*n {
            data.extend_from_slice(t.data());
        }
    }
    Tensor::new(&[rows, d], data)
}

/// Rows `start..start + len` of `v`; `v` itself when that is all of it.
pub fn rows(tape: &mut Tape, v: Var, start: usize, len: usize) -> Var {
    if start == 0 && len == tape.shape(v)[0] {
        v
    } else {
        ops::slice(tape, v, 0, start, len)
    }
}

/// Which of the B_l + B_u per-input rows each bound row comes from, in the
/// layout of [`bound_rows`] (labelled rows, then the unlabelled ones K times):
/// for [`crate::ops::gathered_sum`], which reads them without tiling.
pub fn bound_row_sources(bl: usize, bu: usize, k: usize) -> Vec<usize> {
    let reps = if bu == 0 { 0 } else { k };
    (0..bl).chain((0..reps).flat_map(|_| bl..bl + bu)).collect()
}

/// From per-input rows `per_input` (B_l + B_u, ·), the bound's rows: the
/// labelled ones, then the unlabelled ones tiled K times.
pub fn bound_rows(tape: &mut Tape, per_input: Var, bl: usize, bu: usize, k: usize) -> Var {
    if bu == 0 {
        return per_input;
    }
    let unl = rows(tape, per_input, bl, bu);
    let tiled = ops::tile(tape, unl, k);
    if bl == 0 {
        tiled
    } else {
        let lab = rows(tape, per_input, 0, bl);
        ops::concat(tape, &[lab, tiled], 0)
    }
}

/// The inputs of the bound's rows as a constant (B_l + K·B_u, D), and the
/// class of each row.
pub fn bound_inputs(tape: &mut Tape, batch: &Batch, k: usize) -> (Var, Vec<usize>) {
    let bu = batch.unlabelled.shape()[0];
    let d = if bu > 0 {
        &batch.unlabelled
    } else {
        &batch.labelled
    }
    .shape()[1];
    let x = tape.constant(stack_rows(
        &[(&batch.labelled, 1), (&batch.unlabelled, k)],
        d,
    ));
    let mut ys = batch.labels.clone();
    ys.extend((0..k).flat_map(|t| std::iter::repeat_n(t, bu)));
    (x, ys)
}

/// All B_l + B_u inputs of a batch as one constant (labelled rows first),
/// with B_l and B_u.
pub fn inputs(tape: &mut Tape, batch: &Batch) -> (Var, usize, usize) {
    let (bl, bu) = (batch.labels.len(), batch.unlabelled.shape()[0]);
    assert!(bl + bu > 0, "an empty batch");
    let d = if bu > 0 {
        &batch.unlabelled
    } else {
        &batch.labelled
    }
    .shape()[1];
    let x = tape.constant(stack_rows(
        &[(&batch.labelled, 1), (&batch.unlabelled, 1)],
        d,
    ));
    (x, bl, bu)
}

/// The bound's rows (inputs and classes): `x` itself when nothing is
/// enumerated, else [`bound_inputs`].
pub fn rows_and_classes(tape: &mut Tape, batch: &Batch, x: Var, k: usize) -> (Var, Vec<usize>) {
    if batch.unlabelled.shape()[0] == 0 {
        (x, batch.labels.clone())
    } else {
        bound_inputs(tape, batch, k)
    }
}

/// The class prior's contribution −log p(y) to each bound row.
#[derive(Clone, Copy, Debug)]
pub enum NegLogPrior {
    /// p(y) = 1/K over K classes: the same log K on every row.
    Uniform(usize),
    /// −log p(y_r) of each row r, a (rows) vector (see [`neg_log_prior_rows`]).
    PerRow(Var),
}

/// −log p(y_r) for the rows' classes `ys`, gathered from a (K, 1) table of
/// −log p(y) (a buffer: no gradient flows to it).
pub fn neg_log_prior_rows(tape: &mut Tape, table: Var, ys: &[usize]) -> Var {
    let rows = ops::gather_rows(tape, table, ys);
    ops::reshape(tape, rows, &[ys.len()])
}

/// Per-row bound L(x, y) = −log p(x|y,z) + w·KL(q(z|x,y) ‖ N(0, I)) − log p(y)
/// for a uniform p(y) over `classes`, from the reconstruction term and q's
/// mean and log-variance (w: the KL warm-up weight).
pub fn row_bound(
    tape: &mut Tape,
    reconstruction: Var,
    mu: Var,
    logvar: Var,
    kl_weight: f32,
    classes: usize,
) -> Var {
    let kl = ops::kl_std_normal(tape, mu, logvar);
    row_bound_with(
        tape,
        reconstruction,
        kl,
        kl_weight,
        NegLogPrior::Uniform(classes),
    )
}

/// Per-row bound L(x, y) = −log p(x|·) + w·KL + (−log p(y)) from the
/// reconstruction term, any per-row KL term (e.g. against a class-dependent
/// p(z|y)) and the class prior (w: the KL warm-up weight). With a uniform
/// prior it is exactly [`row_bound`]'s arithmetic.
pub fn row_bound_with(
    tape: &mut Tape,
    reconstruction: Var,
    kl: Var,
    kl_weight: f32,
    prior: NegLogPrior,
) -> Var {
    let kl = if kl_weight == 1.0 {
        kl
    } else {
        ops::mul_scalar(tape, kl, kl_weight)
    };
    let per = ops::add(tape, reconstruction, kl);
    match prior {
        NegLogPrior::Uniform(classes) => ops::add_scalar(tape, per, (classes as f32).ln()),
        NegLogPrior::PerRow(v) => ops::add(tape, per, v),
    }
}

/// The objective from q(y|x)'s logits over the B_l + B_u inputs and the
/// per-row bound L over the B_l + K·B_u rows, with its named terms.
pub fn objective(
    tape: &mut Tape,
    batch: &Batch,
    logits: Var,
    bound: Var,
    k: usize,
    alpha: f32,
    labelled_weight: f32,
) -> Loss {
    let bl = batch.labels.len();
    let bu = batch.unlabelled.shape()[0];
    let mut terms = Vec::new();
    let mut parts = Vec::new();
    if bl > 0 {
        let l = rows(tape, bound, 0, bl);
        let l = ops::mean_all(tape, l);
        let logits_l = rows(tape, logits, 0, bl);
        let ce = ops::cross_entropy(tape, logits_l, &batch.labels, None);
        let ce = ops::mean_all(tape, ce);
        let weighted = ops::mul_scalar(tape, ce, alpha);
        terms.push(("labelled_bound", l));
        terms.push(("cross_entropy", ce));
        parts.push(if labelled_weight == 1.0 {
            l
        } else {
            ops::mul_scalar(tape, l, labelled_weight)
        });
        parts.push(weighted);
    }
    if bu > 0 {
        let logits_u = rows(tape, logits, bl, bu);
        let q = ops::softmax(tape, logits_u);
        let l_u = rows(tape, bound, bl, k * bu);
        let l_u = ops::reshape(tape, l_u, &[k, bu]);
        let qt = ops::transpose(tape, q); // (K, B_u)
        let weighted = ops::mul(tape, qt, l_u);
        let expected = ops::sum(tape, weighted, 0); // (B_u)
        let h = ops::categorical_entropy(tape, logits_u);
        let u = ops::sub(tape, expected, h);
        let u = ops::mean_all(tape, u);
        terms.push(("unlabelled_bound", u));
        parts.push(u);
    }
    let mut total = parts[0];
    for &p in &parts[1..] {
        total = ops::add(tape, total, p);
    }
    Loss {
        total,
        terms,
        examples: bl + bu,
    }
}
