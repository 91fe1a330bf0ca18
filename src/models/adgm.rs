//! Maaløe et al.'s auxiliary deep generative model (ADGM, 2016) and the
//! machinery its skip variant SDGM ([`super::sdgm`]) shares.
//!
//! Generative model: p(y) = Cat(1/K), p(z) = N(0, I),
//! p(x | z, y) = Bernoulli(σ(f_θ(z, y))),
//! p(a | z, y, x) = N(μ_θ(z, y, x), diag e^{lv_θ(z, y, x)}).
//! Inference model: q(a | x) = N(μ_φ(x), diag σ²_φ(x)),
//! q(y | a, x) = Cat(π_φ(a, x)), q(z | a, y, x) = N(μ_φ(a, y, x), diag σ²_φ(a, y, x)).
//!
//! Objective (minimised, per example; a ~ q(a|x) and z ~ q(z|a,y,x)
//! reparameterised, KL(q(z)‖p(z)) analytic):
//! labelled   L(x, y) = E_q(a|x)[ℓ(x, y, a)],
//!   ℓ(x, y, a) = E_q(z|a,y,x)[−log p(x|z,y) − log p(a|z,y,x) + log q(a|x)]
//!                + KL(q(z|a,y,x) ‖ p(z)) − log p(y);
//! unlabelled U(x) = E_q(a|x)[Σ_y q(y|a,x)·ℓ(x, y, a) − H(q(y|a,x))], y
//! **enumerated exactly** with **one** a-sample shared by the K classes;
//! J = mean_l L + α·mean_l E_q(a|x)[−log q(y|a,x)] + mean_u U, each
//! expectation over a estimated with `mc_samples` draws (the mean of the
//! per-draw objectives). The KL warm-up weight multiplies the z KL and
//! the auxiliary gap log q(a|x) − log p(a|·).
//!
//! Classification: p(y|x) ≈ (1/S) Σ_s q(y|a_s, x), a_s ~ q(a|x), with a
//! fixed evaluation noise stream (`eval_seed`) so predictions are repeatable.
//!
//! Every per-example part of a first layer (W_x·x, W_a·a) is computed once
//! per example and tiled over the K classes; only z-dependent parts and the
//! class rows T[y] run per bound row (see [`super::sum_mlp`]).

use serde::{Deserialize, Serialize};

use super::enumerate;
use super::likelihood::Likelihood;
use super::sum_mlp::{SumMlp, SumMlpShape};
use super::{Batch, Loss, Model};
use crate::autograd::{ParamStore, Tape, Var};
use crate::nn::{Activation, Init};
use crate::ops;
use crate::rng::{stream, StreamRng};

/// The architecture and loss weights of ADGM and SDGM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdgmConfig {
    /// Input width D.
    pub input_dim: usize,
    /// Number of classes K.
    pub classes: usize,
    /// Auxiliary width.
    pub a_dim: usize,
    /// Latent width.
    pub z_dim: usize,
    /// Hidden widths of every network (e.g. [500, 500]).
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: String,
    /// Weight of the labelled cross-entropy term (per labelled example).
    pub alpha: f32,
    /// Weight of the labelled rows' bound relative to the unlabelled rows'
    /// (both batch means; 1 by default). Kingma's objective, a sum over the
    /// data set, corresponds to N_l/N_u.
    pub labelled_weight: f32,
    /// The observation model.
    pub likelihood: Likelihood,
    /// Draws of a per example (bound and classification).
    pub mc_samples: usize,
    /// SDGM: p(a|z,y) and p(x|a,z,y) instead of p(a|z,y,x) and p(x|z,y).
    pub skip: bool,
    /// Batch-norm before every hidden activation (SDGM).
    pub batch_norm: bool,
    /// Seed of the noise used by classification.
    pub eval_seed: u64,
}

/// ADGM or SDGM (parameter ids and configuration).
pub struct Adgm {
    config: AdgmConfig,
    /// q(a|x): [x] → (μ, lv).
    qa: SumMlp,
    /// q(y|a,x): [x, a] → logits.
    qy: SumMlp,
    /// q(z|a,y,x): [x, a] + y → (μ, lv).
    qz: SumMlp,
    /// p(a|·): [z, x] + y (ADGM) or [z] + y (SDGM) → (μ, lv).
    pa: SumMlp,
    /// p(x|·): [z] + y (ADGM) or [z, a] + y (SDGM) → likelihood parameters.
    px: SumMlp,
}

/// The q(a|x) draw of one example batch: a, its log-density and q(y|a,x).
struct AuxDraw {
    a: Var,
    log_qa: Var,
    logits: Var,
}

impl Adgm {
    /// Creates the parameters in `store`. Gaussian output layers start at
    /// N(0, 10⁻⁶) weights (Maaløe et al.'s `init.Normal(1e-3)`), so every
    /// Gaussian starts near N(0, I); the other layers are He/Glorot normal.
    pub fn new(
        store: &mut ParamStore,
        config: AdgmConfig,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        let act = Activation::parse(&config.activation).ok_or_else(|| {
            crate::Error::Usage(format!("unknown activation '{}'", config.activation))
        })?;
        if config.hidden.is_empty() || config.mc_samples == 0 {
            return Err(crate::Error::Usage(
                "adgm/sdgm need at least one hidden layer and one sample".into(),
            ));
        }
        let (d, k, a, z) = (config.input_dim, config.classes, config.a_dim, config.z_dim);
        let h = &config.hidden;
        let bn = config.batch_norm;
        let gauss = Init::Normal(1e-3);
        let mut net = |name: &str, inputs: &[usize], classes: usize, out: usize, init: Init| {
            let shape = SumMlpShape {
                inputs,
                classes,
                hidden: h,
                out,
                out_init: init,
                batch_norm: bn,
            };
            SumMlp::new(store, name, &shape, act, rng)
        };
        let qa = net("qa", &[d], 0, 2 * a, gauss);
        let qy = net("qy", &[d, a], 0, k, Init::GlorotNormal);
        let qz = net("qz", &[d, a], k, 2 * z, gauss);
        let (pa, px) = if config.skip {
            let pa = net("pa", &[z], k, 2 * a, gauss);
            let out = config.likelihood.output_width(d);
            (pa, net("px", &[z, a], k, out, Init::GlorotNormal))
        } else {
            let pa = net("pa", &[z, d], k, 2 * a, gauss);
            let out = config.likelihood.output_width(d);
            (pa, net("px", &[z], k, out, Init::GlorotNormal))
        };
        Ok(Adgm {
            config,
            qa,
            qy,
            qz,
            pa,
            px,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AdgmConfig {
        &self.config
    }

    /// (μ, lv) halves of a (R, 2·w) output.
    fn halves(tape: &mut Tape, stats: Var) -> (Var, Var) {
        let w = tape.shape(stats)[1] / 2;
        (
            ops::slice(tape, stats, 1, 0, w),
            ops::slice(tape, stats, 1, w, w),
        )
    }

    /// Draws a ~ q(a|x) given q(a|x)'s (μ, lv) and runs q(y|a,x) on it;
    /// `qy_x` holds W_x·x + b of q(y|a,x)'s first layer.
    fn draw(&self, tape: &mut Tape, q_a: (Var, Var), qy_x: Var, rng: &mut StreamRng) -> AuxDraw {
        let a = ops::gaussian_sample(tape, q_a.0, q_a.1, rng);
        let log_qa = ops::gaussian_log_density(tape, a, q_a.0, q_a.1);
        let qy_a = self.qy.part(tape, 1, a);
        let pre = ops::add(tape, qy_x, qy_a);
        let logits = self.qy.head(tape, pre, None, None);
        AuxDraw { a, log_qa, logits }
    }

    /// One draw's objective. `x` holds the B_l + B_u inputs, `parts` the
    /// x-dependent first-layer parts of q(y|a,x), q(z|a,y,x) and (ADGM)
    /// p(a|z,y,x), `q_a` q(a|x)'s (μ, lv).
    #[allow(clippy::too_many_arguments)]
    fn draw_loss(
        &self,
        tape: &mut Tape,
        batch: &Batch,
        rows: &BoundRows,
        parts: &XParts,
        q_a: (Var, Var),
        rng: &mut StreamRng,
    ) -> Loss {
        let k = self.config.classes;
        let (bl, bu) = (rows.bl, rows.bu);
        let ys = Some(rows.ys.as_slice());
        let w = rows.weights.as_deref();
        let AuxDraw { a, log_qa, logits } = self.draw(tape, q_a, parts.qy, rng);
        // q(z|a,y,x): the x and a parts once per example, tiled over classes.
        let qz_a = self.qz.part(tape, 1, a);
        let qz_xa = ops::add(tape, parts.qz, qz_a);
        let qz_pre = enumerate::bound_rows(tape, qz_xa, bl, bu, k);
        let qz_stats = self.qz.head(tape, qz_pre, ys, w);
        let (mu_z, lv_z) = Self::halves(tape, qz_stats);
        let z = ops::gaussian_sample(tape, mu_z, lv_z, rng);
        // p(a|z,y[,x]).
        let mut pa_pre = self.pa.part(tape, 0, z);
        if let Some(pa_x) = parts.pa {
            let tiled = enumerate::bound_rows(tape, pa_x, bl, bu, k);
            pa_pre = ops::add(tape, pa_pre, tiled);
        }
        let pa_stats = self.pa.head(tape, pa_pre, ys, w);
        let (mu_pa, lv_pa) = Self::halves(tape, pa_stats);
        let a_rows = enumerate::bound_rows(tape, a, bl, bu, k);
        let log_pa = ops::gaussian_log_density(tape, a_rows, mu_pa, lv_pa);
        // p(x|[a,]z,y).
        let mut px_pre = self.px.part(tape, 0, z);
        if self.config.skip {
            let px_a = self.px.part(tape, 1, a);
            let tiled = enumerate::bound_rows(tape, px_a, bl, bu, k);
            px_pre = ops::add(tape, px_pre, tiled);
        }
        let out = self.px.head(tape, px_pre, ys, w);
        let rec = self
            .config
            .likelihood
            .negative_log_likelihood(tape, out, rows.x, None);
        // ℓ = rec + w·(KL_z + log q(a|x) − log p(a|·)) + log K.
        let kl_z = ops::kl_std_normal(tape, mu_z, lv_z);
        let log_qa_rows = enumerate::bound_rows(tape, log_qa, bl, bu, k);
        let gap = ops::sub(tape, log_qa_rows, log_pa);
        let mut latent = ops::add(tape, kl_z, gap);
        if batch.kl_weight != 1.0 {
            latent = ops::mul_scalar(tape, latent, batch.kl_weight);
        }
        let per = ops::add(tape, rec, latent);
        let bound = ops::add_scalar(tape, per, (k as f32).ln());
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

/// The posterior means the figures use: q(a|x)'s mean, the class q(y|ā,x)
/// predicts, and q(z|ā,y,x)'s mean.
struct Means {
    a: Var,
    ys: Vec<usize>,
    z: Var,
}

impl Adgm {
    /// [`Means`] of the inputs x: (B, D).
    fn means(&self, tape: &mut Tape, x: Var) -> Means {
        let qa_pre = self.qa.part(tape, 0, x);
        let qa_stats = self.qa.head(tape, qa_pre, None, None);
        let (a, _) = Self::halves(tape, qa_stats);
        let qy_x = self.qy.part(tape, 0, x);
        let qy_a = self.qy.part(tape, 1, a);
        let pre = ops::add(tape, qy_x, qy_a);
        let logits = self.qy.head(tape, pre, None, None);
        let k = self.config.classes;
        let ys: Vec<usize> = tape
            .value(logits)
            .data()
            .chunks_exact(k)
            .map(|r| (0..k).fold(0, |b, j| if r[j] > r[b] { j } else { b }))
            .collect();
        let qz_x = self.qz.part(tape, 0, x);
        let qz_a = self.qz.part(tape, 1, a);
        let pre = ops::add(tape, qz_x, qz_a);
        let stats = self.qz.head(tape, pre, Some(&ys), None);
        let (z, _) = Self::halves(tape, stats);
        Means { a, ys, z }
    }

    /// The mean of p(x|·) at codes z: (B, Z) and classes `ys`; SDGM's
    /// p(x|a,z,y) takes `a` (B, A), else the mean of p(a|z,y).
    fn decoded_mean(&self, tape: &mut Tape, z: Var, ys: &[usize], a: Option<Var>) -> Var {
        let mut pre = self.px.part(tape, 0, z);
        if self.config.skip {
            let a = a.unwrap_or_else(|| {
                let pa_pre = self.pa.part(tape, 0, z);
                let stats = self.pa.head(tape, pa_pre, Some(ys), None);
                Self::halves(tape, stats).0
            });
            let pa = self.px.part(tape, 1, a);
            pre = ops::add(tape, pre, pa);
        }
        let out = self.px.head(tape, pre, Some(ys), None);
        self.config
            .likelihood
            .mean(tape, out, self.config.input_dim)
    }
}

/// The bound's rows: inputs, classes, and batch-norm row weights (1 for a
/// labelled row, 1/K for each of an unlabelled example's K rows).
struct BoundRows {
    x: Var,
    ys: Vec<usize>,
    weights: Option<Vec<f32>>,
    bl: usize,
    bu: usize,
}

/// The x-dependent first-layer parts, computed once per example.
struct XParts {
    qy: Var,
    qz: Var,
    pa: Option<Var>,
}

/// Row weights that count each distinct input once: 1 for the `bl`
/// labelled rows, 1/K for each of the K·`bu` enumerated rows.
pub fn enumerated_row_weights(bl: usize, bu: usize, k: usize) -> Vec<f32> {
    let mut w = vec![1.0; bl];
    w.extend(std::iter::repeat_n(1.0 / k as f32, k * bu));
    w
}

/// The mean of `losses` (total and every named term).
fn mean_loss(tape: &mut Tape, losses: Vec<Loss>) -> Loss {
    let s = losses.len();
    if s == 1 {
        return losses.into_iter().next().unwrap();
    }
    let scale = 1.0 / s as f32;
    let mean = |tape: &mut Tape, vs: &[Var]| {
        let mut t = vs[0];
        for &v in &vs[1..] {
            t = ops::add(tape, t, v);
        }
        ops::mul_scalar(tape, t, scale)
    };
    let totals: Vec<Var> = losses.iter().map(|l| l.total).collect();
    let total = mean(tape, &totals);
    let terms = losses[0]
        .terms
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let vs: Vec<Var> = losses.iter().map(|l| l.terms[i].1).collect();
            (*name, mean(tape, &vs))
        })
        .collect();
    Loss {
        total,
        terms,
        examples: losses[0].examples,
    }
}

impl Model for Adgm {
    fn name(&self) -> &'static str {
        if self.config.skip {
            "sdgm"
        } else {
            "adgm"
        }
    }

    fn num_classes(&self) -> usize {
        self.config.classes
    }

    /// (1/S) Σ_s q(y|a_s, x) with a_s ~ q(a|x) (S = `mc_samples`), as
    /// log-probabilities; with S = 1, log q(y|a_1, x).
    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let qa_pre = self.qa.part(tape, 0, x);
        let qa_stats = self.qa.head(tape, qa_pre, None, None);
        let q_a = Self::halves(tape, qa_stats);
        let qy_x = self.qy.part(tape, 0, x);
        let mut rng = stream(self.config.eval_seed, "aux-classify");
        let s = self.config.mc_samples;
        if s == 1 {
            let d = self.draw(tape, q_a, qy_x, &mut rng);
            return ops::log_softmax(tape, d.logits);
        }
        let mut sum = None;
        for _ in 0..s {
            let d = self.draw(tape, q_a, qy_x, &mut rng);
            let p = ops::softmax(tape, d.logits);
            sum = Some(match sum {
                None => p,
                Some(acc) => ops::add(tape, acc, p),
            });
        }
        let mean = ops::mul_scalar(tape, sum.unwrap(), 1.0 / s as f32);
        // Guard log 0 for classes every draw rules out completely.
        let mean = ops::add_scalar(tape, mean, 1e-30);
        ops::activation::unary(tape, ops::activation::UnaryKind::Log, mean)
    }

    fn latent_dim(&self) -> Option<usize> {
        Some(self.config.z_dim)
    }

    /// q(z|ā,y,x)'s mean at ā = q(a|x)'s mean and q(y|ā,x)'s class.
    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        Some(self.means(tape, x).z)
    }

    /// p(x|·)'s mean at the posterior means of a and z and the predicted y.
    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let m = self.means(tape, x);
        Some(self.decoded_mean(tape, m.z, &m.ys, Some(m.a)))
    }

    /// p(x|z,y)'s mean for z = `noise` (SDGM: at a = p(a|z,y)'s mean).
    fn sample(&self, tape: &mut Tape, noise: Var, classes: &[usize]) -> Option<Var> {
        Some(self.decoded_mean(tape, noise, classes, None))
    }

    fn class_conditional(&self) -> bool {
        true
    }

    /// q(a|x) and the x parts of the first layers run once over all
    /// B_l + B_u inputs; each of the `mc_samples` draws of a then runs one
    /// bound over B_l + K·B_u rows (see [`super::enumerate`]).
    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let k = self.config.classes;
        let (x, bl, bu) = enumerate::inputs(tape, batch);
        let (x_rows, ys) = enumerate::rows_and_classes(tape, batch, x, k);
        let weights = (self.config.batch_norm && bu > 0).then(|| enumerated_row_weights(bl, bu, k));
        let rows = BoundRows {
            x: x_rows,
            ys,
            weights,
            bl,
            bu,
        };
        let qa_pre = self.qa.part(tape, 0, x);
        let qa_stats = self.qa.head(tape, qa_pre, None, None);
        let q_a = Self::halves(tape, qa_stats);
        let parts = XParts {
            qy: self.qy.part(tape, 0, x),
            qz: self.qz.part(tape, 0, x),
            pa: (!self.config.skip).then(|| self.pa.part(tape, 1, x)),
        };
        let losses = (0..self.config.mc_samples)
            .map(|_| self.draw_loss(tape, batch, &rows, &parts, q_a, rng))
            .collect();
        mean_loss(tape, losses)
    }
}
