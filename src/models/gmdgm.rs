//! Willetts et al.'s Gaussian-mixture deep generative model (GM-DGM), for
//! unsupervised, semi-supervised and semi-unsupervised learning.
//!
//! Generative model: p(x, y, z) = p(y) p(z | y) p(x | z) with
//! p(y) the split prior of [`super::class_layout`] over K = L + E classes,
//! p(z | y) = N(μ_y, diag e^{lv_y}), (μ, lv) a learned (K, z) table each, and
//! p(x | z) = Bernoulli(σ(f_θ(z))) (or Gaussian for continuous features).
//! Inference model, as M2: q(y | x) = Cat(π_φ(x)),
//! q(z | x, y) = N(μ_φ(x, y), diag σ²_φ(x, y)).
//!
//! Objective (minimised, per example):
//! labelled   L(x, y) = E_q(z|x,y)[−log p(x | z)] + KL(q(z|x,y) ‖ p(z|y)) − log p(y),
//! with the KL between the two diagonal Gaussians in closed form:
//! Σ_j ½(lv_yj − lv_j + (e^{lv_j} + (μ_j − μ_yj)²)·e^{−lv_yj} − 1);
//! unlabelled U(x) = Σ_y q(y|x)·L(x, y) − H(q(y|x)), y **enumerated exactly**;
//! J = mean_unlabelled U + mean_labelled L + α·mean_labelled −log q(y|x).
//! With no labels at all the labelled terms vanish and J is the unsupervised
//! bound of a mixture of Gaussians in z (clustering).
//!
//! Unlike M2 the class enters the generative side through p(z | y) only, so
//! unlabelled clusters get their own regions of z: that is what lets the
//! extra classes capture classes that are never labelled.
//!
//! Pixels whose training standard deviation is ≤ 0.1 are dropped before the
//! model sees the data (`TrainConfig::drop_std`, applied by the trainer).

use serde::{Deserialize, Serialize};

use super::class_layout::{ClassLayout, LayoutBuffers};
use super::enumerate::{self, NegLogPrior};
use super::likelihood::Likelihood;
use super::m2::ConditionedInput;
use super::{Batch, EpochContext, Loss, Model};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, Init, Linear, Mlp};
use crate::ops;
use crate::rng::StreamRng;

/// GM-DGM's architecture and loss weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GmDgmConfig {
    /// Input width D (kept features).
    pub input_dim: usize,
    /// Latent width.
    pub z_dim: usize,
    /// Hidden widths of every network (e.g. [500, 500]).
    pub hidden: Vec<usize>,
    /// Hidden activation: `relu`, `softplus`, ….
    pub activation: String,
    /// Weight of the labelled cross-entropy (per labelled example).
    pub alpha: f32,
    /// Weight of the labelled rows' bound relative to the unlabelled rows'
    /// (both batch means; 1 by default). Kingma's objective, a sum over the
    /// data set, corresponds to N_l/N_u.
    pub labelled_weight: f32,
    /// Standard deviation of the initial component means μ_y (the
    /// log-variances start at 0).
    pub prior_mean_std: f32,
    /// The observation model.
    pub likelihood: Likelihood,
}

/// The GM-DGM (parameter ids, layout and configuration).
pub struct GmDgm {
    config: GmDgmConfig,
    act: Activation,
    buffers: LayoutBuffers,
    qy: Mlp,
    qz_in: ConditionedInput,
    qz_rest: Option<Mlp>,
    qz_out: Linear,
    px_hidden: Mlp,
    px_out: Linear,
    pz_mean: ParamId,
    pz_logvar: ParamId,
}

impl GmDgm {
    /// Creates the parameters in `store` for the classes of `layout`.
    pub fn new(
        store: &mut ParamStore,
        config: GmDgmConfig,
        layout: ClassLayout,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        let act = Activation::parse(&config.activation).ok_or_else(|| {
            crate::Error::Usage(format!("unknown activation '{}'", config.activation))
        })?;
        if config.hidden.is_empty() {
            return Err(crate::Error::Usage(
                "gmdgm needs at least one hidden layer".into(),
            ));
        }
        let (d, k, z, h) = (
            config.input_dim,
            layout.classes(),
            config.z_dim,
            &config.hidden,
        );
        let mut sizes = vec![d];
        sizes.extend(h);
        sizes.push(k);
        let qy = Mlp::new(store, "qy", &sizes, act, Init::HeNormal, rng);
        let hl = *h.last().unwrap();
        let qz_in = ConditionedInput::new(store, "qz.in", d, k, h[0], rng);
        let qz_rest =
            (h.len() > 1).then(|| Mlp::new(store, "qz.hidden", h, act, Init::HeNormal, rng));
        let qz_out = Linear::new(store, "qz.out", hl, 2 * z, Init::GlorotNormal, rng);
        let mut px_sizes = vec![z];
        px_sizes.extend(h);
        let px_hidden = Mlp::new(store, "px.hidden", &px_sizes, act, Init::HeNormal, rng);
        let out_width = config.likelihood.output_width(d);
        let px_out = Linear::new(store, "px.out", hl, out_width, Init::GlorotNormal, rng);
        let means = Init::Normal(config.prior_mean_std).tensor(&[k, z], k, z, rng);
        let pz_mean = store.add("pz.mean", means);
        let pz_logvar = store.add("pz.logvar", crate::tensor::Tensor::zeros(&[k, z]));
        let buffers = LayoutBuffers::new(store, "py", layout);
        Ok(GmDgm {
            config,
            act,
            buffers,
            qy,
            qz_in,
            qz_rest,
            qz_out,
            px_hidden,
            px_out,
            pz_mean,
            pz_logvar,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GmDgmConfig {
        &self.config
    }

    /// The class layout.
    pub fn layout(&self) -> &ClassLayout {
        &self.buffers.layout
    }

    /// The most probable class of each row of x under q(y|x).
    fn predicted(&self, tape: &mut Tape, x: Var) -> Vec<usize> {
        let logits = self.qy.forward(tape, x);
        super::argmax_rows(tape, logits)
    }

    /// q(z|x,y)'s mean and log-variance (one row per class in `ys`) from
    /// `xw` = W_x·x + b of its first layer, row `src[r]` of it for row r.
    fn qz_stats(&self, tape: &mut Tape, (xw, src): (Var, &[usize]), ys: &[usize]) -> Var {
        let table = tape.param(self.qz_in.class_table);
        let mut h = super::conditioned_hidden(tape, (xw, src), table, ys, self.act);
        if let Some(mlp) = &self.qz_rest {
            h = mlp.forward_then(tape, h, self.act);
        }
        self.qz_out.forward(tape, h)
    }

    /// q(z|x,y)'s mean for x at the classes `ys`.
    fn z_mean(&self, tape: &mut Tape, x: Var, ys: &[usize]) -> Var {
        let xw = self.qz_in.linear.forward(tape, x);
        let src: Vec<usize> = (0..ys.len()).collect();
        let stats = self.qz_stats(tape, (xw, &src), ys);
        ops::slice(tape, stats, 1, 0, self.config.z_dim)
    }

    /// The mean of p(x|z) for codes z.
    fn decoded_mean(&self, tape: &mut Tape, z: Var) -> Var {
        let hp = self.px_hidden.forward(tape, z);
        let hp = self.act.apply(tape, hp);
        let out = self.px_out.forward(tape, hp);
        self.config
            .likelihood
            .mean(tape, out, self.config.input_dim)
    }

    /// Per-row bound L(x, y) over the rows `x_rows` with classes `ys`; `xw`
    /// holds W_x·x + b of q(z|x,y)'s first layer, with the row of it each
    /// bound row reads.
    fn bound(
        &self,
        tape: &mut Tape,
        x_rows: Var,
        xw: (Var, &[usize]),
        ys: &[usize],
        kl_weight: f32,
        rng: &mut StreamRng,
    ) -> Var {
        let z = self.config.z_dim;
        // q(z | x, y)
        let stats = self.qz_stats(tape, xw, ys);
        let mu = ops::slice(tape, stats, 1, 0, z);
        let logvar = ops::slice(tape, stats, 1, z, z);
        let zs = ops::gaussian_sample(tape, mu, logvar, rng);
        // p(x | z)
        let hp = self.px_hidden.forward(tape, zs);
        let hp = self.act.apply(tape, hp);
        let out = self.px_out.forward(tape, hp);
        let rec = self
            .config
            .likelihood
            .negative_log_likelihood(tape, out, x_rows, None);
        // KL(q(z|x,y) ‖ p(z|y)) and −log p(y)
        let pm = tape.param(self.pz_mean);
        let plv = tape.param(self.pz_logvar);
        let pm = ops::gather_rows(tape, pm, ys);
        let plv = ops::gather_rows(tape, plv, ys);
        let kl = ops::kl_normal(tape, mu, logvar, pm, plv);
        let prior = tape.param(self.buffers.neg_log_prior);
        let prior = enumerate::neg_log_prior_rows(tape, prior, ys);
        enumerate::row_bound_with(tape, rec, kl, kl_weight, NegLogPrior::PerRow(prior))
    }
}

impl Model for GmDgm {
    fn name(&self) -> &'static str {
        "gmdgm"
    }

    fn num_classes(&self) -> usize {
        self.buffers.layout.classes()
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let logits = self.qy.forward(tape, x);
        ops::log_softmax(tape, logits)
    }

    fn class_map(&self) -> Option<Vec<Option<u32>>> {
        Some(self.buffers.layout.dataset_classes())
    }

    fn latent_dim(&self) -> Option<usize> {
        Some(self.config.z_dim)
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let ys = self.predicted(tape, x);
        Some(self.z_mean(tape, x, &ys))
    }

    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let ys = self.predicted(tape, x);
        let mu = self.z_mean(tape, x, &ys);
        Some(self.decoded_mean(tape, mu))
    }

    /// z = μ_y + σ_y·noise from the class's own p(z|y), then p(x|z)'s mean.
    fn sample(&self, tape: &mut Tape, noise: Var, classes: &[usize]) -> Option<Var> {
        let pm = tape.param(self.pz_mean);
        let plv = tape.param(self.pz_logvar);
        let pm = ops::gather_rows(tape, pm, classes);
        let plv = ops::gather_rows(tape, plv, classes);
        let half = ops::mul_scalar(tape, plv, 0.5);
        let sd = ops::exp(tape, half);
        let scaled = ops::mul(tape, sd, noise);
        let z = ops::add(tape, pm, scaled);
        Some(self.decoded_mean(tape, z))
    }

    fn class_conditional(&self) -> bool {
        true
    }

    fn begin_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> crate::Result<()> {
        self.buffers.refresh(store, ctx);
        Ok(())
    }

    /// One pass over the B_l + B_u inputs for q(y|x) and the x part of
    /// q(z|x,y), one bound over B_l + K·B_u rows (see [`super::enumerate`]).
    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let batch = self.buffers.model_batch(batch);
        let k = self.num_classes();
        let (x, bl, bu) = enumerate::inputs(tape, &batch);
        let logits = self.qy.forward(tape, x);
        let xw = self.qz_in.linear.forward(tape, x);
        let xw_src = enumerate::bound_row_sources(bl, bu, k);
        let (x_rows, ys) = enumerate::rows_and_classes(tape, &batch, x, k);
        let bound = self.bound(tape, x_rows, (xw, &xw_src), &ys, batch.kl_weight, rng);
        enumerate::objective(
            tape,
            &batch,
            logits,
            bound,
            k,
            self.config.alpha,
            self.config.labelled_weight,
        )
    }
}
