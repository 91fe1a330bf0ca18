//! Observation models p(x | ·) shared by the VAEs: the decoder's output
//! width and the per-example negative log-likelihood.

use serde::{Deserialize, Serialize};

use crate::autograd::{Tape, Var};
use crate::ops;

/// The observation model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Likelihood {
    /// Independent Bernoulli features in [0, 1] (logits from the decoder).
    Bernoulli,
    /// Diagonal Gaussian with a mean and a log-variance from the decoder
    /// (log-variance clamped to [−8, 8] for stability), for continuous
    /// features such as sensor data or latent codes.
    Gaussian,
    /// Diagonal Gaussian with a mean from the decoder and a fixed standard
    /// deviation σ for every feature (Willetts et al. use σ = 0.01 for
    /// sensor features).
    GaussianFixed {
        /// The standard deviation σ > 0.
        sigma: f32,
    },
}

impl Likelihood {
    /// Parses `bernoulli`, `gaussian` (learnt variance) or `gaussian:SIGMA`
    /// (fixed standard deviation).
    pub fn parse(s: &str) -> crate::Result<Self> {
        let bad = || {
            crate::Error::Usage(format!(
                "likelihood '{s}' must be bernoulli, gaussian or gaussian:SIGMA (SIGMA > 0)"
            ))
        };
        match s {
            "bernoulli" => Ok(Likelihood::Bernoulli),
            "gaussian" => Ok(Likelihood::Gaussian),
            _ => {
                let sigma: f32 = s
                    .strip_prefix("gaussian:")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(bad)?;
                if sigma.is_finite() && sigma > 0.0 {
                    Ok(Likelihood::GaussianFixed { sigma })
                } else {
                    Err(bad())
                }
            }
        }
    }

    /// True for the Gaussian models (continuous features, no binarisation).
    pub fn is_continuous(self) -> bool {
        !matches!(self, Likelihood::Bernoulli)
    }

    /// The mean of p(x | out) for decoder output `out` over `dim` features:
    /// σ(out) for Bernoulli, the mean columns for the Gaussians (pictures).
    pub fn mean(self, tape: &mut Tape, out: Var, dim: usize) -> Var {
        match self {
            Likelihood::Bernoulli => ops::sigmoid(tape, out),
            Likelihood::Gaussian => ops::slice(tape, out, 1, 0, dim),
            Likelihood::GaussianFixed { .. } => out,
        }
    }

    /// Decoder output width for `dim` features.
    pub fn output_width(self, dim: usize) -> usize {
        match self {
            Likelihood::Bernoulli | Likelihood::GaussianFixed { .. } => dim,
            Likelihood::Gaussian => 2 * dim,
        }
    }

    /// −log p(x | out) per row for decoder output `out` and data x: (B, D).
    /// `mask` (D), if given, zeroes the Gaussian's mean and log-variance of
    /// ignored features (fed as zeros), so they add a constant only.
    pub fn negative_log_likelihood(
        self,
        tape: &mut Tape,
        out: Var,
        x: Var,
        mask: Option<Var>,
    ) -> Var {
        match self {
            Likelihood::Bernoulli => ops::bce_with_logits(tape, out, x),
            Likelihood::Gaussian => {
                let d = tape.shape(x)[1];
                let mut mean = ops::slice(tape, out, 1, 0, d);
                let lv = ops::slice(tape, out, 1, d, d);
                let mut lv = ops::clamp(tape, lv, -8.0, 8.0);
                if let Some(m) = mask {
                    mean = ops::mul(tape, mean, m);
                    lv = ops::mul(tape, lv, m);
                }
                let log_p = ops::gaussian_log_density(tape, x, mean, lv);
                ops::neg(tape, log_p)
            }
            Likelihood::GaussianFixed { sigma } => {
                let shape = tape.shape(x).to_vec();
                let mut mean = out;
                let lv = crate::tensor::Tensor::full(&shape, 2.0 * sigma.ln());
                let mut lv = tape.constant(lv);
                if let Some(m) = mask {
                    mean = ops::mul(tape, mean, m);
                    lv = ops::mul(tape, lv, m);
                }
                let log_p = ops::gaussian_log_density(tape, x, mean, lv);
                ops::neg(tape, log_p)
            }
        }
    }
}
