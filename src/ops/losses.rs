//! Fused per-example loss terms. Each takes (B, D) inputs and returns a (B)
//! vector summed over the last axis, so models can weight examples (e.g. by
//! q(y|x) when enumerating classes) before reducing.
//!
//! | op | value per row | gradients |
//! |---|---|---|
//! | bce_with_logits(l, t) | Σ softplus(l) − t·l  (= −log Bern(t; σ(l))) | ∂l = σ(l) − t, ∂t = −l |
//! | squared_error(p, t) | Σ (p − t)² | ∂p = 2(p − t), ∂t = −2(p − t) |
//! | gaussian_log_density(x, μ, lv) | Σ −½(log 2π + lv + (x − μ)² e^{−lv}) | ∂x = −(x−μ)e^{−lv}, ∂μ = −∂x, ∂lv = −½(1 − (x−μ)² e^{−lv}) |
//! | kl_normal(μ, lv, μ₂, lv₂) | Σ ½(lv₂ − lv + (e^{lv} + (μ−μ₂)²) e^{−lv₂} − 1) | see `KlNormal` |
//! | kl_std_normal(μ, lv) | Σ ½(e^{lv} + μ² − 1 − lv) | ∂μ = μ, ∂lv = ½(e^{lv} − 1) |
//! | categorical_kl(l, log p) | Σ q (log q − log p), q = softmax(l) | ∂l_i = q_i((log q_i − log p_i) − KL) |
//! | categorical_entropy(l) | −Σ q log q | ∂l_i = −q_i(log q_i + H) |
//! | cross_entropy(l, y, w) | −w·log softmax(l)_y | ∂l = w(q − onehot(y)) |

use rayon::iter::Either;
use rayon::prelude::*;
use sparselabel_kernels::elementwise as ew;
use sparselabel_kernels::reduce as kr;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::{pool, Tensor};

const LOG_2PI: f32 = 1.837_877_1;

fn same_shape(tape: &Tape, name: &str, vars: &[Var]) -> (usize, usize) {
    let s0 = tape.shape(vars[0]).to_vec();
    for &v in &vars[1..] {
        assert_eq!(tape.shape(v), &s0[..], "{name}: operand shapes differ");
    }
    tape.value(vars[0]).rows_cols()
}

fn rows_shape(tape: &Tape, v: Var) -> Vec<usize> {
    let s = tape.shape(v);
    s[..s.len().saturating_sub(1)].to_vec()
}

/// Row sums of f(i) for i over each row, in f64 for accuracy.
fn row_sums(rows: usize, cols: usize, f: impl Fn(usize) -> f32) -> Vec<f32> {
    (0..rows)
        .map(|r| (r * cols..(r + 1) * cols).map(|i| f(i) as f64).sum::<f64>() as f32)
        .collect()
}

/// Binary cross-entropy with logits, per row.
pub struct BceWithLogits {
    logits: Var,
    targets: Var,
    /// σ(l) − t, computed in the forward pass when the logits need a gradient.
    derivative: Option<Tensor>,
}

/// Σ_j softplus(l_j) − t_j·l_j per row: the negative Bernoulli
/// log-likelihood of targets t ∈ [0, 1] under logits l. One fused pass per
/// row for the value (the kernels' vectorised softplus and fixed-order sum);
/// when the logits need a gradient, σ(l) − t is kept for the backward pass,
/// computed while the row is still in cache.
pub fn bce_with_logits(tape: &mut Tape, logits: Var, targets: Var) -> Var {
    let (rows, cols) = same_shape(tape, "bce_with_logits", &[logits, targets]);
    let (l, t) = (tape.value(logits).data(), tape.value(targets).data());
    let mut sums = vec![0f32; rows];
    let mut derivative = tape
        .requires_grad(logits)
        .then(|| pool::for_overwrite(l.len()));
    // Each row's terms go through a row-sized scratch `per` (one per rayon job);
    // small inputs stay one job on the calling thread.
    let d_rows = match &mut derivative {
        Some(d) => Either::Left(d.par_chunks_mut(cols).map(Some)),
        None => Either::Right((0..rows).into_par_iter().map(|_| None)),
    };
    let min_len = if l.len() >= super::activation::PAR_MIN {
        1
    } else {
        rows.max(1)
    };
    sums.par_iter_mut()
        .zip(l.par_chunks(cols).zip(t.par_chunks(cols)))
        .zip(d_rows)
        .with_min_len(min_len)
        .for_each_init(
            || vec![0f32; cols],
            |per, ((s, (l, t)), d)| *s = ew::bce_logits_row(l, t, per, d),
        );
    let shape = tape.shape(logits).to_vec();
    let derivative = derivative.map(|d| Tensor::new(&shape, d));
    let out = Tensor::new(&rows_shape(tape, logits), sums);
    let flops = 5 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "bce_with_logits",
            parents: &[logits, targets],
            flops,
        },
        out,
        || {
            Op::BceWithLogits(BceWithLogits {
                logits,
                targets,
                derivative,
            })
        },
    )
}

impl Backward for BceWithLogits {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let l = vals.get(self.logits);
        let (_, cols) = l.rows_cols();
        let (ld, gd) = (l.data(), g.data());
        let d = || {
            self.derivative
                .as_ref()
                .expect("bce_with_logits: logits needing a gradient keep σ(l) − t")
                .data()
        };
        let parallel = ld.len() >= super::activation::PAR_MIN;
        if grads.is_fresh(self.logits) {
            // ∂/∂l = g·(σ(l) − t), written straight into the first contribution.
            let mut gl = pool::for_overwrite(ld.len());
            let row = |(gl, d): (&mut [f32], &[f32]), g: f32| {
                for (o, &dv) in gl.iter_mut().zip(d) {
                    *o = g * dv;
                }
            };
            rows_with_weights(&mut gl, d(), gd, cols, parallel, row);
            grads.add(self.logits, Tensor::new(l.shape(), gl));
        } else if let Some(gl) = grads.acc(self.logits, vals) {
            // ∂/∂l += g·(σ(l) − t)
            let row = |(gl, d): (&mut [f32], &[f32]), g: f32| ew::axpy(g, d, gl);
            rows_with_weights(gl, d(), gd, cols, parallel, row);
        }
        if let Some(gt) = grads.acc(self.targets, vals) {
            for i in 0..gt.len() {
                gt[i] -= gd[i / cols] * ld[i];
            }
        }
    }
}

/// `f((out_row, x_row), w_r)` for every row r of `out` and `x` (`cols` values
/// each), rows in parallel when `parallel`.
fn rows_with_weights(
    out: &mut [f32],
    x: &[f32],
    w: &[f32],
    cols: usize,
    parallel: bool,
    f: impl Fn((&mut [f32], &[f32]), f32) + Sync + Send,
) {
    if parallel {
        out.par_chunks_mut(cols)
            .zip(x.par_chunks(cols))
            .zip(w.par_iter())
            .for_each(|(pair, &w)| f(pair, w));
    } else {
        out.chunks_mut(cols)
            .zip(x.chunks(cols))
            .zip(w.iter())
            .for_each(|(pair, &w)| f(pair, w));
    }
}

/// Squared error per row.
pub struct SquaredError {
    pred: Var,
    target: Var,
}

/// Σ_j (p_j − t_j)² per row (divide by D yourself for a mean).
pub fn squared_error(tape: &mut Tape, pred: Var, target: Var) -> Var {
    let (rows, cols) = same_shape(tape, "squared_error", &[pred, target]);
    let (p, t) = (tape.value(pred).data(), tape.value(target).data());
    let out = Tensor::new(
        &rows_shape(tape, pred),
        row_sums(rows, cols, |i| (p[i] - t[i]) * (p[i] - t[i])),
    );
    let flops = 3 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "squared_error",
            parents: &[pred, target],
            flops,
        },
        out,
        || Op::SquaredError(SquaredError { pred, target }),
    )
}

impl Backward for SquaredError {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (p, t) = (vals.get(self.pred), vals.get(self.target));
        let (_, cols) = p.rows_cols();
        let (pd, td, gd) = (p.data(), t.data(), g.data());
        if let Some(gp) = grads.acc(self.pred, vals) {
            for i in 0..gp.len() {
                gp[i] += 2.0 * gd[i / cols] * (pd[i] - td[i]);
            }
        }
        if let Some(gt) = grads.acc(self.target, vals) {
            for i in 0..gt.len() {
                gt[i] -= 2.0 * gd[i / cols] * (pd[i] - td[i]);
            }
        }
    }
}

/// Diagonal Gaussian log-density per row.
pub struct GaussianLogDensity {
    x: Var,
    mu: Var,
    logvar: Var,
}

/// Σ_j log N(x_j; μ_j, e^{lv_j}) per row.
pub fn gaussian_log_density(tape: &mut Tape, x: Var, mu: Var, logvar: Var) -> Var {
    let (rows, cols) = same_shape(tape, "gaussian_log_density", &[x, mu, logvar]);
    let (xd, md, ld) = (
        tape.value(x).data(),
        tape.value(mu).data(),
        tape.value(logvar).data(),
    );
    let vals = row_sums(rows, cols, |i| {
        let d = xd[i] - md[i];
        -0.5 * (LOG_2PI + ld[i] + d * d * (-ld[i]).exp())
    });
    let out = Tensor::new(&rows_shape(tape, x), vals);
    let flops = 7 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "gaussian_log_density",
            parents: &[x, mu, logvar],
            flops,
        },
        out,
        || Op::GaussianLogDensity(GaussianLogDensity { x, mu, logvar }),
    )
}

impl Backward for GaussianLogDensity {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (x, mu, lv) = (vals.get(self.x), vals.get(self.mu), vals.get(self.logvar));
        let (_, cols) = x.rows_cols();
        let (xd, md, ld, gd) = (x.data(), mu.data(), lv.data(), g.data());
        let z = |i: usize| (xd[i] - md[i]) * (-ld[i]).exp(); // (x − μ)/σ²
        if let Some(gx) = grads.acc(self.x, vals) {
            for i in 0..gx.len() {
                gx[i] -= gd[i / cols] * z(i);
            }
        }
        if let Some(gm) = grads.acc(self.mu, vals) {
            for i in 0..gm.len() {
                gm[i] += gd[i / cols] * z(i);
            }
        }
        if let Some(gl) = grads.acc(self.logvar, vals) {
            for i in 0..gl.len() {
                let d = xd[i] - md[i];
                gl[i] -= 0.5 * gd[i / cols] * (1.0 - d * d * (-ld[i]).exp());
            }
        }
    }
}

/// KL divergence between diagonal Gaussians, per row; the prior is N(0, I)
/// when `prior` is `None` (the fast path).
pub struct KlNormal {
    mu: Var,
    logvar: Var,
    prior: Option<(Var, Var)>,
}

/// KL(N(μ, e^{lv}) ‖ N(μ₂, e^{lv₂})) summed over the last axis.
pub fn kl_normal(tape: &mut Tape, mu: Var, logvar: Var, mu2: Var, logvar2: Var) -> Var {
    let (rows, cols) = same_shape(tape, "kl_normal", &[mu, logvar, mu2, logvar2]);
    let (m, l, m2, l2) = (
        tape.value(mu).data(),
        tape.value(logvar).data(),
        tape.value(mu2).data(),
        tape.value(logvar2).data(),
    );
    let vals = row_sums(rows, cols, |i| {
        let d = m[i] - m2[i];
        0.5 * (l2[i] - l[i] + (l[i].exp() + d * d) * (-l2[i]).exp() - 1.0)
    });
    let out = Tensor::new(&rows_shape(tape, mu), vals);
    let flops = 10 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "kl_normal",
            parents: &[mu, logvar, mu2, logvar2],
            flops,
        },
        out,
        || {
            Op::KlNormal(KlNormal {
                mu,
                logvar,
                prior: Some((mu2, logvar2)),
            })
        },
    )
}

/// KL(N(μ, e^{lv}) ‖ N(0, I)) summed over the last axis.
pub fn kl_std_normal(tape: &mut Tape, mu: Var, logvar: Var) -> Var {
    let (rows, cols) = same_shape(tape, "kl_std_normal", &[mu, logvar]);
    let (m, l) = (tape.value(mu).data(), tape.value(logvar).data());
    let vals = row_sums(rows, cols, |i| {
        0.5 * (l[i].exp() + m[i] * m[i] - 1.0 - l[i])
    });
    let out = Tensor::new(&rows_shape(tape, mu), vals);
    let flops = 6 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "kl_std_normal",
            parents: &[mu, logvar],
            flops,
        },
        out,
        || {
            Op::KlNormal(KlNormal {
                mu,
                logvar,
                prior: None,
            })
        },
    )
}

impl Backward for KlNormal {
    /// With d = μ − μ₂: ∂μ = d·e^{−lv₂}, ∂lv = ½(e^{lv − lv₂} − 1),
    /// ∂μ₂ = −∂μ, ∂lv₂ = ½(1 − (e^{lv} + d²)·e^{−lv₂}).
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (m, l) = (vals.get(self.mu), vals.get(self.logvar));
        let (_, cols) = m.rows_cols();
        let (md, ld, gd) = (m.data(), l.data(), g.data());
        let n = md.len();
        if self.prior.is_none() {
            // N(0, I): μ₂ = lv₂ = 0, so ∂μ = g·μ and ∂lv = ½g·(e^{lv} − 1) (the
            // general formulas below with exact zeros and ones, row by row).
            if let Some(gm) = grads.acc(self.mu, vals) {
                for ((gm, md), &g) in gm.chunks_mut(cols).zip(md.chunks(cols)).zip(gd) {
                    for (gm, &mv) in gm.iter_mut().zip(md) {
                        *gm += g * mv;
                    }
                }
            }
            if let Some(gl) = grads.acc(self.logvar, vals) {
                for ((gl, ld), &g) in gl.chunks_mut(cols).zip(ld.chunks(cols)).zip(gd) {
                    let half = g * 0.5;
                    for (gl, &lv) in gl.iter_mut().zip(ld) {
                        *gl += half * (lv.exp() - 1.0);
                    }
                }
            }
            return;
        }
        let (m2, l2): (Vec<f32>, Vec<f32>) = match self.prior {
            Some((a, b)) => (vals.get(a).data().to_vec(), vals.get(b).data().to_vec()),
            None => (vec![0.0; n], vec![0.0; n]),
        };
        let inv2 = |i: usize| (-l2[i]).exp();
        if let Some(gm) = grads.acc(self.mu, vals) {
            for i in 0..n {
                gm[i] += gd[i / cols] * (md[i] - m2[i]) * inv2(i);
            }
        }
        if let Some(gl) = grads.acc(self.logvar, vals) {
            for i in 0..n {
                gl[i] += gd[i / cols] * 0.5 * ((ld[i] - l2[i]).exp() - 1.0);
            }
        }
        if let Some((pm, pl)) = self.prior {
            if let Some(gm2) = grads.acc(pm, vals) {
                for i in 0..n {
                    gm2[i] -= gd[i / cols] * (md[i] - m2[i]) * inv2(i);
                }
            }
            if let Some(gl2) = grads.acc(pl, vals) {
                for i in 0..n {
                    let d = md[i] - m2[i];
                    gl2[i] += gd[i / cols] * 0.5 * (1.0 - (ld[i].exp() + d * d) * inv2(i));
                }
            }
        }
    }
}

/// Log-softmax of each row of `l` (rows × cols).
fn log_softmax_rows(l: &[f32], cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; l.len()];
    kr::row_log_softmax(l, cols, &mut out);
    out
}

/// KL(softmax(l) ‖ p) per row for a fixed prior p.
pub struct CategoricalKl {
    logits: Var,
    log_q: Vec<f32>,
    log_prior: Vec<f32>,
}

/// Σ_j q_j (log q_j − log p_j) per row, q = softmax(logits). `log_prior`
/// has one entry per class (shared by all rows) or one row per example.
pub fn categorical_kl(tape: &mut Tape, logits: Var, log_prior: &[f32]) -> Var {
    let vl = tape.value(logits);
    let (rows, cols) = vl.rows_cols();
    assert!(
        log_prior.len() == cols || log_prior.len() == rows * cols,
        "categorical_kl: prior of {} entries for {} classes",
        log_prior.len(),
        cols
    );
    let lp: Vec<f32> = if log_prior.len() == cols {
        log_prior.repeat(rows)
    } else {
        log_prior.to_vec()
    };
    let log_q = log_softmax_rows(vl.data(), cols);
    let out = Tensor::new(
        &rows_shape(tape, logits),
        row_sums(rows, cols, |i| log_q[i].exp() * (log_q[i] - lp[i])),
    );
    let flops = 8 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "categorical_kl",
            parents: &[logits],
            flops,
        },
        out,
        || {
            Op::CategoricalKl(CategoricalKl {
                logits,
                log_q,
                log_prior: lp,
            })
        },
    )
}

impl Backward for CategoricalKl {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = vals.get(self.logits).rows_cols();
        if let Some(gl) = grads.acc(self.logits, vals) {
            let rows = self.log_q.chunks(cols).zip(self.log_prior.chunks(cols));
            for (((gl, (lq, lp)), &g), &kl) in
                gl.chunks_mut(cols).zip(rows).zip(g.data()).zip(out.data())
            {
                for ((o, &lq), &lp) in gl.iter_mut().zip(lq).zip(lp) {
                    *o += g * lq.exp() * ((lq - lp) - kl);
                }
            }
        }
    }
}

/// Entropy of softmax(l) per row.
pub struct CategoricalEntropy {
    logits: Var,
    log_q: Vec<f32>,
}

/// −Σ_j q_j log q_j per row, q = softmax(logits).
pub fn categorical_entropy(tape: &mut Tape, logits: Var) -> Var {
    let vl = tape.value(logits);
    let (rows, cols) = vl.rows_cols();
    let log_q = log_softmax_rows(vl.data(), cols);
    let out = Tensor::new(
        &rows_shape(tape, logits),
        row_sums(rows, cols, |i| -log_q[i].exp() * log_q[i]),
    );
    let flops = 7 * (rows * cols) as u64;
    tape.push(
        Record {
            name: "categorical_entropy",
            parents: &[logits],
            flops,
        },
        out,
        || Op::CategoricalEntropy(CategoricalEntropy { logits, log_q }),
    )
}

impl Backward for CategoricalEntropy {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = vals.get(self.logits).rows_cols();
        if let Some(gl) = grads.acc(self.logits, vals) {
            let rows = gl.chunks_mut(cols).zip(self.log_q.chunks(cols));
            for (((gl, lq), &g), &h) in rows.zip(g.data()).zip(out.data()) {
                for (o, &lq) in gl.iter_mut().zip(lq) {
                    *o -= g * lq.exp() * (lq + h);
                }
            }
        }
    }
}

/// Weighted cross-entropy per row.
pub struct CrossEntropy {
    logits: Var,
    log_q: Vec<f32>,
    labels: Vec<usize>,
    weights: Option<Vec<f32>>,
}

/// −w_n·log softmax(l_n)[y_n] per row; `weights` defaults to 1.
pub fn cross_entropy(
    tape: &mut Tape,
    logits: Var,
    labels: &[usize],
    weights: Option<&[f32]>,
) -> Var {
    let vl = tape.value(logits);
    let (rows, cols) = vl.rows_cols();
    assert_eq!(
        labels.len(),
        rows,
        "cross_entropy: {} labels for {} rows",
        labels.len(),
        rows
    );
    if let Some(w) = weights {
        assert_eq!(
            w.len(),
            rows,
            "cross_entropy: {} weights for {} rows",
            w.len(),
            rows
        );
    }
    let log_q = log_softmax_rows(vl.data(), cols);
    let vals: Vec<f32> = labels
        .iter()
        .enumerate()
        .map(|(r, &y)| {
            assert!(
                y < cols,
                "cross_entropy: label {y} out of range for {cols} classes"
            );
            -weights.map(|w| w[r]).unwrap_or(1.0) * log_q[r * cols + y]
        })
        .collect();
    let out = Tensor::new(&rows_shape(tape, logits), vals);
    let flops = 5 * (rows * cols) as u64;
    let (labels, weights) = (labels.to_vec(), weights.map(|w| w.to_vec()));
    tape.push(
        Record {
            name: "cross_entropy",
            parents: &[logits],
            flops,
        },
        out,
        || {
            Op::CrossEntropy(CrossEntropy {
                logits,
                log_q,
                labels,
                weights,
            })
        },
    )
}

impl Backward for CrossEntropy {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (_, cols) = vals.get(self.logits).rows_cols();
        if let Some(gl) = grads.acc(self.logits, vals) {
            for (r, &y) in self.labels.iter().enumerate() {
                let w = self.weights.as_ref().map(|w| w[r]).unwrap_or(1.0) * g.data()[r];
                for j in 0..cols {
                    let q = self.log_q[r * cols + j].exp();
                    gl[r * cols + j] += w * (q - if j == y { 1.0 } else { 0.0 });
                }
            }
        }
    }
}
