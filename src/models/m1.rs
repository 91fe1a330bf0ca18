//! Kingma et al.'s M1: a VAE trained on all the data, then a classifier on
//! its posterior means trained on the labelled examples only.
//!
//! Generative model: p(z) = N(0, I), p(x | z) = Bernoulli(σ(f_θ(z))).
//! Inference model: q(z | x) = N(μ_φ(x), diag e^{lv_φ(x)}).
//! Objective (minimised): mean over every example, labelled or not, of
//! E_q[−log p(x | z)] + KL(q(z|x) ‖ p(z)) (one reparameterised sample).
//! Classifier: a linear head (softmax regression or linear SVM) on μ_φ(x),
//! refitted on the labelled examples after every epoch; or, transductively
//! as the paper's TSVM, label spreading over the means of every training
//! example ([`super::label_spreading`]).
//!
//! Networks: MLPs of widths `hidden`, or with [`Arch::Conv`] (images) a
//! [`ConvTrunk`] and a [`DenseHead`] for q(z|x) and a [`ConvDecoder`] for
//! p(x|z) (see [`super::conv_arch`]).

use serde::{Deserialize, Serialize};

use super::conv_arch::{Arch, ConvDecoder, ConvTrunk, DenseHead};
use super::head::{HeadKind, LinearHead};
use super::label_spreading::SpreadingHead;
use super::likelihood::Likelihood;
use super::{Batch, EpochContext, Loss, Model};
use crate::autograd::{ParamStore, Tape, Var};
use crate::nn::{Activation, Init, Mlp};
use crate::ops;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// M1's architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct M1Config {
    /// Input width D.
    pub input_dim: usize,
    /// Number of classes of the head.
    pub classes: usize,
    /// Latent width.
    pub z_dim: usize,
    /// Hidden widths of encoder and decoder (e.g. [500, 500]).
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: String,
    /// The classifier on the posterior means.
    pub head: HeadKind,
    /// The observation model p(x | z).
    pub likelihood: Likelihood,
    /// Training examples (labelled and not): the spreading head keeps one
    /// row per example.
    pub train_examples: usize,
}

/// The classifier on the posterior means.
enum Head {
    Linear(LinearHead),
    Spreading(SpreadingHead),
}

/// The encoder and decoder networks.
enum Nets {
    Mlp { enc: Mlp, dec: Mlp },
    Conv(Box<ConvNets>),
}

/// q(z|x) and p(x|z) of [`Arch::Conv`].
struct ConvNets {
    trunk: ConvTrunk,
    dense: DenseHead,
    dec: ConvDecoder,
}

/// The M1 model.
pub struct M1 {
    config: M1Config,
    nets: Nets,
    head: Head,
}

impl M1 {
    /// Creates the parameters in `store` under `prefix` (e.g. `m1`), with MLPs.
    pub fn new(
        store: &mut ParamStore,
        prefix: &str,
        config: M1Config,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        Self::with_arch(store, prefix, config, &Arch::Mlp, rng)
    }

    /// Creates the parameters in `store` under `prefix` with the networks
    /// of `arch` (`<prefix>.enc.*`, `<prefix>.dec.*`, `<prefix>.head.*`).
    pub fn with_arch(
        store: &mut ParamStore,
        prefix: &str,
        config: M1Config,
        arch: &Arch,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        let act = Activation::parse(&config.activation).ok_or_else(|| {
            crate::Error::Usage(format!("unknown activation '{}'", config.activation))
        })?;
        let nets = match arch {
            Arch::Mlp => Self::mlp_nets(store, prefix, &config, act, rng),
            Arch::Conv(conv) => {
                if conv.input_dim() != config.input_dim || config.hidden.is_empty() {
                    return Err(crate::Error::Usage(format!(
                        "--arch conv: image shape {:?} for {} features and hidden widths {:?}",
                        conv.image, config.input_dim, config.hidden
                    )));
                }
                let act = conv.activation;
                let enc = format!("{prefix}.enc");
                let trunk = ConvTrunk::new(store, &enc, conv.image, &conv.channels, act, rng);
                let dense = DenseHead::new(
                    store,
                    &enc,
                    trunk.features(),
                    &config.hidden,
                    2 * config.z_dim,
                    None,
                    act,
                    conv.dropout,
                    rng,
                );
                let [_, h, w] = conv.image;
                let out_channels = config.likelihood.output_width(config.input_dim) / (h * w);
                let dec = ConvDecoder::new(
                    store,
                    &format!("{prefix}.dec"),
                    config.z_dim,
                    conv,
                    out_channels,
                    None,
                    act,
                    rng,
                );
                Nets::Conv(Box::new(ConvNets { trunk, dense, dec }))
            }
        };
        let name = format!("{prefix}.head");
        let head = match config.head {
            HeadKind::Spreading => Head::Spreading(SpreadingHead::new(
                store,
                &name,
                config.train_examples,
                config.z_dim,
                config.classes,
            )),
            kind => Head::Linear(LinearHead::new(
                store,
                &name,
                config.z_dim,
                config.classes,
                kind,
            )),
        };
        Ok(M1 { config, nets, head })
    }

    fn mlp_nets(
        store: &mut ParamStore,
        prefix: &str,
        config: &M1Config,
        act: Activation,
        rng: &mut StreamRng,
    ) -> Nets {
        let mut enc_sizes = vec![config.input_dim];
        enc_sizes.extend(&config.hidden);
        enc_sizes.push(2 * config.z_dim);
        let mut dec_sizes = vec![config.z_dim];
        dec_sizes.extend(config.hidden.iter().rev());
        dec_sizes.push(config.likelihood.output_width(config.input_dim));
        let enc = Mlp::new(
            store,
            &format!("{prefix}.enc"),
            &enc_sizes,
            act,
            Init::HeNormal,
            rng,
        );
        let dec = Mlp::new(
            store,
            &format!("{prefix}.dec"),
            &dec_sizes,
            act,
            Init::HeNormal,
            rng,
        );
        Nets::Mlp { enc, dec }
    }

    /// Latent width.
    pub fn z_dim(&self) -> usize {
        self.config.z_dim
    }

    /// q(z|x)'s mean and log-variance for x: (B, D) (no dropout).
    pub fn encode(&self, tape: &mut Tape, x: Var) -> (Var, Var) {
        self.encode_with(tape, x, None)
    }

    /// As [`M1::encode`], with dropout (conv networks) drawn from `rng` when
    /// given and the tape is in training mode.
    fn encode_with(&self, tape: &mut Tape, x: Var, rng: Option<&mut StreamRng>) -> (Var, Var) {
        let h = match &self.nets {
            Nets::Mlp { enc, .. } => enc.forward(tape, x),
            Nets::Conv(c) => {
                let f = c.trunk.forward(tape, x);
                c.dense.forward(tape, f, rng)
            }
        };
        let z = self.config.z_dim;
        (ops::slice(tape, h, 1, 0, z), ops::slice(tape, h, 1, z, z))
    }

    /// p(x|z)'s output (logits for Bernoulli) for codes z: (B, Z).
    fn decode(&self, tape: &mut Tape, z: Var) -> Var {
        match &self.nets {
            Nets::Mlp { dec, .. } => dec.forward(tape, z),
            Nets::Conv(c) => c.dec.forward(tape, z),
        }
    }

    /// The mean of p(x|z) for codes z: (B, Z).
    fn decoded_mean(&self, tape: &mut Tape, z: Var) -> Var {
        let out = self.decode(tape, z);
        self.config
            .likelihood
            .mean(tape, out, self.config.input_dim)
    }

    /// Mean per example of the negative ELBO of x: (B, D).
    /// `kl_weight` scales the KL term (1 for the true bound).
    pub fn negative_elbo(
        &self,
        tape: &mut Tape,
        x: Var,
        kl_weight: f32,
        rng: &mut StreamRng,
    ) -> Var {
        let (mu, lv) = self.encode_with(tape, x, Some(&mut *rng));
        let z = ops::gaussian_sample(tape, mu, lv, rng);
        let out = self.decode(tape, z);
        let rec = self
            .config
            .likelihood
            .negative_log_likelihood(tape, out, x, None);
        let kl = ops::kl_std_normal(tape, mu, lv);
        let kl = if kl_weight == 1.0 {
            kl
        } else {
            ops::mul_scalar(tape, kl, kl_weight)
        };
        let per = ops::add(tape, rec, kl);
        ops::mean_all(tape, per)
    }

    /// Posterior means of rows `indices` of a dataset, in chunks (no gradient).
    pub fn posterior_means(
        &self,
        store: &ParamStore,
        x: &[f32],
        dim: usize,
        indices: &[usize],
    ) -> Tensor {
        let z = self.config.z_dim;
        let mut out = Vec::with_capacity(indices.len() * z);
        for chunk in indices.chunks(1000) {
            let mut rows = Vec::with_capacity(chunk.len() * dim);
            for &i in chunk {
                rows.extend_from_slice(&x[i * dim..(i + 1) * dim]);
            }
            let mut tape = Tape::no_grad(store);
            let xv = tape.constant(Tensor::new(&[chunk.len(), dim], rows));
            let (mu, _) = self.encode(&mut tape, xv);
            out.extend_from_slice(tape.value(mu).data());
        }
        Tensor::new(&[indices.len(), z], out)
    }
}

impl Model for M1 {
    fn name(&self) -> &'static str {
        "m1"
    }

    fn latent_dim(&self) -> Option<usize> {
        Some(self.config.z_dim)
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        Some(self.encode(tape, x).0)
    }

    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let (mu, _) = self.encode(tape, x);
        Some(self.decoded_mean(tape, mu))
    }

    fn sample(&self, tape: &mut Tape, noise: Var, _classes: &[usize]) -> Option<Var> {
        Some(self.decoded_mean(tape, noise))
    }

    fn num_classes(&self) -> usize {
        self.config.classes
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let (mu, _) = self.encode(tape, x);
        match &self.head {
            Head::Linear(h) => h.log_probs(tape, mu),
            Head::Spreading(h) => {
                let lp = h.log_probs(tape.store(), tape.value(mu));
                tape.constant(lp)
            }
        }
    }

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        // The VAE ignores labels; the labelled examples are a tiny subset
        // that would only be seen again and again, so they are used only
        // when a batch has nothing else.
        let x = if batch.unlabelled.shape()[0] > 0 {
            tape.constant(batch.unlabelled.clone())
        } else {
            tape.constant(batch.labelled.clone())
        };
        let examples = tape.shape(x)[0];
        let total = self.negative_elbo(tape, x, batch.kl_weight, rng);
        Loss {
            total,
            terms: vec![("negative_elbo", total)],
            examples,
        }
    }

    fn end_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> crate::Result<()> {
        let train = ctx.train;
        let labels_all = train
            .labels
            .as_ref()
            .ok_or_else(|| crate::Error::Usage("m1 needs labels".into()))?;
        let labels: Vec<usize> = ctx
            .labelled
            .iter()
            .map(|&i| labels_all[i] as usize)
            .collect();
        match &self.head {
            Head::Linear(h) => {
                let means = self.posterior_means(store, &train.x, train.dim, ctx.labelled);
                h.fit(store, &means, &labels)
            }
            Head::Spreading(h) => {
                let all: Vec<usize> = (0..train.n).collect();
                let means = self.posterior_means(store, &train.x, train.dim, &all);
                h.fit(store, &means, ctx.labelled, &labels)
            }
        }
    }
}
