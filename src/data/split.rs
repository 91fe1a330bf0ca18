//! The deterministic split rule for user data that does not come with its
//! own validation or test file.
//!
//! Rule: the examples that have a label are shuffled by a fixed-seed ChaCha
//! permutation (`rng::stream(0, "data-split")`); the last 10 % (rounded up)
//! become the test split, the 10 % before them the validation split, the rest
//! train. Examples without a label ([`UNKNOWN_LABEL`], or all of them when the
//! data has no labels at all, in which case all are shuffled) always stay in
//! train when labels exist, since they serve only unsupervised learning.
//! Each split keeps the original file order of its examples.

use rand::seq::SliceRandom;

use super::{Dataset, UNKNOWN_LABEL};
use crate::rng;

/// Fraction of the eligible examples held out for each of validation and test.
pub const HOLDOUT_FRACTION: f64 = 0.1;

/// Indices of the three splits, each in increasing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitIndices {
    /// Train indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub validation: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

/// The seeded split of `n` examples (see the module doc). `holdouts` is how
/// many held-out parts to carve: 2 gives train/validation/test, 1 gives
/// train/validation only (test empty).
pub fn seeded_split(n: usize, labels: Option<&[u32]>, holdouts: usize) -> SplitIndices {
    let (mut eligible, mut train): (Vec<usize>, Vec<usize>) = match labels {
        Some(l) => (0..n).partition(|&i| l[i] != UNKNOWN_LABEL),
        None => ((0..n).collect(), Vec::new()),
    };
    if eligible.is_empty() && labels.is_some() {
        // Nothing labelled: split everything as if there were no labels.
        eligible = std::mem::take(&mut train);
    }
    let m = eligible.len();
    let part = ((m as f64 * HOLDOUT_FRACTION).ceil() as usize).min(m / 3);
    let mut rng = rng::stream(0, "data-split");
    eligible.shuffle(&mut rng);
    let (rest, test) = if holdouts >= 2 {
        eligible.split_at(m - part)
    } else {
        (&eligible[..], &[][..])
    };
    let (tr, val) = rest.split_at(rest.len() - part);
    train.extend_from_slice(tr);
    let mut s = SplitIndices {
        train,
        validation: val.to_vec(),
        test: test.to_vec(),
    };
    s.train.sort_unstable();
    s.validation.sort_unstable();
    s.test.sort_unstable();
    s
}

/// Applies a split to a dataset, naming the parts `<name>/train` etc.
pub fn apply(ds: &Dataset, idx: &SplitIndices, name: &str) -> (Dataset, Dataset, Dataset) {
    let mut tr = ds.subset(&idx.train);
    let mut va = ds.subset(&idx.validation);
    let mut te = ds.subset(&idx.test);
    tr.name = format!("{name}/train");
    va.name = format!("{name}/validation");
    te.name = format!("{name}/test");
    (tr, va, te)
}

/// The MNIST rule: the last `n / 6` examples of the training file (10,000 of
/// 60,000) are validation, the first ones train.
pub fn tail_validation(full_train: &Dataset, name: &str) -> (Dataset, Dataset) {
    let n_val = full_train.n / 6;
    let cut = full_train.n - n_val;
    let mut tr = full_train.subset(&(0..cut).collect::<Vec<_>>());
    let mut va = full_train.subset(&(cut..full_train.n).collect::<Vec<_>>());
    tr.name = format!("{name}/train");
    va.name = format!("{name}/validation");
    (tr, va)
}
