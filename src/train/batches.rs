//! Batching: a seeded permutation of the unlabelled set per epoch, labelled
//! examples drawn without replacement every step, and dynamic binarisation.
//! Every draw comes from a named stream saved in checkpoints, so a resumed
//! run sees exactly the batches the uninterrupted run would have seen.

use rand::RngExt;

use crate::data::Dataset;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// A permutation of `0..n` by Fisher-Yates (written here so it never changes
/// with a dependency's version).
pub fn permutation(n: usize, rng: &mut StreamRng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}

/// `k` distinct positions of `0..n` (partial Fisher-Yates; k ≤ n).
pub fn sample_without_replacement(n: usize, k: usize, rng: &mut StreamRng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = rng.random_range(i..n);
        p.swap(i, j);
    }
    p.truncate(k);
    p
}

/// Rows `indices` of `ds` as a (len, dim) tensor, binarised with a fresh
/// Bernoulli draw per pixel when `rng` is given.
pub fn gather(ds: &Dataset, indices: &[usize], rng: Option<&mut StreamRng>) -> Tensor {
    let mut x = Vec::with_capacity(indices.len() * ds.dim);
    for &i in indices {
        x.extend_from_slice(ds.row(i));
    }
    if let Some(rng) = rng {
        let src = x.clone();
        crate::data::binarize::dynamic(&src, rng, &mut x);
    }
    Tensor::new(&[indices.len(), ds.dim], x)
}
