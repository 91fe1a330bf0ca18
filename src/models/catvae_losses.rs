//! The auxiliary tasks of the categorical VAE ([`super::catvae`]): the
//! nearest-neighbour assignment of unlabelled examples to the labels of the
//! batch's labelled ones, and the two losses built on it. Each loss is a
//! composition of existing differentiable ops (tanh, constant masks,
//! matmul, reductions); only the choice of targets is non-differentiable.
//!
//! Notation: a batch of B = B_l + B_u rows, the B_l labelled ones first,
//! features f_i ∈ ℝ^F, class logits l_i ∈ ℝ^K, and a target class a_i per
//! row (the label for labelled rows, the assigned label for unlabelled ones).
//!
//! * Assignment (k-NN): a_i for unlabelled i is the majority label among
//!   its k nearest labelled features (squared Euclidean distance; ties in
//!   distance broken by the lower labelled index, ties in the vote by the
//!   class whose member ranks nearest). k = 1 is the paper's 1-NN.
//! * Assignment loss (our reading of the paper's tanh-normalised loss):
//!   L_A = (1/B) Σ_i ¼·[(1 − tanh l_{i,a_i}) + (1/(K−1)) Σ_{j≠a_i} (1 + tanh l_{ij})],
//!   which pulls the assigned class's logit up and pushes the others down,
//!   each through tanh so every term lies in [0, 1]: L_A ∈ [0, 1], 0 when
//!   l_{a} → +∞ and every other logit → −∞. Written as
//!   ½ + Σ_{ij} S_ij·tanh l_ij with the constant S_ia = −1/(4B),
//!   S_ij = 1/(4B(K−1)) for j ≠ a.
//! * Feature loss (our reading of "mean normalised L2 distance"): with
//!   d(i, j) = ‖f_i − f_j‖² / 4 (4 is the largest squared distance between
//!   unit vectors, so d ∈ [0, 1] for L2-normalised features) and N(i) the
//!   labelled rows of class a_i other than i itself,
//!   L_F = α·mean_{i labelled} mean_{j∈N(i)} d(i, j)
//!   \+ (1 − α)·mean_{i unlabelled} mean_{j∈N(i)} d(i, j);
//!   rows with empty N(i) (a class with one labelled example in the batch)
//!   are left out of their mean. Computed as Σ_ij W_ij·d(i, j) with
//!   d = (‖f_i‖² + ‖f_j‖² − 2 f_i·f_j)/4 over the (B, B_l) pairs and a
//!   constant weight matrix W. Gradients reach both ends of every pair.

use crate::autograd::{Tape, Var};
use crate::ops;
use crate::tensor::Tensor;

/// Target classes of the unlabelled rows `unlabelled` (B_u × dim) from the
/// labelled rows `labelled` (B_l × dim) with labels `labels`, by k-NN
/// majority (k is capped at B_l); see the module documentation.
pub fn knn_assign(
    unlabelled: &[f32],
    labelled: &[f32],
    labels: &[usize],
    dim: usize,
    k: usize,
) -> Vec<usize> {
    assert!(dim > 0, "knn_assign: zero-width features");
    assert_eq!(labelled.len(), labels.len() * dim, "knn_assign: labels");
    assert!(!labels.is_empty(), "knn_assign: no labelled example");
    let k = k.clamp(1, labels.len());
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let mut order: Vec<(f32, usize)> = Vec::with_capacity(labels.len());
    let mut votes = vec![0usize; classes];
    let mut first_rank = vec![usize::MAX; classes];
    unlabelled
        .chunks_exact(dim)
        .map(|u| {
            order.clear();
            order.extend(labelled.chunks_exact(dim).enumerate().map(|(j, l)| {
                let d: f32 = u.iter().zip(l).map(|(a, b)| (a - b) * (a - b)).sum();
                (d, j)
            }));
            // Stable in (distance, index): the lower index wins a tie.
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            votes.iter_mut().for_each(|v| *v = 0);
            first_rank.iter_mut().for_each(|r| *r = usize::MAX);
            for (rank, &(_, j)) in order[..k].iter().enumerate() {
                let c = labels[j];
                votes[c] += 1;
                first_rank[c] = first_rank[c].min(rank);
            }
            (0..classes)
                .filter(|&c| votes[c] > 0)
                .max_by(|&a, &b| {
                    votes[a]
                        .cmp(&votes[b])
                        .then(first_rank[b].cmp(&first_rank[a]))
                })
                .expect("k ≥ 1 votes")
        })
        .collect()
}

/// The constant S of L_A = ½ + Σ S ⊙ tanh(l) for `targets` (one per row) and
/// K classes: S_ia = −1/(4B), S_ij = 1/(4B(K − 1)) for j ≠ a.
pub fn assignment_signs(targets: &[usize], classes: usize) -> Tensor {
    assert!(classes >= 2, "the assignment loss needs K ≥ 2 classes");
    let b = targets.len() as f32;
    let push = 1.0 / (4.0 * b * (classes - 1) as f32);
    let pull = -1.0 / (4.0 * b);
    let mut s = Tensor::full(&[targets.len(), classes], push);
    for (row, &a) in s.data_mut().chunks_exact_mut(classes).zip(targets) {
        assert!(a < classes, "target class {a} ≥ K = {classes}");
        row[a] = pull;
    }
    s
}

/// L_A for logits (B, K) and one target class per row (a scalar).
pub fn assignment_loss(tape: &mut Tape, logits: Var, targets: &[usize]) -> Var {
    let k = tape.shape(logits)[1];
    let signs = assignment_signs(targets, k);
    let t = ops::tanh(tape, logits);
    let weighted = ops::mask(tape, t, signs);
    let total = ops::sum_all(tape, weighted);
    ops::add_scalar(tape, total, 0.5)
}

/// The constant W of L_F = Σ W ⊙ d over (B, B_l) pairs: rows are the batch
/// (labelled first), columns the labelled rows; `targets` gives each row's
/// class (its label for the first B_l rows), `labels` the labelled rows'
/// classes; `alpha` weighs the labelled rows' mean, 1 − α the unlabelled
/// ones'. `None` when no row has a partner.
pub fn feature_weights(targets: &[usize], labels: &[usize], alpha: f32) -> Option<Tensor> {
    let (b, bl) = (targets.len(), labels.len());
    assert!(bl <= b, "more labelled rows than rows");
    let partners = |i: usize| -> Vec<usize> {
        (0..bl)
            .filter(|&j| j != i && labels[j] == targets[i])
            .collect()
    };
    let rows: Vec<Vec<usize>> = (0..b).map(partners).collect();
    let counted =
        |range: std::ops::Range<usize>| rows[range].iter().filter(|p| !p.is_empty()).count();
    let (nl, nu) = (counted(0..bl), counted(bl..b));
    if nl + nu == 0 {
        return None;
    }
    let mut w = Tensor::zeros(&[b, bl]);
    for (i, (row, p)) in w
        .data_mut()
        .chunks_exact_mut(bl.max(1))
        .zip(&rows)
        .enumerate()
    {
        if p.is_empty() {
            continue;
        }
        let (part, n) = if i < bl {
            (alpha, nl)
        } else {
            (1.0 - alpha, nu)
        };
        let v = part / (n * p.len()) as f32;
        p.iter().for_each(|&j| row[j] = v);
    }
    Some(w)
}

/// L_F for features (B, F) whose first B_l rows are the labelled ones with
/// classes `labels`, and target classes `targets` for all B rows (a scalar;
/// zero when no row has a partner).
pub fn feature_loss(
    tape: &mut Tape,
    features: Var,
    targets: &[usize],
    labels: &[usize],
    alpha: f32,
) -> Var {
    let Some(weights) = feature_weights(targets, labels, alpha) else {
        return tape.constant(Tensor::scalar(0.0));
    };
    let (b, bl) = (targets.len(), labels.len());
    let fl = ops::slice(tape, features, 0, 0, bl);
    let flt = ops::transpose(tape, fl);
    let dots = ops::matmul(tape, features, flt);
    let sq = ops::square(tape, features);
    let norms = ops::sum(tape, sq, 1);
    let norms_l = ops::slice(tape, norms, 0, 0, bl);
    let ni = ops::reshape(tape, norms, &[b, 1]);
    let nj = ops::reshape(tape, norms_l, &[1, bl]);
    let both = ops::add(tape, ni, nj);
    let twice = ops::mul_scalar(tape, dots, 2.0);
    let dist = ops::sub(tape, both, twice);
    let weighted = ops::mask(tape, dist, weights);
    let total = ops::sum_all(tape, weighted);
    ops::mul_scalar(tape, total, 0.25)
}
