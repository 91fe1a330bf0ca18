//! The categorical VAE's settings ([`super::catvae`]): sizes, temperature
//! schedule, loss weights, assignment and reconstruction choices, with
//! their validation (bad values name the flag and exit 2).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The categorical VAE's settings (`catvae` in config.json; every field
/// has a default, so configurations written before the model load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatVaeOptions {
    /// Width F of the feature f.
    pub feature_dim: usize,
    /// Clusters K (`None`: the number of dataset classes).
    pub clusters: Option<usize>,
    /// Hidden widths of the logit MLP F–…–K.
    pub logit_hidden: Vec<usize>,
    /// Initial Gumbel-Softmax temperature τ₀.
    pub tau: f32,
    /// Floor of the annealed temperature.
    pub tau_min: f32,
    /// Decay rate r of τ_e = max(τ_min, τ₀·e^{−r·e}) (0: τ fixed).
    pub tau_decay: f32,
    /// w_R.
    pub w_rec: f32,
    /// w_C.
    pub w_cat: f32,
    /// w_A.
    pub w_assign: f32,
    /// w_F.
    pub w_feature: f32,
    /// w_CE.
    pub w_ce: f32,
    /// α: weight of the labelled rows in L_F (1 − α for the unlabelled).
    pub feature_alpha: f32,
    /// Neighbours of the assignment (1: the paper's 1-NN).
    pub assign_k: usize,
    /// Reconstruction loss: `mse` or `bce`.
    pub recon: String,
    /// L2-normalise the feature.
    pub feature_norm: bool,
    /// Feed the feature to the decoder beside c.
    pub decoder_feature: bool,
}

impl Default for CatVaeOptions {
    /// The paper's settings (DESIGN.md §4): F = 50, MLP 50–25, τ = 1 fixed,
    /// w_R = w_C = w_F = 1, w_A = 5, α = 0.6, 1-NN, MSE.
    fn default() -> Self {
        CatVaeOptions {
            feature_dim: 50,
            clusters: None,
            logit_hidden: vec![50, 25],
            tau: 1.0,
            tau_min: 0.5,
            tau_decay: 0.0,
            w_rec: 1.0,
            w_cat: 1.0,
            w_assign: 5.0,
            w_feature: 1.0,
            w_ce: 0.0,
            feature_alpha: 0.6,
            assign_k: 1,
            recon: "mse".into(),
            feature_norm: true,
            decoder_feature: true,
        }
    }
}

impl CatVaeOptions {
    /// Checks every value; the error names the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Usage(m));
        if self.feature_dim == 0 {
            return bad("--feature-dim must be at least 1".into());
        }
        if self.clusters.is_some_and(|k| k < 2) {
            return bad("--clusters must be at least 2".into());
        }
        if self.logit_hidden.contains(&0) {
            return bad("logit_hidden widths must be positive".into());
        }
        for (flag, v) in [("--tau", self.tau), ("--tau-min", self.tau_min)] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(format!("{flag} {v} must be a positive number"));
            }
        }
        for (flag, v) in [
            ("--tau-decay", self.tau_decay),
            ("--w-rec", self.w_rec),
            ("--w-cat", self.w_cat),
            ("--w-assign", self.w_assign),
            ("--w-feature", self.w_feature),
            ("--w-ce", self.w_ce),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(format!("{flag} {v} must be a non-negative number"));
            }
        }
        if !(0.0..=1.0).contains(&self.feature_alpha) {
            return bad(format!(
                "--feature-alpha {} must lie in [0, 1]",
                self.feature_alpha
            ));
        }
        if self.assign_k == 0 {
            return bad("--assign-k must be at least 1 (1: nearest neighbour)".into());
        }
        if !matches!(self.recon.as_str(), "mse" | "bce") {
            return bad(format!("--recon {} must be mse or bce", self.recon));
        }
        Ok(())
    }

    /// τ at `epoch`: max(τ_min, τ₀·e^{−r·epoch}), or τ₀ when r = 0.
    pub fn tau_at(&self, epoch: usize) -> f32 {
        if self.tau_decay == 0.0 {
            self.tau
        } else {
            (self.tau * (-self.tau_decay * epoch as f32).exp()).max(self.tau_min)
        }
    }
}
