//! The clusters an iteration asks about: top-level clusters of the latent
//! codes and, for clusters whose centre was not valid or whose answer was
//! uncertain, sub-clusters of their members. Each node keeps its members and
//! how close each member is to it (the factor a propagated label's weight is
//! scaled by).

use super::config::{ActiveConfig, Clustering, Decay, Distance};
use crate::cluster::linalg::{mahalanobis_sq, precision_cholesky};
use crate::cluster::{gmm, kmeans, CovarianceType, GmmConfig, GmmInit, KMeansConfig};
use crate::Result;

/// One cluster: a top-level one (`id` "3") or a sub-cluster ("3.1").
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Path-like name: top-level index, then sub-cluster indices.
    pub id: String,
    /// The node it was split from.
    pub parent: Option<usize>,
    /// Centre in latent space (k-means centre or mixture mean).
    pub centre: Vec<f32>,
    /// Rows of the latent matrix that belong to it.
    pub members: Vec<usize>,
    /// Per member, in `members` order: its normalised distance dₙ to the
    /// centre (see [`Distance`]).
    pub distance: Vec<f32>,
    /// Per member, in `members` order: f(dₙ) times (GMM) the posterior of
    /// this cluster, in [0, 1].
    pub closeness: Vec<f32>,
}

/// The clusters of one iteration over `z` (`n × dim`, row-major).
pub struct ClusterTree<'a> {
    z: &'a [f32],
    dim: usize,
    clustering: Clustering,
    distance: Distance,
    decay: Decay,
    rate: f32,
    seed: u64,
    /// Every node made so far, parents before their children.
    pub nodes: Vec<Node>,
}

impl<'a> ClusterTree<'a> {
    /// An empty tree over the codes `z` with the settings of `cfg`; every
    /// clustering draws from `seed` and its node's id.
    pub fn new(z: &'a [f32], dim: usize, cfg: &ActiveConfig, seed: u64) -> Result<Self> {
        Ok(ClusterTree {
            z,
            dim,
            clustering: cfg.clustering()?,
            distance: cfg.distance()?,
            decay: cfg.decay()?,
            rate: cfg.decay_rate,
            seed,
            nodes: Vec::new(),
        })
    }

    /// Clusters every row into `k` top-level nodes; returns their indices.
    pub fn roots(&mut self, k: usize) -> Result<Vec<usize>> {
        let rows: Vec<usize> = (0..self.z.len() / self.dim).collect();
        self.partition(&rows, k, None)
    }

    /// Splits node `i` into `k` sub-clusters of its members; returns their
    /// indices (none when it has fewer than 2·k members).
    pub fn split(&mut self, i: usize, k: usize) -> Result<Vec<usize>> {
        let rows = self.nodes[i].members.clone();
        self.partition(&rows, k, Some(i))
    }

    fn partition(&mut self, rows: &[usize], k: usize, parent: Option<usize>) -> Result<Vec<usize>> {
        let d = self.dim;
        if rows.len() < 2 * k {
            return Ok(Vec::new());
        }
        let mut x = Vec::with_capacity(rows.len() * d);
        for &r in rows {
            x.extend_from_slice(&self.z[r * d..(r + 1) * d]);
        }
        let prefix = parent.map(|p| format!("{}.", self.nodes[p].id));
        let seed = mix(self.seed, prefix.as_deref().unwrap_or(""));
        let n = rows.len();
        // Cluster of every row, the centres, and (GMM) the posteriors.
        let (labels, centres, posterior): (Vec<u32>, Vec<f32>, Option<Vec<f64>>) =
            match self.clustering {
                Clustering::KMeans => {
                    let cfg = KMeansConfig {
                        k,
                        n_init: 3,
                        max_iter: 100,
                        seed,
                        ..KMeansConfig::default()
                    };
                    let r = kmeans(&x, n, d, &cfg)?;
                    (r.labels, r.centres, None)
                }
                Clustering::Gmm => {
                    let cfg = GmmConfig {
                        k,
                        covariance: CovarianceType::Full,
                        init: GmmInit::KMeans,
                        reg_covar: 1e-4,
                        seed,
                        ..GmmConfig::default()
                    };
                    let fit = gmm(&x, n, d, &cfg)?;
                    let labels = (0..n)
                        .map(|i| {
                            let row = &fit.responsibilities[i * k..(i + 1) * k];
                            (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b }) as u32
                        })
                        .collect();
                    let centres = fit.model.means.iter().map(|&m| m as f32).collect();
                    (labels, centres, Some(fit.responsibilities))
                }
            };
        let mut made = Vec::new();
        for j in 0..k {
            let local: Vec<usize> = (0..n).filter(|&i| labels[i] as usize == j).collect();
            if local.is_empty() {
                continue;
            }
            let centre = centres[j * d..(j + 1) * d].to_vec();
            let dist = self.distances(&x, &local, &centre);
            let closeness = local
                .iter()
                .zip(&dist)
                .map(|(&i, &dn)| {
                    let f = match self.decay {
                        Decay::Exponential => (-(self.rate as f64) * dn).exp(),
                        Decay::Gaussian => (-(self.rate as f64) * dn * dn).exp(),
                        Decay::None => 1.0,
                    };
                    let p = posterior.as_ref().map_or(1.0, |r| r[i * k + j]);
                    (f * p) as f32
                })
                .collect();
            made.push(self.nodes.len());
            self.nodes.push(Node {
                id: format!("{}{}", prefix.as_deref().unwrap_or(""), j + 1),
                parent,
                centre,
                members: local.iter().map(|&i| rows[i]).collect(),
                distance: dist.iter().map(|&v| v as f32).collect(),
                closeness,
            });
        }
        Ok(made)
    }

    /// dₙ of rows `local` of `x` to `centre`, normalised so that a typical
    /// member is at distance about 1 (see [`Distance`]).
    fn distances(&self, x: &[f32], local: &[usize], centre: &[f32]) -> Vec<f64> {
        let d = self.dim;
        let deltas: Vec<Vec<f64>> = local
            .iter()
            .map(|&i| {
                x[i * d..(i + 1) * d]
                    .iter()
                    .zip(centre)
                    .map(|(&a, &c)| a as f64 - c as f64)
                    .collect()
            })
            .collect();
        match self.distance {
            Distance::Euclidean => {
                let sq: Vec<f64> = deltas
                    .iter()
                    .map(|v| v.iter().map(|a| a * a).sum())
                    .collect();
                let rms = (sq.iter().sum::<f64>() / sq.len() as f64).sqrt().max(1e-12);
                sq.iter().map(|s| s.sqrt() / rms).collect()
            }
            Distance::Mahalanobis => {
                // The members' covariance about the centre, with a ridge
                // that keeps it invertible for tiny or flat clusters.
                let mut cov = vec![0f64; d * d];
                for v in &deltas {
                    for a in 0..d {
                        for b in 0..d {
                            cov[a * d + b] += v[a] * v[b];
                        }
                    }
                }
                let m = deltas.len() as f64;
                cov.iter_mut().for_each(|c| *c /= m);
                let trace: f64 = (0..d).map(|a| cov[a * d + a]).sum();
                for a in 0..d {
                    cov[a * d + a] += 1e-3 * (trace / d as f64).max(1e-12);
                }
                let Some((p, _)) = precision_cholesky(&cov, d) else {
                    return vec![1.0; deltas.len()];
                };
                let mut y = vec![0f64; d];
                deltas
                    .iter()
                    .map(|v| (mahalanobis_sq(&p, v, &mut y) / d as f64).sqrt())
                    .collect()
            }
        }
    }
}

/// A seed for the clustering of node `id` (FNV-1a over the id, mixed with
/// the run's seed), so a sub-cluster split replays identically.
fn mix(seed: u64, id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
