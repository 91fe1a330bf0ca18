//! Kingma et al.'s stacked M1+M2: M1 (a VAE) is trained first; then M2 with
//! a Gaussian likelihood is trained on samples of M1's q(z₁|x), keeping only
//! the latent dimensions whose posterior means spread (standard deviation
//! over the training set) exceeds 0.1. Prediction: x → μ(z₁|x) → M2's q(y|z₁).
//!
//! Generative model: p(y) p(z₂) p(z₁ | y, z₂) p(x | z₁), with p(z₁|y,z₂)
//! Gaussian (M2) and p(x|z₁) Bernoulli (M1). Training is greedy, as in the
//! paper: phase 1 minimises M1's negative ELBO for `pretrain_epochs`
//! epochs; phase 2 freezes M1 and minimises M2's objective on z₁ samples.
//! The phase and the kept dimensions are buffers of the store (checkpointed).

use super::m1::M1;
use super::m2::M2;
use super::{Batch, EpochContext, Loss, Model};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::ops;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// Posterior-mean spread below which a latent dimension is dropped.
pub const MIN_SPREAD: f32 = 0.1;

/// The stacked model.
pub struct M1M2 {
    m1: M1,
    m2: M2,
    pretrain_epochs: usize,
    /// [phase] (0: M1, 1: M2) as a buffer.
    phase: ParamId,
    /// 1 for kept latent dimensions, 0 for dropped ones.
    keep: ParamId,
    m1_params: Vec<ParamId>,
}

impl M1M2 {
    /// Wraps an M1 and an M2 whose input is M1's latent space; `m1_params`
    /// are the M1's parameters (frozen in phase 2).
    pub fn new(
        store: &mut ParamStore,
        m1: M1,
        m2: M2,
        m1_params: Vec<ParamId>,
        pretrain_epochs: usize,
    ) -> Self {
        let z = m1.z_dim();
        let phase = store.add_buffer("m1m2.phase", Tensor::zeros(&[1]));
        let keep = store.add_buffer("m1m2.keep", Tensor::full(&[z], 1.0));
        M1M2 {
            m1,
            m2,
            pretrain_epochs,
            phase,
            keep,
            m1_params,
        }
    }

    fn in_phase_two(&self, store: &ParamStore) -> bool {
        store.value(self.phase).data()[0] >= 1.0
    }

    /// z₁ samples (or means) of M1 for x, with dropped dimensions zeroed.
    fn latent(&self, tape: &mut Tape, x: &Tensor, rng: Option<&mut StreamRng>) -> Tensor {
        let xv = tape.constant(x.clone());
        let (mu, lv) = self.m1.encode(tape, xv);
        let z = match rng {
            Some(rng) => ops::gaussian_sample(tape, mu, lv, rng),
            None => mu,
        };
        let keep = tape.store().value(self.keep).data().to_vec();
        let zt = tape.value(z);
        let cols = keep.len();
        let data = zt
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| v * keep[i % cols])
            .collect();
        Tensor::new(zt.shape(), data)
    }
}

impl Model for M1M2 {
    fn name(&self) -> &'static str {
        "m1m2"
    }

    fn num_classes(&self) -> usize {
        self.m2.num_classes()
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        if !self.in_phase_two(tape.store()) {
            return self.m1.class_log_probs(tape, x);
        }
        let (mu, _) = self.m1.encode(tape, x);
        let keep = tape.param(self.keep);
        let z = ops::mul(tape, mu, keep);
        self.m2.class_log_probs(tape, z)
    }

    /// Pictures come from the M1 underneath: its latent means,
    /// reconstructions and prior samples.
    fn latent_dim(&self) -> Option<usize> {
        self.m1.latent_dim()
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        self.m1.latent_means(tape, x)
    }

    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        self.m1.reconstruct(tape, x)
    }

    fn sample(&self, tape: &mut Tape, noise: Var, classes: &[usize]) -> Option<Var> {
        self.m1.sample(tape, noise, classes)
    }

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        if !self.in_phase_two(tape.store()) {
            return self.m1.loss(tape, batch, rng);
        }
        // M1 is frozen: its encoder runs without gradient bookkeeping.
        let z_batch = Batch {
            labelled: if batch.labels.is_empty() {
                Tensor::zeros(&[0, self.m1.z_dim()])
            } else {
                self.latent(tape, &batch.labelled, Some(rng))
            },
            labels: batch.labels.clone(),
            kl_weight: batch.kl_weight,
            unlabelled: if batch.unlabelled.shape()[0] == 0 {
                Tensor::zeros(&[0, self.m1.z_dim()])
            } else {
                self.latent(tape, &batch.unlabelled, Some(rng))
            },
            unlabelled_index: batch.unlabelled_index.clone(),
        };
        self.m2.loss(tape, &z_batch, rng)
    }

    fn begin_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> crate::Result<()> {
        if ctx.epoch < self.pretrain_epochs {
            return Ok(());
        }
        for &id in &self.m1_params {
            store.get_mut(id).trainable = false;
        }
        if self.in_phase_two(store) {
            return Ok(());
        }
        // Switch: keep the dimensions whose posterior means spread > 0.1.
        let train = ctx.train;
        let all: Vec<usize> = (0..train.n).collect();
        let means = self.m1.posterior_means(store, &train.x, train.dim, &all);
        let z = self.m1.z_dim();
        let n = train.n.max(1) as f64;
        let mut keep = vec![0f32; z];
        for (j, k) in keep.iter_mut().enumerate() {
            let mean: f64 = means
                .data()
                .iter()
                .skip(j)
                .step_by(z)
                .map(|&v| v as f64)
                .sum::<f64>()
                / n;
            let var: f64 = means
                .data()
                .iter()
                .skip(j)
                .step_by(z)
                .map(|&v| (v as f64 - mean).powi(2))
                .sum::<f64>()
                / n;
            *k = if var.sqrt() > MIN_SPREAD as f64 {
                1.0
            } else {
                0.0
            };
        }
        if keep.iter().all(|&k| k == 0.0) {
            // An M1 trained too briefly: no dimension spreads yet; keep all
            // rather than feed M2 nothing.
            eprintln!("m1m2: no latent dimension has a spread above {MIN_SPREAD}; keeping all {z}");
            keep.fill(1.0);
        }
        store.get_mut(self.keep).value = Tensor::new(&[z], keep);
        self.m2
            .set_feature_mask(store, store.value(self.keep).clone());
        store.get_mut(self.phase).value = Tensor::new(&[1], vec![1.0]);
        Ok(())
    }

    fn end_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> crate::Result<()> {
        if ctx.epoch < self.pretrain_epochs {
            // Phase 1: keep M1's head fitted so validation accuracy means something.
            self.m1.end_epoch(store, ctx)?;
        }
        Ok(())
    }
}

/// Number of latent dimensions M1+M2 keeps (for reports).
pub fn kept_dimensions(store: &ParamStore) -> Option<usize> {
    store
        .id("m1m2.keep")
        .map(|id| store.value(id).data().iter().filter(|&&v| v > 0.5).count())
}
