//! Settings of cluster-based active labelling (`clustervae`, `label`).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the latent codes are grouped into clusters whose centres are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clustering {
    /// k-means (k-means++ seeding, Lloyd iterations).
    KMeans,
    /// EM Gaussian mixture with full covariances.
    Gmm,
}

/// The distance dₙ of a sample to its cluster's centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// ‖z − c‖ divided by the cluster's root-mean-square radius.
    Euclidean,
    /// √((z − c)ᵀ Σ⁻¹ (z − c) / dim) with the cluster's own covariance.
    Mahalanobis,
}

/// The closeness f(dₙ) that scales a propagated label's weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decay {
    /// f(d) = exp(−a·d).
    Exponential,
    /// f(d) = exp(−a·d²).
    Gaussian,
    /// f(d) = 1 (with a GMM: the weight is p_c × posterior alone, the
    /// paper's GMM rule).
    None,
}

/// Who answers the queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleKind {
    /// A person at the terminal.
    Interactive,
    /// A simulated annotator that reads the training labels.
    Dataset,
}

/// Every setting of the labelling loop and of the β-VAE's loss (written
/// into `config.json` as its `active` object).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveConfig {
    /// Weight β of the KL term (paper code: 5).
    pub beta: f32,
    /// Weight γ of the weighted cross-entropy of propagated labels (paper
    /// code: 150).
    pub gamma: f32,
    /// Unsupervised epochs before the first labelling iteration.
    pub warmup_epochs: usize,
    /// Labelling iterations.
    pub iterations: usize,
    /// Training epochs after each labelling iteration.
    pub iteration_epochs: usize,
    /// `kmeans` or `gmm`.
    pub clustering: String,
    /// `euclidean` or `mahalanobis`.
    pub distance: String,
    /// `exponential`, `gaussian` or `none`.
    pub decay: String,
    /// The rate a of the decay.
    pub decay_rate: f32,
    /// Clusters per iteration.
    pub k: usize,
    /// Sub-clusters a cluster is split into when its centre is not valid or
    /// its confidence is below `split_below`.
    pub split_k: usize,
    /// Most queries (labels, skips) per iteration.
    pub budget: usize,
    /// A cluster answered with a confidence below this is split as well as
    /// labelled (its sub-clusters, when asked, override its label).
    pub split_below: f32,
    /// `dataset` (simulated) or `interactive`.
    pub oracle: String,
    /// The simulated annotator looks at this many training samples of the
    /// cluster nearest its centre (their majority label, and its share as
    /// the confidence); 0: every sample of the cluster.
    pub oracle_neighbours: usize,
}

impl Default for ActiveConfig {
    fn default() -> Self {
        ActiveConfig {
            beta: 5.0,
            gamma: 150.0,
            warmup_epochs: 10,
            iterations: 5,
            iteration_epochs: 1,
            clustering: "gmm".into(),
            distance: "euclidean".into(),
            decay: "none".into(),
            decay_rate: 1.0,
            k: 20,
            split_k: 3,
            budget: 30,
            split_below: 0.9,
            oracle: "dataset".into(),
            oracle_neighbours: 0,
        }
    }
}

impl ActiveConfig {
    /// Total training epochs: warm-up plus every iteration's.
    pub fn total_epochs(&self) -> usize {
        self.warmup_epochs + self.iterations * self.iteration_epochs
    }

    /// The clustering algorithm.
    pub fn clustering(&self) -> Result<Clustering> {
        match self.clustering.as_str() {
            "kmeans" | "k-means" => Ok(Clustering::KMeans),
            "gmm" => Ok(Clustering::Gmm),
            other => Err(usage(format!("--clustering {other} must be kmeans or gmm"))),
        }
    }

    /// The distance.
    pub fn distance(&self) -> Result<Distance> {
        match self.distance.as_str() {
            "euclidean" => Ok(Distance::Euclidean),
            "mahalanobis" => Ok(Distance::Mahalanobis),
            other => Err(usage(format!(
                "--distance {other} must be euclidean or mahalanobis"
            ))),
        }
    }

    /// The decay.
    pub fn decay(&self) -> Result<Decay> {
        match self.decay.as_str() {
            "exponential" | "exp" => Ok(Decay::Exponential),
            "gaussian" => Ok(Decay::Gaussian),
            "none" => Ok(Decay::None),
            other => Err(usage(format!(
                "--decay {other} must be exponential, gaussian or none"
            ))),
        }
    }

    /// The oracle.
    pub fn oracle(&self) -> Result<OracleKind> {
        match self.oracle.as_str() {
            "interactive" => Ok(OracleKind::Interactive),
            "dataset" => Ok(OracleKind::Dataset),
            other => Err(usage(format!(
                "--oracle {other} must be interactive or dataset"
            ))),
        }
    }

    /// Checks every value (exit status 2 with the flag's name otherwise).
    pub fn validate(&self) -> Result<()> {
        self.clustering()?;
        self.distance()?;
        self.decay()?;
        self.oracle()?;
        for (flag, v) in [
            ("--beta", self.beta),
            ("--gamma", self.gamma),
            ("--decay-rate", self.decay_rate),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(usage(format!("{flag} {v} must be a non-negative number")));
            }
        }
        if !(0.0..=1.0).contains(&self.split_below) {
            return Err(usage(format!(
                "--split-below {} must be in [0, 1]",
                self.split_below
            )));
        }
        if self.k < 2 || self.split_k < 2 {
            return Err(usage(format!(
                "--clusters ({}) and --split-k ({}) must be at least 2",
                self.k, self.split_k
            )));
        }
        if self.budget == 0 || self.iteration_epochs == 0 {
            return Err(usage(
                "--budget and --iteration-epochs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

fn usage(m: String) -> Error {
    Error::Usage(m)
}
