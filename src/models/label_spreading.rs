//! A transductive classifier head: label spreading (Zhou et al., 2004) on a
//! k-nearest-neighbour graph of fixed features (M1's posterior means of the
//! whole training split, labelled or not), the role Kingma et al. gave a
//! transductive SVM in "M1 + TSVM".
//!
//! Graph: W_ij = 1 when j is among the k nearest neighbours of i or i among
//! those of j (squared Euclidean distance on the features as they are, ties
//! by index), no self-loops; S = D^{-1/2} W D^{-1/2}. Latent means already
//! share the prior's unit scale; standardising would blow collapsed, pure-
//! noise dimensions up to the size of informative ones (measured on M1
//! means: 85.6-90.1 % standardised vs 93.6-95.3 % as they are).
//! Spreading: F ← α·S·F + (1 − α)·Y from F = Y (one-hot rows for labelled
//! examples, zero rows otherwise), `ITERATIONS` times, in f64; rows of F are
//! then normalised into class distributions.
//! Prediction for a new point: the normalised sum of the distributions of its
//! k nearest training points.
//!
//! The training features and their distributions are buffers of the store,
//! so checkpoints keep everything a prediction needs.

use rayon::prelude::*;
use sparselabel_kernels::gemm::{sgemm, Transpose};

use crate::autograd::{ParamId, ParamStore};
use crate::tensor::Tensor;

/// Neighbours per point.
pub const NEIGHBOURS: usize = 10;
/// Weight of the propagated part (Zhou et al.'s 0.99).
pub const ALPHA: f64 = 0.99;
/// Spreading iterations.
pub const ITERATIONS: usize = 100;
/// Query rows per distance block (a block of distances is rows × N floats).
const BLOCK: usize = 256;

/// The head's buffers.
#[derive(Clone, Copy, Debug)]
pub struct SpreadingHead {
    features: ParamId,
    distributions: ParamId,
}

impl SpreadingHead {
    /// Adds the buffers for `examples` training points of `features` dimensions.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        examples: usize,
        features: usize,
        classes: usize,
    ) -> Self {
        SpreadingHead {
            features: store.add_buffer(
                &format!("{name}.train_features"),
                Tensor::zeros(&[examples, features]),
            ),
            distributions: store.add_buffer(
                &format!("{name}.train_distributions"),
                Tensor::full(&[examples, classes], 1.0 / classes as f32),
            ),
        }
    }

    /// Spreads the labels of rows `labelled` (classes `labels`) of `all`
    /// (the features of every training example) over the graph.
    pub fn fit(
        &self,
        store: &mut ParamStore,
        all: &Tensor,
        labelled: &[usize],
        labels: &[usize],
    ) -> crate::Result<()> {
        let (n, f) = all.rows_cols();
        let k = store.value(self.distributions).shape()[1];
        if store.value(self.features).shape() != [n, f] {
            return Err(crate::Error::Other(format!(
                "label spreading: {n} training rows of {f} features, the head was built for {:?}",
                store.value(self.features).shape()
            )));
        }
        let neighbours = nearest(all, all, f, NEIGHBOURS, true);
        let graph = symmetric_graph(&neighbours, n, NEIGHBOURS);
        let mut y = vec![0f64; n * k];
        for (&i, &c) in labelled.iter().zip(labels) {
            y[i * k + c] = 1.0;
        }
        let f_dist = spread(&graph, &y, k);
        store.get_mut(self.features).value = all.clone();
        store.get_mut(self.distributions).value = Tensor::new(&[n, k], f_dist);
        Ok(())
    }

    /// Log class probabilities of `queries` (B, F) → (B, K).
    pub fn log_probs(&self, store: &ParamStore, queries: &Tensor) -> Tensor {
        let (_, f) = queries.rows_cols();
        let base = store.value(self.features);
        let dist = store.value(self.distributions);
        let k = dist.shape()[1];
        let neighbours = nearest(queries, base, f, NEIGHBOURS.min(base.shape()[0]), false);
        let per = NEIGHBOURS.min(base.shape()[0]);
        let mut out = vec![0f32; queries.shape()[0] * k];
        for (row, nb) in out.chunks_exact_mut(k).zip(neighbours.chunks(per.max(1))) {
            let mut p = vec![0f64; k];
            for &j in nb {
                for (a, &b) in p
                    .iter_mut()
                    .zip(&dist.data()[j as usize * k..(j as usize + 1) * k])
                {
                    *a += b as f64;
                }
            }
            let total: f64 = p.iter().sum();
            for (o, v) in row.iter_mut().zip(p) {
                *o = if total > 0.0 {
                    ((v / total).max(1e-12)).ln() as f32
                } else {
                    -(k as f32).ln()
                };
            }
        }
        Tensor::new(&[queries.shape()[0], k], out)
    }
}

/// The `k` nearest rows of `base` to each row of `queries` (squared
/// Euclidean distance, ties broken by the lower index), as a flat list of
/// `k` indices per query. With `exclude_self`, queries are the base rows
/// themselves and row i never lists i.
pub fn nearest(
    queries: &Tensor,
    base: &Tensor,
    f: usize,
    k: usize,
    exclude_self: bool,
) -> Vec<u32> {
    let (m, n) = (queries.shape()[0], base.shape()[0]);
    let base_norms: Vec<f32> = base
        .data()
        .chunks_exact(f)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let mut out = vec![0u32; m * k];
    let mut dots = vec![0f32; BLOCK.min(m.max(1)) * n];
    for start in (0..m).step_by(BLOCK) {
        let rows = BLOCK.min(m - start);
        let block = &mut dots[..rows * n];
        sgemm(
            Transpose::No,
            Transpose::Yes,
            rows,
            n,
            f,
            1.0,
            &queries.data()[start * f..(start + rows) * f],
            f,
            base.data(),
            f,
            0.0,
            block,
            n,
        );
        out[start * k..(start + rows) * k]
            .par_chunks_mut(k)
            .zip(block.par_chunks(n))
            .enumerate()
            .for_each_init(
                || Vec::<(f32, u32)>::with_capacity(k + 1),
                |best, (r, (slot, dot))| {
                    let me = start + r;
                    // Insertion into a sorted list of the k best (distance, index),
                    // one list per worker, reused from row to row.
                    best.clear();
                    for (j, (&d, &nj)) in dot.iter().zip(&base_norms).enumerate() {
                        if exclude_self && j == me {
                            continue;
                        }
                        // |q|² is the same for every j: it cannot change the order.
                        let dist = nj - 2.0 * d;
                        if best.len() == k && dist >= best[k - 1].0 {
                            continue;
                        }
                        let at = best.partition_point(|&(b, _)| b <= dist);
                        best.insert(at, (dist, j as u32));
                        best.truncate(k);
                    }
                    for (s, (_, j)) in slot.iter_mut().zip(best.iter()) {
                        *s = *j;
                    }
                },
            );
    }
    out
}

/// Adjacency lists of the symmetrised k-NN graph (sorted, no duplicates).
fn symmetric_graph(neighbours: &[u32], n: usize, k: usize) -> Vec<Vec<u32>> {
    let mut adj: Vec<Vec<u32>> = vec![Vec::with_capacity(2 * k); n];
    for i in 0..n {
        for &j in &neighbours[i * k..(i + 1) * k] {
            adj[i].push(j);
            adj[j as usize].push(i as u32);
        }
    }
    adj.par_iter_mut().for_each(|a| {
        a.sort_unstable();
        a.dedup();
    });
    adj
}

/// Runs the spreading iterations and returns row-normalised distributions.
fn spread(adj: &[Vec<u32>], y: &[f64], k: usize) -> Vec<f32> {
    let inv_sqrt_deg: Vec<f64> = adj
        .iter()
        .map(|a| {
            if a.is_empty() {
                0.0
            } else {
                1.0 / (a.len() as f64).sqrt()
            }
        })
        .collect();
    let mut f = y.to_vec();
    let mut next = vec![0f64; f.len()];
    for _ in 0..ITERATIONS {
        next.par_chunks_mut(k).enumerate().for_each(|(i, row)| {
            row.copy_from_slice(&y[i * k..(i + 1) * k]);
            row.iter_mut().for_each(|v| *v *= 1.0 - ALPHA);
            for &j in &adj[i] {
                let w = ALPHA * inv_sqrt_deg[i] * inv_sqrt_deg[j as usize];
                for (r, &fj) in row.iter_mut().zip(&f[j as usize * k..(j as usize + 1) * k]) {
                    *r += w * fj;
                }
            }
        });
        std::mem::swap(&mut f, &mut next);
    }
    f.chunks_exact(k)
        .flat_map(|row| {
            let total: f64 = row.iter().sum();
            row.iter().map(move |&v| {
                if total > 0.0 {
                    (v / total) as f32
                } else {
                    1.0 / k as f32
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_matches_brute_force_and_skips_self() {
        let f = 3;
        let pts: Vec<f32> = (0..40).map(|i| ((i * 37) % 11) as f32 * 0.3).collect();
        let t = Tensor::new(&[13, f], pts[..39].to_vec());
        let got = nearest(&t, &t, f, 4, true);
        for i in 0..13 {
            let mut d: Vec<(f32, u32)> = (0..13)
                .filter(|&j| j != i)
                .map(|j| {
                    let s: f32 = (0..f)
                        .map(|c| (t.data()[i * f + c] - t.data()[j * f + c]).powi(2))
                        .sum();
                    (s, j as u32)
                })
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<f32> = d[..4].iter().map(|p| p.0).collect();
            let have: Vec<f32> = got[i * 4..i * 4 + 4]
                .iter()
                .map(|&j| {
                    (0..f)
                        .map(|c| (t.data()[i * f + c] - t.data()[j as usize * f + c]).powi(2))
                        .sum()
                })
                .collect();
            for (a, b) in want.iter().zip(&have) {
                assert!((a - b).abs() < 1e-4, "row {i}: {want:?} vs {have:?}");
            }
            assert!(!got[i * 4..i * 4 + 4].contains(&(i as u32)));
        }
    }

    #[test]
    fn spreading_labels_two_separated_clusters() {
        // Two well-separated blobs on a line, one label each.
        let xs: Vec<f32> = (0..20)
            .map(|i| {
                if i < 10 {
                    i as f32 * 0.1
                } else {
                    10.0 + i as f32 * 0.1
                }
            })
            .collect();
        let all = Tensor::new(&[20, 1], xs);
        let mut store = ParamStore::new();
        let head = SpreadingHead::new(&mut store, "h", 20, 1, 2);
        head.fit(&mut store, &all, &[0, 19], &[0, 1]).unwrap();
        let q = Tensor::new(&[2, 1], vec![0.35, 11.2]);
        let lp = head.log_probs(&store, &q);
        assert!(lp.data()[0] > lp.data()[1], "{:?}", lp.data());
        assert!(lp.data()[3] > lp.data()[2], "{:?}", lp.data());
    }
}
