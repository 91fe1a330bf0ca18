//! k-means: greedy k-means++ initialisation, Lloyd iterations to tolerance,
//! `n_init` restarts keeping the lowest inertia; Euclidean or Mahalanobis
//! distance (a covariance shared by all clusters or one per cluster).
//!
//! Mahalanobis variants (every covariance gets `1e-6 × mean variance` added
//! to its diagonal):
//! - `Shared`: one covariance, that of the whole data set, fixed — k-means in
//!   whitened coordinates, so Lloyd's objective still decreases monotonically
//!   and restarts are comparable. (Re-estimating a pooled covariance from the
//!   clusters would make every partition score the same `n × dim`.)
//! - `PerCluster`: each cluster's own covariance, re-estimated after every
//!   assignment (the whole-data covariance to start with, the pooled
//!   within-cluster one for clusters with ≤ `dim` points). Points go to the
//!   cluster minimising `‖x − μⱼ‖²_Σⱼ + log det Σⱼ` — the Gaussian
//!   classification likelihood with equal weights; without the log-det term a
//!   broad cluster swallows its neighbours. Restarts are compared on that
//!   objective; `inertia` still reports the squared Mahalanobis distances.

use rand::RngExt;

use super::check_input;
use super::linalg::{mahalanobis_sq, precision_cholesky};
use super::par::map_chunks;
use crate::{rng, Result};

/// Which covariance a Mahalanobis distance uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CovarianceScope {
    /// One pooled within-cluster covariance for all clusters.
    Shared,
    /// Each cluster's own covariance.
    PerCluster,
}

/// The distance k-means minimises (squared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// Squared Euclidean distance.
    Euclidean,
    /// Squared Mahalanobis distance.
    Mahalanobis(CovarianceScope),
}

/// k-means settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansConfig {
    /// Number of clusters.
    pub k: usize,
    /// Number of restarts (each with its own k-means++ draw); the lowest
    /// inertia wins.
    pub n_init: usize,
    /// Most Lloyd iterations per restart.
    pub max_iter: usize,
    /// Stop when the summed squared centre shift is ≤ `tol × mean feature
    /// variance` (as scikit-learn), or when no label changes.
    pub tol: f64,
    /// Seed; restart `r` draws from `rng::stream(seed, "kmeans++/r")`.
    pub seed: u64,
    /// The distance.
    pub distance: Distance,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        KMeansConfig {
            k: 8,
            n_init: 4,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            distance: Distance::Euclidean,
        }
    }
}

/// A k-means solution.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansResult {
    /// Centres, `k × dim`, row-major.
    pub centres: Vec<f32>,
    /// Number of clusters.
    pub k: usize,
    /// Dimension.
    pub dim: usize,
    /// Cluster of every point (nearest centre).
    pub labels: Vec<u32>,
    /// Sum of squared distances of the points to their centres.
    pub inertia: f64,
    /// What the restarts minimise: the inertia, plus `Σᵢ log det Σ_{label i}`
    /// for per-cluster Mahalanobis.
    pub objective: f64,
    /// Lloyd iterations of the winning restart.
    pub iterations: usize,
    /// Whether the winning restart met the tolerance before `max_iter`.
    pub converged: bool,
    /// Final objective of every restart, in restart order.
    pub restart_objectives: Vec<f64>,
}

/// Runs k-means on `x` (`n × dim`, row-major) with `cfg.n_init` restarts and
/// returns the one with the lowest objective (the inertia except for
/// per-cluster Mahalanobis; the first on ties).
pub fn kmeans(x: &[f32], n: usize, dim: usize, cfg: &KMeansConfig) -> Result<KMeansResult> {
    let mut best: Option<KMeansResult> = None;
    let mut inertias = Vec::new();
    for r in 0..cfg.n_init.max(1) {
        let res = kmeans_run(x, n, dim, cfg, r)?;
        inertias.push(res.objective);
        if best.as_ref().is_none_or(|b| res.objective < b.objective) {
            best = Some(res);
        }
    }
    let mut best = best.unwrap_or_else(|| unreachable_result(dim));
    best.restart_objectives = inertias;
    Ok(best)
}

fn unreachable_result(dim: usize) -> KMeansResult {
    KMeansResult {
        centres: Vec::new(),
        k: 0,
        dim,
        labels: Vec::new(),
        inertia: f64::INFINITY,
        objective: f64::INFINITY,
        iterations: 0,
        converged: false,
        restart_objectives: Vec::new(),
    }
}

/// Runs restart number `restart` alone, exactly as [`kmeans`] runs it.
pub fn kmeans_run(
    x: &[f32],
    n: usize,
    dim: usize,
    cfg: &KMeansConfig,
    restart: usize,
) -> Result<KMeansResult> {
    check_input(x, n, dim, cfg.k)?;
    let k = cfg.k;
    let stats = column_stats(x, n, dim);
    let mean_var = stats.1.iter().sum::<f64>() / dim as f64;
    let tol_abs = cfg.tol * mean_var;
    let mut metric = match cfg.distance {
        Distance::Euclidean => Metric::Euclid,
        Distance::Mahalanobis(_) => {
            Metric::shared_from_cov(&data_covariance(x, n, dim, &stats.0), dim, mean_var)
        }
    };
    let mut rng = rng::stream(cfg.seed, &format!("kmeans++/{restart}"));
    let mut centres = kmeans_plus_plus(x, n, dim, k, &metric, &mut rng);
    let mut prev_labels: Option<Vec<u32>> = None;
    let (mut iterations, mut converged) = (0, false);
    for it in 1..=cfg.max_iter {
        iterations = it;
        let (labels, dists) = assign(x, n, dim, &centres, k, &metric);
        let new = update_centres(x, n, dim, k, &labels, &dists);
        if cfg.distance == Distance::Mahalanobis(CovarianceScope::PerCluster) {
            metric = Metric::per_cluster(x, n, dim, k, &labels, &new, mean_var);
        }
        let shift: f64 = new
            .iter()
            .zip(&centres)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        centres = new;
        if prev_labels.as_ref() == Some(&labels) || shift <= tol_abs {
            converged = true;
            break;
        }
        prev_labels = Some(labels);
    }
    let (labels, dists) = assign(x, n, dim, &centres, k, &metric);
    let objective: f64 = dists.iter().sum();
    let inertia = dists
        .iter()
        .zip(&labels)
        .map(|(d, &l)| d - metric.penalty(l as usize))
        .sum();
    Ok(KMeansResult {
        centres: centres.iter().map(|&c| c as f32).collect(),
        k,
        dim,
        labels,
        inertia,
        objective,
        iterations,
        converged,
        restart_objectives: vec![objective],
    })
}

/// The metric of the current iteration: one precision Cholesky per cluster
/// (or a single shared one).
enum Metric {
    Euclid,
    /// Upper-triangular precision Cholesky factors, one (shared) or `k`, and
    /// the per-cluster penalties `log det Σⱼ` (empty when shared).
    Maha(Vec<Vec<f64>>, Vec<f64>),
}

impl Metric {
    fn shared_from_cov(cov: &[f64], dim: usize, mean_var: f64) -> Metric {
        Metric::Maha(
            vec![regularised_precision(cov, dim, mean_var).0],
            Vec::new(),
        )
    }

    /// The term added to cluster `j`'s squared distance.
    fn penalty(&self, j: usize) -> f64 {
        match self {
            Metric::Maha(_, pen) if !pen.is_empty() => pen[j],
            _ => 0.0,
        }
    }

    /// Per-cluster covariances of the current partition (see the module doc).
    fn per_cluster(
        x: &[f32],
        n: usize,
        dim: usize,
        k: usize,
        labels: &[u32],
        centres: &[f64],
        mean_var: f64,
    ) -> Metric {
        let dd = dim * dim;
        let parts = map_chunks(n, |r| {
            let mut cov = vec![0.0f64; k * dd];
            let mut cnt = vec![0usize; k];
            let mut delta = vec![0.0f64; dim];
            for i in r {
                let j = labels[i] as usize;
                cnt[j] += 1;
                for (t, d) in delta.iter_mut().enumerate() {
                    *d = x[i * dim + t] as f64 - centres[j * dim + t];
                }
                let c = &mut cov[j * dd..(j + 1) * dd];
                for a in 0..dim {
                    let da = delta[a];
                    for (cab, &db) in c[a * dim + a..(a + 1) * dim].iter_mut().zip(&delta[a..]) {
                        *cab += da * db;
                    }
                }
            }
            (cov, cnt)
        });
        let mut cov = vec![0.0f64; k * dd];
        let mut cnt = vec![0usize; k];
        for (c, m) in parts {
            cov.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
            cnt.iter_mut().zip(&m).for_each(|(a, b)| *a += b);
        }
        let mut pooled = vec![0.0f64; dd];
        for j in 0..k {
            pooled
                .iter_mut()
                .zip(&cov[j * dd..(j + 1) * dd])
                .for_each(|(a, b)| *a += b);
        }
        let finish = |c: &mut [f64], count: usize| {
            for a in 0..dim {
                for b in a..dim {
                    c[a * dim + b] /= count.max(1) as f64;
                    c[b * dim + a] = c[a * dim + b];
                }
            }
        };
        finish(&mut pooled, n);
        let shared = regularised_precision(&pooled, dim, mean_var);
        let (ps, pen) = (0..k)
            .map(|j| {
                if cnt[j] <= dim {
                    return shared.clone();
                }
                let c = &mut cov[j * dd..(j + 1) * dd];
                finish(c, cnt[j]);
                regularised_precision(c, dim, mean_var)
            })
            .unzip();
        Metric::Maha(ps, pen)
    }

    /// Squared distance of `xi` to centre `c` of cluster `j`; `scratch` has
    /// length `2 × dim`.
    #[inline]
    fn dist2(&self, xi: &[f32], c: &[f64], j: usize, scratch: &mut [f64]) -> f64 {
        match self {
            Metric::Euclid => xi
                .iter()
                .zip(c)
                .map(|(&a, &b)| (a as f64 - b) * (a as f64 - b))
                .sum(),
            Metric::Maha(ps, pen) => {
                let p = if ps.len() == 1 { &ps[0] } else { &ps[j] };
                let (delta, y) = scratch.split_at_mut(xi.len());
                for ((d, &a), &b) in delta.iter_mut().zip(xi).zip(c) {
                    *d = a as f64 - b;
                }
                mahalanobis_sq(p, delta, y) + pen.get(j).copied().unwrap_or(0.0)
            }
        }
    }
}

/// Precision Cholesky of `cov + reg·I` and `log det` of that covariance,
/// raising `reg` until it factorises; the identity if even that fails (then
/// the distance is Euclidean).
fn regularised_precision(cov: &[f64], dim: usize, mean_var: f64) -> (Vec<f64>, f64) {
    let mut reg = 1e-6 * mean_var.max(f64::MIN_POSITIVE) + 1e-12;
    for _ in 0..12 {
        let mut c = cov.to_vec();
        for a in 0..dim {
            c[a * dim + a] += reg;
        }
        if let Some((p, log_det_p)) = precision_cholesky(&c, dim) {
            return (p, -2.0 * log_det_p);
        }
        reg *= 10.0;
    }
    let mut id = vec![0.0; dim * dim];
    (0..dim).for_each(|a| id[a * dim + a] = 1.0);
    (id, 0.0)
}

/// Per-feature means and (population) variances.
fn column_stats(x: &[f32], n: usize, dim: usize) -> (Vec<f64>, Vec<f64>) {
    let parts = map_chunks(n, |r| {
        let mut s = vec![0.0f64; dim];
        for i in r {
            s.iter_mut()
                .zip(&x[i * dim..(i + 1) * dim])
                .for_each(|(a, &b)| *a += b as f64);
        }
        s
    });
    let mut mean = vec![0.0f64; dim];
    for p in parts {
        mean.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let parts = map_chunks(n, |r| {
        let mut s = vec![0.0f64; dim];
        for i in r {
            for ((a, &b), m) in s.iter_mut().zip(&x[i * dim..(i + 1) * dim]).zip(&mean) {
                *a += (b as f64 - m) * (b as f64 - m);
            }
        }
        s
    });
    let mut var = vec![0.0f64; dim];
    for p in parts {
        var.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    var.iter_mut().for_each(|v| *v /= n as f64);
    (mean, var)
}

/// Covariance of the whole data set about `mean` (row-major `dim × dim`).
fn data_covariance(x: &[f32], n: usize, dim: usize, mean: &[f64]) -> Vec<f64> {
    let dd = dim * dim;
    let parts = map_chunks(n, |r| {
        let mut cov = vec![0.0f64; dd];
        let mut delta = vec![0.0f64; dim];
        for i in r {
            for (t, d) in delta.iter_mut().enumerate() {
                *d = x[i * dim + t] as f64 - mean[t];
            }
            for a in 0..dim {
                let da = delta[a];
                for (cab, &db) in cov[a * dim + a..(a + 1) * dim].iter_mut().zip(&delta[a..]) {
                    *cab += da * db;
                }
            }
        }
        cov
    });
    let mut cov = vec![0.0f64; dd];
    for p in parts {
        cov.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    for a in 0..dim {
        for b in a..dim {
            cov[a * dim + b] /= n as f64;
            cov[b * dim + a] = cov[a * dim + b];
        }
    }
    cov
}

/// Greedy k-means++ (as scikit-learn): each new centre is the best of
/// `2 + ⌊ln k⌋` candidates drawn with probability ∝ squared distance.
fn kmeans_plus_plus(
    x: &[f32],
    n: usize,
    dim: usize,
    k: usize,
    metric: &Metric,
    rng: &mut rng::StreamRng,
) -> Vec<f64> {
    let point = |i: usize| -> Vec<f64> {
        x[i * dim..(i + 1) * dim]
            .iter()
            .map(|&v| v as f64)
            .collect()
    };
    let dist_to = |c: &[f64]| -> Vec<f64> {
        map_chunks(n, |r| {
            let mut scratch = vec![0.0; 2 * dim];
            r.map(|i| metric.dist2(&x[i * dim..(i + 1) * dim], c, 0, &mut scratch))
                .collect::<Vec<_>>()
        })
        .concat()
    };
    let mut centres = Vec::with_capacity(k * dim);
    let first = rng.random_range(0..n);
    centres.extend(point(first));
    let mut closest = dist_to(&centres);
    let mut pot: f64 = closest.iter().sum();
    let trials = 2 + (k as f64).ln().floor() as usize;
    for _ in 1..k {
        let mut cum = Vec::with_capacity(n);
        let mut s = 0.0;
        for &d in &closest {
            s += d;
            cum.push(s);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let r = rng.random::<f64>() * pot;
            let cand = cum.partition_point(|&c| c <= r).min(n - 1);
            let d = dist_to(&point(cand));
            let new: Vec<f64> = d.iter().zip(&closest).map(|(&a, &b)| a.min(b)).collect();
            let p: f64 = new.iter().sum();
            if best.as_ref().is_none_or(|b| p < b.0) {
                best = Some((p, cand, new));
            }
        }
        if let Some((p, cand, new)) = best {
            centres.extend(point(cand));
            closest = new;
            pot = p;
        }
    }
    centres
}

/// Nearest centre of every point and the squared distance to it.
fn assign(
    x: &[f32],
    n: usize,
    dim: usize,
    centres: &[f64],
    k: usize,
    metric: &Metric,
) -> (Vec<u32>, Vec<f64>) {
    let parts = map_chunks(n, |r| {
        let mut scratch = vec![0.0; 2 * dim];
        let mut labels = Vec::with_capacity(r.len());
        let mut dists = Vec::with_capacity(r.len());
        for i in r {
            let xi = &x[i * dim..(i + 1) * dim];
            let (mut bj, mut bd) = (0usize, f64::INFINITY);
            for j in 0..k {
                let d = metric.dist2(xi, &centres[j * dim..(j + 1) * dim], j, &mut scratch);
                if d < bd {
                    bd = d;
                    bj = j;
                }
            }
            labels.push(bj as u32);
            dists.push(bd);
        }
        (labels, dists)
    });
    let mut labels = Vec::with_capacity(n);
    let mut dists = Vec::with_capacity(n);
    for (l, d) in parts {
        labels.extend(l);
        dists.extend(d);
    }
    (labels, dists)
}

/// Cluster means; an empty cluster takes the point farthest from its
/// current centre (distinct points for several empty clusters).
fn update_centres(
    x: &[f32],
    n: usize,
    dim: usize,
    k: usize,
    labels: &[u32],
    dists: &[f64],
) -> Vec<f64> {
    let parts = map_chunks(n, |r| {
        let mut sums = vec![0.0f64; k * dim];
        let mut cnt = vec![0usize; k];
        for i in r {
            let j = labels[i] as usize;
            cnt[j] += 1;
            sums[j * dim..(j + 1) * dim]
                .iter_mut()
                .zip(&x[i * dim..(i + 1) * dim])
                .for_each(|(a, &b)| *a += b as f64);
        }
        (sums, cnt)
    });
    let mut sums = vec![0.0f64; k * dim];
    let mut cnt = vec![0usize; k];
    for (s, c) in parts {
        sums.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
        cnt.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
    }
    let empty: Vec<usize> = (0..k).filter(|&j| cnt[j] == 0).collect();
    if !empty.is_empty() {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
        for (&j, &i) in empty.iter().zip(&order) {
            sums[j * dim..(j + 1) * dim]
                .iter_mut()
                .zip(&x[i * dim..(i + 1) * dim])
                .for_each(|(a, &b)| *a = b as f64);
            cnt[j] = 1;
        }
    }
    for j in 0..k {
        let c = cnt[j] as f64;
        sums[j * dim..(j + 1) * dim]
            .iter_mut()
            .for_each(|v| *v /= c);
    }
    sums
}
