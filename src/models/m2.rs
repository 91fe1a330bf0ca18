//! Kingma et al.'s M2, the semi-supervised VAE.
//!
//! Generative model: p(y) = Cat(1/K), p(z) = N(0, I),
//! p(x | y, z) = Bernoulli(σ(f_θ(y, z))) for binary or [0, 1] data, or
//! N(μ_θ(y, z), diag e^{lv_θ(y, z)}) for continuous features (M1+M2 on
//! M1's latent codes).
//! Inference model: q(y | x) = Cat(π_φ(x)), q(z | x, y) = N(μ_φ(x, y), diag σ²_φ(x, y)).
//!
//! Objective (minimised, per example):
//! labelled   L(x, y) = E_q(z|x,y)[−log p(x | y, z)] + KL(q(z|x,y) ‖ p(z)) − log p(y);
//! unlabelled U(x) = Σ_y q(y|x)·L(x, y) − H(q(y|x)), with y **enumerated exactly**;
//! J = mean_unlabelled U + mean_labelled L + α·mean_labelled −log q(y|x).
//!
//! The first layers of q(z|x,y) and p(x|y,z) take a one-hot y; we split
//! their weight into an x (or z) part and a (K, H) per-class table, so
//! W·[x; y] = W_x·x + T[y]: the x part is computed once per example, not once
//! per enumerated class.

use serde::{Deserialize, Serialize};

use super::enumerate;
use super::{Batch, Loss, Model};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, Init, Linear, Mlp};
use crate::ops;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

pub use super::likelihood::Likelihood;

/// M2's architecture and loss weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct M2Config {
    /// Input width D.
    pub input_dim: usize,
    /// Number of classes K.
    pub classes: usize,
    /// Latent width.
    pub z_dim: usize,
    /// Hidden widths of every network (e.g. [500, 500]).
    pub hidden: Vec<usize>,
    /// Hidden activation: `relu`, `softplus`, ….
    pub activation: String,
    /// Weight of the labelled cross-entropy term (per labelled example,
    /// relative to the per-example bound).
    pub alpha: f32,
    /// Weight of the labelled rows' bound relative to the unlabelled rows'
    /// (both batch means; 1 by default). Kingma's objective, a sum over the
    /// data set, corresponds to N_l/N_u.
    pub labelled_weight: f32,
    /// The observation model.
    pub likelihood: Likelihood,
}

/// A first layer taking [v; one-hot y]: W_v·v + T[y] + b.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConditionedInput {
    /// W_v and b.
    pub(crate) linear: Linear,
    /// T: (K, H).
    pub(crate) class_table: ParamId,
}

impl ConditionedInput {
    /// Adds W_v, b and T under `name`, drawn with the fan-in of [v; y].
    pub(crate) fn new(
        store: &mut ParamStore,
        name: &str,
        inp: usize,
        classes: usize,
        out: usize,
        rng: &mut StreamRng,
    ) -> Self {
        let fan_in = inp + classes;
        let linear = Linear::new(store, name, inp, out, Init::HeNormal, rng);
        // Re-draw the v part with the fan-in of the whole layer [v; y].
        let w = Init::HeNormal.tensor(&[out, inp], fan_in, out, rng);
        store.get_mut(linear.weight).value = w;
        let table = Init::HeNormal.tensor(&[classes, out], fan_in, out, rng);
        let class_table = store.add(&format!("{name}.class_table"), table);
        ConditionedInput {
            linear,
            class_table,
        }
    }
}

/// The M2 model (parameter ids and configuration).
pub struct M2 {
    config: M2Config,
    act: Activation,
    qy: Mlp,
    qz_in: ConditionedInput,
    qz_rest: Option<Mlp>,
    qz_out: Linear,
    px_in: ConditionedInput,
    px_rest: Option<Mlp>,
    px_out: Linear,
    /// Per-feature weights of the Gaussian likelihood (1 = modelled, 0 =
    /// ignored), a buffer; all ones unless a caller masks features.
    feature_mask: ParamId,
    /// −log p(y) as a (K, 1) buffer when the prior is not uniform (SSVAE's
    /// split prior); `None`: p(y) = 1/K.
    class_prior: Option<ParamId>,
}

impl M2 {
    /// Creates the parameters in `store`.
    pub fn new(
        store: &mut ParamStore,
        config: M2Config,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        let act = Activation::parse(&config.activation).ok_or_else(|| {
            crate::Error::Usage(format!("unknown activation '{}'", config.activation))
        })?;
        if config.hidden.is_empty() {
            return Err(crate::Error::Usage(
                "m2 needs at least one hidden layer".into(),
            ));
        }
        let (d, k, z, h) = (
            config.input_dim,
            config.classes,
            config.z_dim,
            &config.hidden,
        );
        let mut sizes = vec![d];
        sizes.extend(h);
        sizes.push(k);
        let qy = Mlp::new(store, "qy", &sizes, act, Init::HeNormal, rng);
        let h0 = h[0];
        let hl = *h.last().unwrap();
        let rest = |store: &mut ParamStore, name: &str, rng: &mut StreamRng| {
            (h.len() > 1).then(|| Mlp::new(store, name, h, act, Init::HeNormal, rng))
        };
        let qz_in = ConditionedInput::new(store, "qz.in", d, k, h0, rng);
        let qz_rest = rest(store, "qz.hidden", rng);
        let qz_out = Linear::new(store, "qz.out", hl, 2 * z, Init::GlorotNormal, rng);
        let px_in = ConditionedInput::new(store, "px.in", z, k, h0, rng);
        let px_rest = rest(store, "px.hidden", rng);
        let out_width = config.likelihood.output_width(d);
        let px_out = Linear::new(store, "px.out", hl, out_width, Init::GlorotNormal, rng);
        let feature_mask = store.add_buffer("px.feature_mask", Tensor::full(&[d], 1.0));
        Ok(M2 {
            feature_mask,
            class_prior: None,
            config,
            act,
            qy,
            qz_in,
            qz_rest,
            qz_out,
            px_in,
            px_rest,
            px_out,
        })
    }

    /// Replaces the uniform p(y) by the (K, 1) buffer of −log p(y) `table`.
    pub fn with_class_prior(mut self, table: ParamId) -> Self {
        self.class_prior = Some(table);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &M2Config {
        &self.config
    }

    /// Sets which features the Gaussian likelihood models (1) or ignores (0):
    /// ignored features must be fed as zeros; their mean and log-variance
    /// are then zeroed too, so they add a constant and no gradient.
    pub fn set_feature_mask(&self, store: &mut ParamStore, mask: Tensor) {
        store.get_mut(self.feature_mask).value = mask;
    }

    /// Applies a conditioned first layer (row `src[r]` of `v_part` holds
    /// W_v·v + b for row r) plus the class rows, then the hidden stack.
    fn trunk(
        &self,
        tape: &mut Tape,
        (v_part, src): (Var, &[usize]),
        input: &ConditionedInput,
        rest: &Option<Mlp>,
        ys: &[usize],
    ) -> Var {
        let table = tape.param(input.class_table);
        let h = super::conditioned_hidden(tape, (v_part, src), table, ys, self.act);
        match rest {
            Some(mlp) => mlp.forward_then(tape, h, self.act),
            None => h,
        }
    }

    /// The most probable class of each row of x under q(y|x).
    fn predicted(&self, tape: &mut Tape, x: Var) -> Vec<usize> {
        let logits = self.qy.forward(tape, x);
        super::argmax_rows(tape, logits)
    }

    /// q(z|x,y)'s mean for x: (B, D) at the classes `ys`.
    fn z_mean(&self, tape: &mut Tape, x: Var, ys: &[usize]) -> Var {
        let xw = self.qz_in.linear.forward(tape, x);
        let src: Vec<usize> = (0..ys.len()).collect();
        let h = self.trunk(tape, (xw, &src), &self.qz_in, &self.qz_rest, ys);
        let stats = self.qz_out.forward(tape, h);
        ops::slice(tape, stats, 1, 0, self.config.z_dim)
    }

    /// The mean of p(x|y,z) for codes z: (B, Z) and classes `ys`.
    fn decoded_mean(&self, tape: &mut Tape, z: Var, ys: &[usize]) -> Var {
        let zw = self.px_in.linear.forward(tape, z);
        let src: Vec<usize> = (0..ys.len()).collect();
        let hp = self.trunk(tape, (zw, &src), &self.px_in, &self.px_rest, ys);
        let out = self.px_out.forward(tape, hp);
        self.config
            .likelihood
            .mean(tape, out, self.config.input_dim)
    }

    /// Per-example bound L(x, y) (B·T rows) for `x_rows`: (B, D) inputs
    /// already tiled T times and the classes `ys` of each row. `xw` holds
    /// W_x·x + b for the untiled batch, tiled likewise.
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
        let h = self.trunk(tape, xw, &self.qz_in, &self.qz_rest, ys);
        let stats = self.qz_out.forward(tape, h);
        let mu = ops::slice(tape, stats, 1, 0, z);
        let logvar = ops::slice(tape, stats, 1, z, z);
        let zs = ops::gaussian_sample(tape, mu, logvar, rng);
        let zw = self.px_in.linear.forward(tape, zs);
        let src: Vec<usize> = (0..ys.len()).collect();
        let hp = self.trunk(tape, (zw, &src), &self.px_in, &self.px_rest, ys);
        let out = self.px_out.forward(tape, hp);
        let mask = tape.param(self.feature_mask);
        let rec = self
            .config
            .likelihood
            .negative_log_likelihood(tape, out, x_rows, Some(mask));
        match self.class_prior {
            None => enumerate::row_bound(tape, rec, mu, logvar, kl_weight, self.config.classes),
            Some(id) => {
                let kl = ops::kl_std_normal(tape, mu, logvar);
                let table = tape.param(id);
                let prior = enumerate::neg_log_prior_rows(tape, table, ys);
                let prior = enumerate::NegLogPrior::PerRow(prior);
                enumerate::row_bound_with(tape, rec, kl, kl_weight, prior)
            }
        }
    }
}

impl Model for M2 {
    fn name(&self) -> &'static str {
        "m2"
    }

    fn num_classes(&self) -> usize {
        self.config.classes
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let logits = self.qy.forward(tape, x);
        ops::log_softmax(tape, logits)
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
        Some(self.decoded_mean(tape, mu, &ys))
    }

    fn sample(&self, tape: &mut Tape, noise: Var, classes: &[usize]) -> Option<Var> {
        Some(self.decoded_mean(tape, noise, classes))
    }

    fn class_conditional(&self) -> bool {
        true
    }

    /// Labelled and unlabelled examples share one pass: q(y|x) and the x part
    /// of q(z|x,y) run once over all B_l + B_u inputs, and one bound runs
    /// over B_l + K·B_u rows (see [`super::enumerate`]); fewer, taller
    /// products keep the GEMMs efficient.
    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let k = self.config.classes;
        let (x, bl, bu) = enumerate::inputs(tape, batch);
        let logits = self.qy.forward(tape, x);
        let xw = self.qz_in.linear.forward(tape, x);
        let xw_src = enumerate::bound_row_sources(bl, bu, k);
        let (x_rows, ys) = enumerate::rows_and_classes(tape, batch, x, k);
        let bound = self.bound(tape, x_rows, (xw, &xw_src), &ys, batch.kl_weight, rng);
        enumerate::objective(
            tape,
            batch,
            logits,
            bound,
            k,
            self.config.alpha,
            self.config.labelled_weight,
        )
    }
}

/// Convenience for tests and tools: the class log-probabilities of `x` in
/// evaluation mode.
pub fn predict_log_probs(model: &dyn Model, store: &ParamStore, x: &Tensor) -> Tensor {
    let mut tape = Tape::no_grad(store);
    let xv = tape.constant(x.clone());
    let lp = model.class_log_probs(&mut tape, xv);
    tape.value(lp).clone()
}
