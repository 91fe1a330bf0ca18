//! Flags of the labelling loop, shared by `train --model clustervae` and
//! `label`.

use clap::Args;

use crate::active::ActiveConfig;

/// Settings of cluster-based active labelling (each overrides the run's or
/// the preset's value).
#[derive(Args, Debug, Default)]
pub struct ActiveArgs {
    /// Weight β of the KL term of the β-VAE.
    #[arg(long)]
    pub beta: Option<f32>,
    /// Weight γ of the weighted cross-entropy of propagated labels.
    #[arg(long)]
    pub gamma: Option<f32>,
    /// Unsupervised epochs before the first labelling iteration.
    #[arg(long)]
    pub warmup_epochs: Option<usize>,
    /// Training epochs after each labelling iteration.
    #[arg(long)]
    pub iteration_epochs: Option<usize>,
    /// Clustering of the latent codes: kmeans or gmm.
    #[arg(long)]
    pub clustering: Option<String>,
    /// Distance of a sample to its cluster's centre: euclidean or mahalanobis.
    #[arg(long)]
    pub distance: Option<String>,
    /// Decay of a propagated label's weight with the distance: exponential,
    /// gaussian or none (with gmm, none weighs by the posterior alone).
    #[arg(long)]
    pub decay: Option<String>,
    /// Rate a of the decay (exp(-a·d) or exp(-a·d²); d ≈ 1 for a typical member).
    #[arg(long)]
    pub decay_rate: Option<f32>,
    /// Sub-clusters a cluster is split into when its centre is not valid
    /// or its answer is uncertain.
    #[arg(long)]
    pub split_k: Option<usize>,
    /// Most questions (labels and skips) per iteration.
    #[arg(long)]
    pub budget: Option<usize>,
    /// Split (as well as label) a cluster answered with a confidence below this.
    #[arg(long)]
    pub split_below: Option<f32>,
    /// Who answers: interactive (you, at the terminal) or dataset (a
    /// simulation that reads the training labels).
    #[arg(long)]
    pub oracle: Option<String>,
    /// The simulated annotator's view: this many samples of the cluster
    /// nearest its centre (0: the whole cluster).
    #[arg(long)]
    pub oracle_neighbours: Option<usize>,
}

impl ActiveArgs {
    /// Writes the given flags into `a`.
    pub fn apply(&self, a: &mut ActiveConfig) {
        macro_rules! set {
            ($($field:ident => $target:ident),* $(,)?) => {
                $(if let Some(v) = &self.$field { a.$target = v.clone(); })*
            };
        }
        set!(
            beta => beta, gamma => gamma, warmup_epochs => warmup_epochs,
            iteration_epochs => iteration_epochs, clustering => clustering,
            distance => distance, decay => decay, decay_rate => decay_rate,
            split_k => split_k, budget => budget,
            split_below => split_below, oracle => oracle,
            oracle_neighbours => oracle_neighbours,
        );
    }
}
