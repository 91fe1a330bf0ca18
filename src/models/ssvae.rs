//! SSVAE for the semi-unsupervised regime (Willetts et al.): Kingma et al.'s
//! M2 with K = L + E classes — the L labelled classes and E extra ones — and
//! the split prior p(y) of [`super::class_layout`].
//!
//! Generative model: p(y) = split prior, p(z) = N(0, I),
//! p(x | y, z) = Bernoulli(σ(f_θ(y, z))).
//! Inference model: q(y | x) = Cat(π_φ(x)), q(z | x, y) = N(μ_φ(x, y), diag σ²_φ(x, y)).
//! Objective: M2's (see [`super::m2`]) with −log p(y) from the split prior
//! and labels mapped to model classes; y enumerated over all K classes for
//! unlabelled data.
//!
//! Willetts et al. show that this model does not use its extra classes: p(z)
//! is the same for every y, so nothing pulls unlabelled clusters apart.

use super::class_layout::{ClassLayout, LayoutBuffers};
use super::m2::{M2Config, M2};
use super::{Batch, EpochContext, Loss, Model};
use crate::autograd::{ParamStore, Tape, Var};
use crate::rng::StreamRng;

/// M2 with extra classes and the split prior.
pub struct Ssvae {
    m2: M2,
    buffers: LayoutBuffers,
}

impl Ssvae {
    /// Creates the parameters; `config.classes` is replaced by the layout's K.
    pub fn new(
        store: &mut ParamStore,
        mut config: M2Config,
        layout: ClassLayout,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        config.classes = layout.classes();
        let m2 = M2::new(store, config, rng)?;
        let buffers = LayoutBuffers::new(store, "py", layout);
        let m2 = m2.with_class_prior(buffers.neg_log_prior);
        Ok(Ssvae { m2, buffers })
    }

    /// The class layout.
    pub fn layout(&self) -> &ClassLayout {
        &self.buffers.layout
    }
}

impl Model for Ssvae {
    fn name(&self) -> &'static str {
        "ssvae"
    }

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        self.m2.loss(tape, &self.buffers.model_batch(batch), rng)
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        self.m2.class_log_probs(tape, x)
    }

    fn num_classes(&self) -> usize {
        self.buffers.layout.classes()
    }

    fn class_map(&self) -> Option<Vec<Option<u32>>> {
        Some(self.buffers.layout.dataset_classes())
    }

    fn latent_dim(&self) -> Option<usize> {
        self.m2.latent_dim()
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        self.m2.latent_means(tape, x)
    }

    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        self.m2.reconstruct(tape, x)
    }

    fn sample(&self, tape: &mut Tape, noise: Var, classes: &[usize]) -> Option<Var> {
        self.m2.sample(tape, noise, classes)
    }

    fn class_conditional(&self) -> bool {
        true
    }

    fn begin_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> crate::Result<()> {
        self.buffers.refresh(store, ctx);
        Ok(())
    }
}
