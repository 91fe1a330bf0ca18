//! Gaussian mixtures fitted by EM, following scikit-learn's
//! `GaussianMixture` step for step (so log-likelihoods agree):
//!
//! - initial responsibilities from k-means (one-hot) or uniform random rows
//!   normalised to 1, then an M-step;
//! - E-step in log space: `log wₖ + log N(x | μₖ, Σₖ)`, normalised by
//!   logsumexp; densities from the precision Cholesky `P = (L⁻¹)ᵀ`,
//!   `log N = −½(d log 2π + ‖Pᵀ(x−μ)‖²) + log det P`;
//! - M-step: `Nₖ = Σ rₙₖ + 10ε`, `μₖ = Σ rₙₖ xₙ / Nₖ`,
//!   `Σₖ = Σ rₙₖ (xₙ−μₖ)(xₙ−μₖ)ᵀ / Nₖ + reg_covar·I` (diagonal: the diagonal
//!   only), `wₖ = Nₖ / Σ Nₖ`;
//! - stop when the mean log-likelihood changes by less than `tol`;
//! - `n_init` restarts, keeping the highest final mean log-likelihood.
//!
//! All sums over points run in fixed chunks combined in order (deterministic
//! for any thread count). Arithmetic is in f64.

use rand::RngExt;

use super::check_input;
use super::kmeans::{kmeans, KMeansConfig};
use super::linalg::{gemm, mahalanobis_sq, precision_cholesky, View};
use super::par::map_chunks;
use crate::{rng, Error, Result};

/// Shape of the component covariances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CovarianceType {
    /// A full `d × d` covariance per component.
    Full,
    /// A diagonal covariance per component.
    Diag,
}

/// How EM is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GmmInit {
    /// Responsibilities from one k-means run (k-means++ start).
    KMeans,
    /// Uniform random responsibilities, normalised per point.
    Random,
}

/// EM settings (defaults as scikit-learn).
#[derive(Clone, Debug, PartialEq)]
pub struct GmmConfig {
    /// Number of components.
    pub k: usize,
    /// Covariance shape.
    pub covariance: CovarianceType,
    /// Initialisation.
    pub init: GmmInit,
    /// Added to every covariance diagonal (default `1e-6`).
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less (default `1e-3`).
    pub tol: f64,
    /// Most EM iterations per restart (default 100).
    pub max_iter: usize,
    /// Restarts (default 1).
    pub n_init: usize,
    /// Seed; restart `r` draws from `rng::stream(seed, "gmm-init/r")`.
    pub seed: u64,
}

impl Default for GmmConfig {
    fn default() -> Self {
        GmmConfig {
            k: 1,
            covariance: CovarianceType::Full,
            init: GmmInit::KMeans,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            seed: 0,
        }
    }
}

/// A fitted mixture: parameters plus cached precision Cholesky factors.
#[derive(Clone, Debug, PartialEq)]
pub struct Gmm {
    /// Number of components.
    pub k: usize,
    /// Dimension.
    pub dim: usize,
    /// Covariance shape.
    pub covariance_type: CovarianceType,
    /// Mixing weights, summing to 1.
    pub weights: Vec<f64>,
    /// Means, `k × dim`, row-major.
    pub means: Vec<f64>,
    /// Covariances: `k × dim × dim` (full) or `k × dim` (diagonal variances).
    pub covariances: Vec<f64>,
    /// Precision Cholesky factors: upper `dim × dim` per component (full) or
    /// `1/σ` per feature (diagonal).
    prec: Vec<f64>,
    /// `log det P` per component.
    log_det_prec: Vec<f64>,
}

/// The outcome of [`gmm`].
#[derive(Clone, Debug, PartialEq)]
pub struct GmmFit {
    /// The fitted mixture (the best restart).
    pub model: Gmm,
    /// Posterior responsibilities under the final parameters, `n × k`.
    pub responsibilities: Vec<f64>,
    /// Mean log-likelihood per point under the final parameters (nats).
    pub mean_log_likelihood: f64,
    /// Bayesian information criterion, `−2·n·mean_ll + p·ln n`.
    pub bic: f64,
    /// EM iterations of the best restart.
    pub iterations: usize,
    /// Whether the best restart met `tol` before `max_iter`.
    pub converged: bool,
    /// Mean log-likelihood at the E-step of each iteration of the best
    /// restart, then under the final parameters (non-decreasing up to
    /// rounding and the `reg_covar` term).
    pub log_likelihood_trace: Vec<f64>,
    /// Final mean log-likelihood of every restart, in restart order.
    pub restart_log_likelihoods: Vec<f64>,
}

const LOG_2PI: f64 = 1.837_877_066_409_345_3;

/// Points per GEMM block inside a chunk (keeps `Δ` and `Y` in cache).
const BLOCK: usize = 256;

impl Gmm {
    /// Builds a mixture from parameters, factorising the covariances; a
    /// covariance that is not positive definite is an error.
    pub fn new(
        weights: Vec<f64>,
        means: Vec<f64>,
        covariances: Vec<f64>,
        dim: usize,
        covariance_type: CovarianceType,
    ) -> Result<Gmm> {
        let k = weights.len();
        let per = match covariance_type {
            CovarianceType::Full => dim * dim,
            CovarianceType::Diag => dim,
        };
        if dim == 0 || means.len() != k * dim || covariances.len() != k * per {
            return Err(Error::Usage(format!(
                "mixture parameters do not match k = {k}, dim = {dim}"
            )));
        }
        let mut prec = Vec::with_capacity(k * per);
        let mut log_det_prec = Vec::with_capacity(k);
        for j in 0..k {
            let c = &covariances[j * per..(j + 1) * per];
            let bad = || {
                Error::Numerical(format!(
                    "covariance of component {j} is not positive definite (try a larger reg_covar)"
                ))
            };
            match covariance_type {
                CovarianceType::Full => {
                    let (p, ld) = precision_cholesky(c, dim).ok_or_else(bad)?;
                    prec.extend(p);
                    log_det_prec.push(ld);
                }
                CovarianceType::Diag => {
                    if c.iter().any(|&v| v.is_nan() || v <= 0.0 || v.is_infinite()) {
                        return Err(bad());
                    }
                    prec.extend(c.iter().map(|v| 1.0 / v.sqrt()));
                    log_det_prec.push(c.iter().map(|v| -0.5 * v.ln()).sum());
                }
            }
        }
        Ok(Gmm {
            k,
            dim,
            covariance_type,
            weights,
            means,
            covariances,
            prec,
            log_det_prec,
        })
    }

    /// Number of free parameters (for BIC), as scikit-learn counts them.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.k, self.dim);
        let cov = match self.covariance_type {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
        };
        cov + k * d + k - 1
    }

    /// Squared Mahalanobis distance of `delta = x − μⱼ`; `y` is scratch.
    #[inline]
    fn maha_sq(&self, j: usize, delta: &[f64], y: &mut [f64]) -> f64 {
        let d = self.dim;
        match self.covariance_type {
            CovarianceType::Full => {
                mahalanobis_sq(&self.prec[j * d * d..(j + 1) * d * d], delta, y)
            }
            CovarianceType::Diag => delta
                .iter()
                .zip(&self.prec[j * d..(j + 1) * d])
                .map(|(a, p)| (a * p) * (a * p))
                .sum(),
        }
    }

    /// Fills `out[i·k + j] = log wⱼ + log N(xᵢ | μⱼ, Σⱼ)` for the `rows`
    /// points of `x` (`rows × dim`). Full covariances go through one GEMM
    /// per component (`Y = Δ·Pⱼ`, squared row norms).
    fn weighted_log_probs(&self, x: &[f64], rows: usize, out: &mut [f64]) {
        let (k, d) = (self.k, self.dim);
        let cst = -0.5 * d as f64 * LOG_2PI;
        let mut delta = vec![0.0; rows * d];
        let mut y = vec![0.0; rows * d];
        for j in 0..k {
            let mu = &self.means[j * d..(j + 1) * d];
            for (drow, xrow) in delta.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                for ((t, &a), &m) in drow.iter_mut().zip(xrow).zip(mu) {
                    *t = a - m;
                }
            }
            let base = self.weights[j].ln() + cst + self.log_det_prec[j];
            match self.covariance_type {
                CovarianceType::Full => {
                    let p = &self.prec[j * d * d..(j + 1) * d * d];
                    let dv = View {
                        data: &delta,
                        rs: d,
                        cs: 1,
                    };
                    gemm(
                        rows,
                        d,
                        d,
                        dv,
                        View {
                            data: p,
                            rs: d,
                            cs: 1,
                        },
                        0.0,
                        &mut y,
                    );
                    for (i, yrow) in y.chunks_exact(d).enumerate() {
                        out[i * k + j] = base - 0.5 * yrow.iter().map(|v| v * v).sum::<f64>();
                    }
                }
                CovarianceType::Diag => {
                    let p = &self.prec[j * d..(j + 1) * d];
                    for (i, drow) in delta.chunks_exact(d).enumerate() {
                        let m2: f64 = drow.iter().zip(p).map(|(a, q)| (a * q) * (a * q)).sum();
                        out[i * k + j] = base - 0.5 * m2;
                    }
                }
            }
        }
    }

    /// Mahalanobis distance (not squared) of `point` to component `j`.
    /// Returns NaN if `j ≥ k` or `point` has the wrong length.
    pub fn mahalanobis(&self, point: &[f32], j: usize) -> f64 {
        if j >= self.k || point.len() != self.dim {
            return f64::NAN;
        }
        let d = self.dim;
        let delta: Vec<f64> = point
            .iter()
            .zip(&self.means[j * d..(j + 1) * d])
            .map(|(&a, &m)| a as f64 - m)
            .collect();
        let mut y = vec![0.0; d];
        self.maha_sq(j, &delta, &mut y).sqrt()
    }

    fn check_points(&self, x: &[f32]) -> Result<usize> {
        if self.dim == 0 || !x.len().is_multiple_of(self.dim) {
            return Err(Error::Usage(format!(
                "{} values are not points of dimension {}",
                x.len(),
                self.dim
            )));
        }
        Ok(x.len() / self.dim)
    }

    /// Log-density `log p(x)` of every point of `x` (`n × dim`).
    pub fn log_prob(&self, x: &[f32]) -> Result<Vec<f64>> {
        let n = self.check_points(x)?;
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let (_, lse, _) = self.e_step(&x64, n, false);
        Ok(lse)
    }

    /// Posterior component probabilities of every point, `n × k`.
    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f64>> {
        let n = self.check_points(x)?;
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        Ok(self.e_step(&x64, n, true).0)
    }

    /// Most probable component of every point.
    pub fn predict(&self, x: &[f32]) -> Result<Vec<u32>> {
        Ok(argmax_rows(&self.predict_proba(x)?, self.k))
    }

    /// E-step: responsibilities (if `want_resp`), per-point log-likelihood,
    /// and their sum combined in chunk order.
    fn e_step(&self, x: &[f64], n: usize, want_resp: bool) -> (Vec<f64>, Vec<f64>, f64) {
        let (k, d) = (self.k, self.dim);
        let parts = map_chunks(n, |r| {
            let rows = r.len();
            let mut w = vec![0.0; rows * k];
            for (b, wb) in (r.start..r.end).step_by(BLOCK).zip(w.chunks_mut(BLOCK * k)) {
                let e = (b + BLOCK).min(r.end);
                self.weighted_log_probs(&x[b * d..e * d], e - b, wb);
            }
            let mut resp = Vec::with_capacity(if want_resp { rows * k } else { 0 });
            let mut lses = Vec::with_capacity(rows);
            let mut sum = 0.0;
            for row in w.chunks_exact(k) {
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = if m.is_finite() {
                    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
                } else {
                    m
                };
                if want_resp {
                    resp.extend(row.iter().map(|v| (v - lse).exp()));
                }
                lses.push(lse);
                sum += lse;
            }
            (resp, lses, sum)
        });
        let mut resp = Vec::with_capacity(if want_resp { n * k } else { 0 });
        let mut lses = Vec::with_capacity(n);
        let mut total = 0.0;
        for (r, l, s) in parts {
            resp.extend(r);
            lses.extend(l);
            total += s;
        }
        (resp, lses, total)
    }
}

fn argmax_rows(p: &[f64], k: usize) -> Vec<u32> {
    p.chunks_exact(k.max(1))
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

/// M-step: mixture parameters from responsibilities (see the module doc).
fn m_step(x: &[f64], n: usize, d: usize, resp: &[f64], k: usize, cfg: &GmmConfig) -> Result<Gmm> {
    let eps10 = 10.0 * f64::EPSILON;
    // Pass 1: Nₖ and Σ rₙₖ xₙ.
    let parts = map_chunks(n, |r| {
        let mut nk = vec![0.0f64; k];
        let mut sx = vec![0.0f64; k * d];
        for i in r {
            let xi = &x[i * d..(i + 1) * d];
            for j in 0..k {
                let rij = resp[i * k + j];
                nk[j] += rij;
                sx[j * d..(j + 1) * d]
                    .iter_mut()
                    .zip(xi)
                    .for_each(|(a, &b)| *a += rij * b);
            }
        }
        (nk, sx)
    });
    let mut nk = vec![0.0f64; k];
    let mut means = vec![0.0f64; k * d];
    for (a, b) in parts {
        nk.iter_mut().zip(&a).for_each(|(s, v)| *s += v);
        means.iter_mut().zip(&b).for_each(|(s, v)| *s += v);
    }
    nk.iter_mut().for_each(|v| *v += eps10);
    for j in 0..k {
        means[j * d..(j + 1) * d]
            .iter_mut()
            .for_each(|m| *m /= nk[j]);
    }
    // Pass 2: covariances about the new means.
    let per = match cfg.covariance {
        CovarianceType::Full => d * d,
        CovarianceType::Diag => d,
    };
    let parts = map_chunks(n, |r| {
        let mut cov = vec![0.0f64; k * per];
        let rows = r.len();
        let mut w = vec![0.0f64; rows * d];
        for j in 0..k {
            let mu = &means[j * d..(j + 1) * d];
            let c = &mut cov[j * per..(j + 1) * per];
            for (i, wrow) in r.clone().zip(w.chunks_exact_mut(d)) {
                let rij = resp[i * k + j];
                let xi = &x[i * d..(i + 1) * d];
                match cfg.covariance {
                    // Row i of W is √rᵢⱼ (xᵢ − μⱼ); the scatter is Wᵀ·W.
                    CovarianceType::Full => {
                        let s = rij.sqrt();
                        for ((t, &a), &m) in wrow.iter_mut().zip(xi).zip(mu) {
                            *t = s * (a - m);
                        }
                    }
                    CovarianceType::Diag => {
                        for ((acc, &a), &m) in c.iter_mut().zip(xi).zip(mu) {
                            *acc += rij * (a - m) * (a - m);
                        }
                    }
                }
            }
            if cfg.covariance == CovarianceType::Full {
                let wt = View {
                    data: &w,
                    rs: 1,
                    cs: d,
                };
                gemm(
                    d,
                    rows,
                    d,
                    wt,
                    View {
                        data: &w,
                        rs: d,
                        cs: 1,
                    },
                    1.0,
                    c,
                );
            }
        }
        cov
    });
    let mut cov = vec![0.0f64; k * per];
    for p in parts {
        cov.iter_mut().zip(&p).for_each(|(s, v)| *s += v);
    }
    for j in 0..k {
        let c = &mut cov[j * per..(j + 1) * per];
        match cfg.covariance {
            CovarianceType::Full => {
                for a in 0..d {
                    for b in a..d {
                        let v = c[a * d + b] / nk[j];
                        c[a * d + b] = v;
                        c[b * d + a] = v;
                    }
                    c[a * d + a] += cfg.reg_covar;
                }
            }
            CovarianceType::Diag => c.iter_mut().for_each(|v| *v = *v / nk[j] + cfg.reg_covar),
        }
    }
    let total: f64 = nk.iter().sum();
    let weights = nk.iter().map(|v| v / total).collect();
    Gmm::new(weights, means, cov, d, cfg.covariance)
}

/// Initial responsibilities for restart `restart`.
fn initial_resp(
    x: &[f32],
    n: usize,
    d: usize,
    cfg: &GmmConfig,
    restart: usize,
) -> Result<Vec<f64>> {
    let k = cfg.k;
    let mut rng = rng::stream(cfg.seed, &format!("gmm-init/{restart}"));
    match cfg.init {
        GmmInit::KMeans => {
            let km_cfg = KMeansConfig {
                k,
                n_init: 1,
                seed: rng.random(),
                ..KMeansConfig::default()
            };
            let km = kmeans(x, n, d, &km_cfg)?;
            let mut resp = vec![0.0; n * k];
            for (i, &l) in km.labels.iter().enumerate() {
                resp[i * k + l as usize] = 1.0;
            }
            Ok(resp)
        }
        GmmInit::Random => {
            let mut resp: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
            for row in resp.chunks_exact_mut(k) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            Ok(resp)
        }
    }
}

struct Run {
    model: Gmm,
    iterations: usize,
    converged: bool,
    trace: Vec<f64>,
    final_ll: f64,
    resp: Vec<f64>,
}

fn run_once(
    x32: &[f32],
    x: &[f64],
    n: usize,
    d: usize,
    cfg: &GmmConfig,
    restart: usize,
) -> Result<Run> {
    let resp0 = initial_resp(x32, n, d, cfg, restart)?;
    let mut model = m_step(x, n, d, &resp0, cfg.k, cfg)?;
    drop(resp0);
    let mut trace = Vec::new();
    let mut prev = f64::NEG_INFINITY;
    let (mut iterations, mut converged) = (0, false);
    for it in 1..=cfg.max_iter {
        iterations = it;
        let (resp, _, total) = model.e_step(x, n, true);
        let ll = total / n as f64;
        trace.push(ll);
        model = m_step(x, n, d, &resp, cfg.k, cfg)?;
        if (ll - prev).abs() < cfg.tol {
            converged = true;
            break;
        }
        prev = ll;
    }
    let (resp, _, total) = model.e_step(x, n, true);
    let final_ll = total / n as f64;
    trace.push(final_ll);
    Ok(Run {
        model,
        iterations,
        converged,
        trace,
        final_ll,
        resp,
    })
}

/// Fits a `cfg.k`-component mixture to `x` (`n × dim`, row-major) by EM.
pub fn gmm(x: &[f32], n: usize, dim: usize, cfg: &GmmConfig) -> Result<GmmFit> {
    check_input(x, n, dim, cfg.k)?;
    if cfg.reg_covar.is_nan() || cfg.reg_covar < 0.0 || cfg.tol.is_nan() || cfg.tol < 0.0 {
        return Err(Error::Usage(
            "reg_covar and tol must be non-negative".into(),
        ));
    }
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let mut best: Option<Run> = None;
    let mut lls = Vec::new();
    for r in 0..cfg.n_init.max(1) {
        let run = run_once(x, &x64, n, dim, cfg, r)?;
        lls.push(run.final_ll);
        if best.as_ref().is_none_or(|b| run.final_ll > b.final_ll) {
            best = Some(run);
        }
    }
    let best = best.ok_or_else(|| Error::Other("no EM restart ran".into()))?;
    let p = best.model.n_parameters() as f64;
    let bic = -2.0 * best.final_ll * n as f64 + p * (n as f64).ln();
    Ok(GmmFit {
        bic,
        mean_log_likelihood: best.final_ll,
        iterations: best.iterations,
        converged: best.converged,
        log_likelihood_trace: best.trace,
        responsibilities: best.resp,
        model: best.model,
        restart_log_likelihoods: lls,
    })
}
