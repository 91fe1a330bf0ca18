//! Batch normalisation over the channel axis 1 of (N, C) or (N, C, H, W).
//!
//! Training: μ_c, σ²_c are the batch mean and (biased) variance over N·H·W,
//! x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; running statistics move by
//! r ← (1 − m)·r + m·batch (unbiased variance, as PyTorch).
//! ∂β = Σ g, ∂γ = Σ g·x̂, ∂x = γ/√(σ² + ε) · (g − mean(g) − x̂·mean(g·x̂)).
//! Evaluation: the running statistics replace the batch ones and are
//! constants: ∂x = γ/√(r_var + ε) · g.

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
    let training = tape.is_training();
    let (gamma, beta) = (tape.param(p.gamma), tape.param(p.beta));
    let vx = tape.value(x);
    let (n, c, s) = dims(vx.shape());
    let count = (n * s) as f64;
    let xd = vx.data();
    let (mean, var): (Vec<f64>, Vec<f64>) = if training {
        assert!(
            n * s > 1,
            "batch_norm in training mode needs more than one value per channel"
        );
        (0..c)
            .map(|ch| {
                let mut sum = 0f64;
                for i in 0..n {
                    sum += xd[(i * c + ch) * s..(i * c + ch + 1) * s]
                        .iter()
                        .map(|&v| v as f64)
                        .sum::<f64>();
                }
                let mu = sum / count;
                let mut sq = 0f64;
                for i in 0..n {
                    sq += xd[(i * c + ch) * s..(i * c + ch + 1) * s]
                        .iter()
                        .map(|&v| (v as f64 - mu).powi(2))
                        .sum::<f64>();
                }
                (mu, sq / count)
            })
            .unzip()
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
    let mut x_hat = Tensor::zeros(vx.shape());
    let mut out = Tensor::zeros(vx.shape());
    for i in 0..n {
        for ch in 0..c {
            let r = (i * c + ch) * s..(i * c + ch + 1) * s;
            let (mu, is) = (mean[ch] as f32, inv_std[ch]);
            for ((h, y), &v) in x_hat.data_mut()[r.clone()]
                .iter_mut()
                .zip(&mut out.data_mut()[r.clone()])
                .zip(&xd[r])
            {
                *h = (v - mu) * is;
                *y = gd[ch] * *h + bd[ch];
            }
        }
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
            })
        },
    )
}

impl Backward for BatchNorm {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let shape = vals.get(self.x).shape();
        let (n, c, s) = dims(shape);
        let (gd, hd) = (g.data(), self.x_hat.data());
        // Per-channel Σg and Σg·x̂, in f64 and in a fixed order.
        let mut sum_g = vec![0f64; c];
        let mut sum_gh = vec![0f64; c];
        for i in 0..n {
            for ch in 0..c {
                for k in (i * c + ch) * s..(i * c + ch + 1) * s {
                    sum_g[ch] += gd[k] as f64;
                    sum_gh[ch] += (gd[k] * hd[k]) as f64;
                }
            }
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
        let gamma = vals.get(self.gamma).data();
        if let Some(gx) = grads.acc(self.x, vals) {
            let count = (n * s) as f64;
            for i in 0..n {
                for ch in 0..c {
                    let scale = gamma[ch] * self.inv_std[ch];
                    let (mg, mgh) = ((sum_g[ch] / count) as f32, (sum_gh[ch] / count) as f32);
                    for k in (i * c + ch) * s..(i * c + ch + 1) * s {
                        gx[k] += if self.training {
                            scale * (gd[k] - mg - hd[k] * mgh)
                        } else {
                            scale * gd[k]
                        };
                    }
                }
            }
        }
    }
}
