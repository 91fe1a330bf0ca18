//! Batch normalisation over the channel axis 1 of (N, C) or (N, C, H, W).
//!
//! Training: μ_c, σ²_c are the batch mean and (biased) variance over N·H·W,
//! x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; running statistics move by
//! r ← (1 − m)·r + m·batch (unbiased variance, as PyTorch).
//! ∂β = Σ g, ∂γ = Σ g·x̂, ∂x = γ/√(σ² + ε) · (g − mean(g) − x̂·mean(g·x̂)).
//! Evaluation: the running statistics replace the batch ones and are
//! constants: ∂x = γ/√(r_var + ε) · g.
//!
//! Weighted rows ([`batch_norm_weighted`]): with row weights w_n and
//! p_n = w_n / (S·Σ_m w_m), μ = Σ p_n·x_n and σ² = Σ p_n·(x_n − μ)² (sums
//! over rows and the S positions of a row), and
//! ∂x_n = γ/√(σ² + ε) · (g_n − p_n·Σg − p_n·x̂_n·Σg·x̂), the unweighted formula
//! with 1/(N·S) replaced by p_n. Class-enumerated batches use it so that an
//! unlabelled example tiled K times (weight 1/K per copy) counts once, like a
//! labelled one; the running variance is unbiased with S·Σw examples.

use rayon::prelude::*;
use sparselabel_kernels::reduce;

use super::activation::PAR_MIN;
use super::rectifier::Rectifier;
use crate::autograd::{Backward, Grads, Op, ParamId, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// A batch-norm node.
pub struct BatchNorm {
    x: Var,
    gamma: Var,
    beta: Var,
    x_hat: Tensor,
    inv_std: Vec<f32>,
    training: bool,
    /// p_n per row (weighted statistics), `None` for plain 1/(N·S).
    row_p: Option<Vec<f32>>,
    /// Rectifier applied to the output in place (see [`batch_norm_rectified`]).
    act: Option<Rectifier>,
}

/// The parameters and buffers of one batch-norm layer.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormParams {
    /// Scale γ (C).
    pub gamma: ParamId,
    /// Shift β (C).
    pub beta: ParamId,
    /// Running mean buffer (C).
    pub running_mean: ParamId,
    /// Running variance buffer (C).
    pub running_var: ParamId,
    /// Update rate of the running statistics.
    pub momentum: f32,
    /// Added to the variance.
    pub eps: f32,
}

/// (N, C, S) view: S = H·W (1 for 2-D input).
fn dims(shape: &[usize]) -> (usize, usize, usize) {
    assert!(
        shape.len() == 2 || shape.len() == 4,
        "batch_norm needs (N, C) or (N, C, H, W), got {shape:?}"
    );
    (shape[0], shape[1], shape[2..].iter().product())
}

/// Normalises x per channel (batch statistics in training mode, running
/// statistics in evaluation mode) and applies γ, β.
pub fn batch_norm(tape: &mut Tape, x: Var, p: &BatchNormParams) -> Var {
    batch_norm_weighted(tape, x, p, None)
}

/// As [`batch_norm`] followed by a rectifier, in one node: the rectifier runs
/// over the normalised output in place and its derivative is read from the
/// output's sign (values and gradients equal the two separate ops).
pub fn batch_norm_rectified(
    tape: &mut Tape,
    x: Var,
    p: &BatchNormParams,
    act: Option<Rectifier>,
) -> Var {
    batch_norm_node(tape, x, p, None, act)
}

/// As [`batch_norm`], with the training statistics weighted per row by
/// `weights` (N, non-negative, positive sum); `None` weighs rows equally.
pub fn batch_norm_weighted(
    tape: &mut Tape,
    x: Var,
    p: &BatchNormParams,
    weights: Option<&[f32]>,
) -> Var {
    batch_norm_node(tape, x, p, weights, None)
}

/// The batch-norm node: weighted statistics, then an optional rectifier.
fn batch_norm_node(
    tape: &mut Tape,
    x: Var,
    p: &BatchNormParams,
    weights: Option<&[f32]>,
    act: Option<Rectifier>,
) -> Var {
    let training = tape.is_training();
    let (gamma, beta) = (tape.param(p.gamma), tape.param(p.beta));
    let vx = tape.value(x);
    let (n, c, s) = dims(vx.shape());
    let xd = vx.data();
    let weights = weights.filter(|_| training);
    if let Some(w) = weights {
        assert_eq!(w.len(), n, "batch_norm_weighted: one weight per row");
    }
    let w_sum: f64 = weights.map_or(0.0, |w| w.iter().map(|&v| v as f64).sum());
    assert!(
        weights.is_none() || w_sum > 0.0,
        "batch_norm_weighted: the weights sum to zero"
    );
    // Effective number of values per channel (N·S unweighted).
    let count = match weights {
        Some(_) => w_sum * s as f64,
        None => (n * s) as f64,
    };
    let row_p: Option<Vec<f64>> = weights.map(|w| w.iter().map(|&v| v as f64 / count).collect());
    let (mean, var): (Vec<f64>, Vec<f64>) = if training {
        assert!(
            n * s > 1,
            "batch_norm in training mode needs more than one value per channel"
        );
        match (&row_p, s) {
            (Some(rp), 1) => weighted_rows_stats(xd, n, c, rp),
            (Some(rp), _) => (0..c)
                .map(|ch| {
                    let row = |i: usize| &xd[(i * c + ch) * s..(i * c + ch + 1) * s];
                    let mu: f64 = (0..n)
                        .map(|i| rp[i] * row(i).iter().map(|&v| v as f64).sum::<f64>())
                        .sum();
                    let sq: f64 = (0..n)
                        .map(|i| {
                            rp[i] * row(i).iter().map(|&v| (v as f64 - mu).powi(2)).sum::<f64>()
                        })
                        .sum();
                    (mu, sq)
                })
                .unzip(),
            (None, 1) => rows_stats(xd, n, c, count),
            (None, _) => per_channel(c, n * c * s, |ch| {
                // Images in order, each plane summed in f64 lanes.
                let plane = |i: usize| &xd[(i * c + ch) * s..(i * c + ch + 1) * s];
                let sum: f64 = (0..n).map(|i| reduce::sum_f64(plane(i))).sum();
                let mu = sum / count;
                let sq: f64 = (0..n).map(|i| reduce::sum_sq_dev_f64(plane(i), mu)).sum();
                (mu, sq / count)
            }),
        }
    } else {
        let store = tape.store();
        (
            store
                .value(p.running_mean)
                .data()
                .iter()
                .map(|&v| v as f64)
                .collect(),
            store
                .value(p.running_var)
                .data()
                .iter()
                .map(|&v| v as f64)
                .collect(),
        )
    };
    let inv_std: Vec<f32> = var
        .iter()
        .map(|v| (1.0 / (v + p.eps as f64).sqrt()) as f32)
        .collect();
    let (gd, bd) = (tape.value(gamma).data(), tape.value(beta).data());
    // Every element of both is written below.
    let mut x_hat = Tensor::for_overwrite(vx.shape());
    let mut out = Tensor::for_overwrite(vx.shape());
    let mu32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    if s == 1 {
        // (N, C): row by row, the same arithmetic per element.
        for ((hr, yr), xr) in x_hat
            .data_mut()
            .chunks_exact_mut(c)
            .zip(out.data_mut().chunks_exact_mut(c))
            .zip(xd.chunks_exact(c))
        {
            for ch in 0..c {
                let h = (xr[ch] - mu32[ch]) * inv_std[ch];
                hr[ch] = h;
                yr[ch] = gd[ch] * h + bd[ch];
            }
        }
    } else {
        // Image by image (in parallel for large inputs: each element's
        // arithmetic is the same whatever the split).
        let image = |((hi, yi), xi): ((&mut [f32], &mut [f32]), &[f32])| {
            for ch in 0..c {
                let r = ch * s..(ch + 1) * s;
                let (mu, is) = (mu32[ch], inv_std[ch]);
                let yr = &mut yi[r.clone()];
                for ((h, y), &v) in hi[r.clone()].iter_mut().zip(yr.iter_mut()).zip(&xi[r]) {
                    *h = (v - mu) * is;
                    *y = gd[ch] * *h + bd[ch];
                }
                if let Some(act) = act {
                    act.forward(yr);
                }
            }
        };
        let len = c * s;
        if xd.len() >= PAR_MIN {
            x_hat
                .data_mut()
                .par_chunks_mut(len)
                .zip(out.data_mut().par_chunks_mut(len))
                .zip(xd.par_chunks(len))
                .for_each(image);
        } else {
            x_hat
                .data_mut()
                .chunks_mut(len)
                .zip(out.data_mut().chunks_mut(len))
                .zip(xd.chunks(len))
                .for_each(image);
        }
    }
    if let (Some(act), 1) = (act, s) {
        act.forward_par(out.data_mut());
    }
    if training && tape.grad_enabled() {
        let store = tape.store();
        let m = p.momentum;
        let unbias = if count > 1.0 {
            count / (count - 1.0)
        } else {
            1.0
        };
        let rm: Vec<f32> = store
            .value(p.running_mean)
            .data()
            .iter()
            .zip(&mean)
            .map(|(&r, &b)| (1.0 - m) * r + m * b as f32)
            .collect();
        let rv: Vec<f32> = store
            .value(p.running_var)
            .data()
            .iter()
            .zip(&var)
            .map(|(&r, &b)| (1.0 - m) * r + m * (b * unbias) as f32)
            .collect();
        tape.update_buffer(p.running_mean, Tensor::new(&[c], rm));
        tape.update_buffer(p.running_var, Tensor::new(&[c], rv));
    }
    let flops = 8 * out.len() as u64;
    tape.push(
        Record {
            name: "batch_norm",
            parents: &[x, gamma, beta],
            flops,
        },
        out,
        || {
            Op::BatchNorm(BatchNorm {
                x,
                gamma,
                beta,
                x_hat,
                inv_std,
                training,
                row_p: row_p.map(|rp| rp.iter().map(|&v| v as f32).collect()),
                act,
            })
        },
    )
}

/// `f(ch)` for every channel, in parallel when the tensor has at least
/// [`PAR_MIN`] values (each channel's result does not depend on the split).
fn per_channel(
    c: usize,
    len: usize,
    f: impl Fn(usize) -> (f64, f64) + Sync + Send,
) -> (Vec<f64>, Vec<f64>) {
    let pairs: Vec<(f64, f64)> = if len >= PAR_MIN {
        (0..c).into_par_iter().map(f).collect()
    } else {
        (0..c).map(f).collect()
    };
    pairs.into_iter().unzip()
}

/// Mean and biased variance per channel of (N, C) rows, read row by row
/// (the per-channel summation order, rows ascending, is the one of the
/// (N, C, S) loops, so results are identical, only cache-friendly).
fn rows_stats(xd: &[f32], n: usize, c: usize, count: f64) -> (Vec<f64>, Vec<f64>) {
    let mut sum = vec![0f64; c];
    for row in xd.chunks_exact(c).take(n) {
        for (acc, &v) in sum.iter_mut().zip(row) {
            *acc += v as f64;
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let mut sq = vec![0f64; c];
    for row in xd.chunks_exact(c).take(n) {
        for ((acc, &v), mu) in sq.iter_mut().zip(row).zip(&mean) {
            *acc += (v as f64 - mu).powi(2);
        }
    }
    (mean, sq.iter().map(|q| q / count).collect())
}

/// Weighted mean and variance per channel of (N, C) rows with row weights
/// `rp` already divided by their sum, read row by row.
fn weighted_rows_stats(xd: &[f32], n: usize, c: usize, rp: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0f64; c];
    for (row, &p) in xd.chunks_exact(c).take(n).zip(rp) {
        for (acc, &v) in mean.iter_mut().zip(row) {
            *acc += p * v as f64;
        }
    }
    let mut var = vec![0f64; c];
    for (row, &p) in xd.chunks_exact(c).take(n).zip(rp) {
        for ((acc, &v), mu) in var.iter_mut().zip(row).zip(&mean) {
            *acc += p * (v as f64 - mu).powi(2);
        }
    }
    (mean, var)
}

impl BatchNorm {
    /// Per-channel Σg and Σg·x̂ (in f64, in a fixed order); adds ∂β = Σg and
    /// ∂γ = Σg·x̂ to their gradients.
    fn sums(&self, vals: &Values, g: &[f32], grads: &mut Grads) -> (Vec<f64>, Vec<f64>) {
        let (n, c, s) = dims(vals.get(self.x).shape());
        let hd = self.x_hat.data();
        let mut sum_g = vec![0f64; c];
        let mut sum_gh = vec![0f64; c];
        if s == 1 {
            for (gr, hr) in g.chunks_exact(c).zip(hd.chunks_exact(c)) {
                for ch in 0..c {
                    sum_g[ch] += gr[ch] as f64;
                    sum_gh[ch] += (gr[ch] * hr[ch]) as f64;
                }
            }
        } else {
            // Each channel in image order, each plane summed in f64 lanes.
            (sum_g, sum_gh) = per_channel(c, g.len(), |ch| {
                let (mut a, mut b) = (0f64, 0f64);
                for i in 0..n {
                    let r = (i * c + ch) * s..(i * c + ch + 1) * s;
                    let (pa, pb) = reduce::sum_and_dot_f64(&g[r.clone()], &hd[r]);
                    a += pa;
                    b += pb;
                }
                (a, b)
            });
        }
        if let Some(gb) = grads.acc(self.beta, vals) {
            for ch in 0..c {
                gb[ch] += sum_g[ch] as f32;
            }
        }
        if let Some(gg) = grads.acc(self.gamma, vals) {
            for ch in 0..c {
                gg[ch] += sum_gh[ch] as f32;
            }
        }
        (sum_g, sum_gh)
    }

    /// Per channel: γ/σ and the two means subtracted from g (mean(g), mean(g·x̂)
    /// unweighted; Σg·p_n, Σg·x̂·p_n per row when weighted, see [`Self::row_means`]).
    fn scale_and_plain(
        &self,
        vals: &Values,
        sums: &(Vec<f64>, Vec<f64>),
    ) -> (Vec<f32>, Vec<(f32, f32)>) {
        let (n, c, s) = dims(vals.get(self.x).shape());
        let gamma = vals.get(self.gamma).data();
        let count = (n * s) as f64;
        let scale = (0..c).map(|ch| gamma[ch] * self.inv_std[ch]).collect();
        let plain = (0..c)
            .map(|ch| ((sums.0[ch] / count) as f32, (sums.1[ch] / count) as f32))
            .collect();
        (scale, plain)
    }

    /// The means subtracted from row `i`'s gradient in channel `ch`.
    fn row_means(
        &self,
        sums: &(Vec<f64>, Vec<f64>),
        plain: &[(f32, f32)],
        i: usize,
        ch: usize,
    ) -> (f32, f32) {
        match &self.row_p {
            Some(rp) => {
                let p = rp[i] as f64;
                ((sums.0[ch] * p) as f32, (sums.1[ch] * p) as f32)
            }
            None => plain[ch],
        }
    }

    /// ∂x of an (N, C, S) input with S > 1, image by image (in parallel for large
    /// inputs): `dst += ∂x` from `g`, or, with `g` = `None`, `dst ← ∂x` computed
    /// from the gradient already in `dst`. Each element's arithmetic is the same.
    fn image_grads(
        &self,
        vals: &Values,
        sums: &(Vec<f64>, Vec<f64>),
        dst: &mut [f32],
        g: Option<&[f32]>,
    ) {
        let (_, c, s) = dims(vals.get(self.x).shape());
        let (scale, plain) = self.scale_and_plain(vals, sums);
        let training = self.training;
        let image = |(i, (di, hi)): (usize, (&mut [f32], &[f32]))| {
            for (ch, &sc) in scale.iter().enumerate() {
                let r = ch * s..(ch + 1) * s;
                let (mg, mgh) = self.row_means(sums, &plain, i, ch);
                let (d, h) = (&mut di[r.clone()], &hi[r.clone()]);
                match (g, training) {
                    (Some(g), true) => {
                        let g = &g[i * c * s..][r];
                        for ((o, &gv), &hv) in d.iter_mut().zip(g).zip(h) {
                            *o += sc * (gv - mg - hv * mgh);
                        }
                    }
                    (None, true) => {
                        for (o, &hv) in d.iter_mut().zip(h) {
                            *o = sc * (*o - mg - hv * mgh);
                        }
                    }
                    (Some(g), false) => {
                        let g = &g[i * c * s..][r];
                        for (o, &gv) in d.iter_mut().zip(g) {
                            *o += sc * gv;
                        }
                    }
                    (None, false) => d.iter_mut().for_each(|o| *o *= sc),
                }
            }
        };
        let (len, hd) = (c * s, self.x_hat.data());
        if dst.len() >= PAR_MIN {
            dst.par_chunks_mut(len)
                .zip(hd.par_chunks(len))
                .enumerate()
                .for_each(image);
        } else {
            dst.chunks_mut(len)
                .zip(hd.chunks(len))
                .enumerate()
                .for_each(image);
        }
    }
}

impl BatchNorm {
    /// The backward of the normalisation itself, for the output gradient `gd`
    /// (already through the rectifier's derivative, if any).
    fn backward_plain(&self, vals: &Values, gd: &[f32], grads: &mut Grads) {
        let (_, c, s) = dims(vals.get(self.x).shape());
        let hd = self.x_hat.data();
        let sums = self.sums(vals, gd, grads);
        let Some(gx) = grads.acc(self.x, vals) else {
            return;
        };
        if s == 1 && self.training {
            // (N, C) in training mode: row by row, the same arithmetic.
            let (scale, plain) = self.scale_and_plain(vals, &sums);
            let rows = gx.chunks_exact_mut(c).zip(gd.chunks_exact(c));
            for (i, ((xr, gr), hr)) in rows.zip(hd.chunks_exact(c)).enumerate() {
                for ch in 0..c {
                    let (mg, mgh) = self.row_means(&sums, &plain, i, ch);
                    xr[ch] += scale[ch] * (gr[ch] - mg - hr[ch] * mgh);
                }
            }
            return;
        }
        self.image_grads(vals, &sums, gx, Some(gd));
    }
}

impl Backward for BatchNorm {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        match self.act {
            None => self.backward_plain(vals, g.data(), grads),
            Some(act) => {
                let mut gz = g.clone();
                act.mask(out.data(), gz.data_mut());
                self.backward_plain(vals, gz.data(), grads);
            }
        }
    }

    /// The rectifier's derivative is applied over g's buffer; the input's first
    /// gradient is then computed there too (no zeroed buffer).
    fn backward_owned(
        &self,
        vals: &Values,
        out: &Tensor,
        mut g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        if let Some(act) = self.act {
            act.mask(out.data(), g.data_mut());
        }
        let (_, _, s) = dims(vals.get(self.x).shape());
        if s == 1 || !grads.is_fresh(self.x) {
            self.backward_plain(vals, g.data(), grads);
            return None;
        }
        let sums = self.sums(vals, g.data(), grads);
        self.image_grads(vals, &sums, g.data_mut(), None);
        grads.add(self.x, g);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::ParamStore;
    use crate::nn::BatchNorm as Layer;

    /// Output and input gradient of batch-norm on `x`, with `weights`.
    fn run(store: &ParamStore, bn: &Layer, x: &Tensor, w: Option<&[f32]>) -> Vec<Vec<u32>> {
        let mut tape = Tape::new(store);
        let xv = tape.input(x.clone());
        let y = bn.forward_weighted(&mut tape, xv, w);
        let sq = crate::ops::mul(&mut tape, y, y);
        let loss = crate::ops::sum_all(&mut tape, sq);
        let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        let out = bits(tape.value(y));
        let grads = tape.backward(loss).unwrap();
        let mut all = vec![out, bits(grads.input(xv).unwrap())];
        all.push(bits(grads.param(bn.params.gamma).unwrap()));
        all.push(bits(grads.param(bn.params.beta).unwrap()));
        all.extend(grads.buffer_updates().map(|(_, t)| bits(t)));
        all
    }

    #[test]
    fn row_major_statistics_of_2d_input_equal_the_general_loops_bit_for_bit() {
        // (N, C) takes the row-major fast path; the same values as
        // (N, C, 1, 1) take the general (N, C, S) loops.
        let mut store = ParamStore::new();
        let bn = Layer::new(&mut store, "bn", 7);
        let mut rng = crate::rng::stream(3, "bn");
        let data: Vec<f32> = (0..13 * 7)
            .map(|_| rand::RngExt::random::<f32>(&mut rng) * 4.0 - 1.0)
            .collect();
        let flat = Tensor::new(&[13, 7], data.clone());
        let image = Tensor::new(&[13, 7, 1, 1], data);
        let w: Vec<f32> = (0..13).map(|i| 0.25 + (i % 3) as f32).collect();
        for weights in [None, Some(w.as_slice())] {
            assert_eq!(
                run(&store, &bn, &flat, weights),
                run(&store, &bn, &image, weights),
                "weights {weights:?}"
            );
        }
    }
}
