//! Vengalil & Sinha's cluster-based active labelling model: a convolutional
//! β-VAE with a softmax head on its latent mean, trained first without
//! labels, then on labels that an oracle gave to decoded cluster centres and
//! that were propagated to every member of the cluster with a weight.
//!
//! Generative model: p(z) = N(0, I), p(x | z) = Bernoulli(σ(g_θ(z))) with
//! g a dense layer, a dense layer to (32, H/2, W/2) and a 4×4 stride-2
//! transposed convolution. Inference model: q(z | x) = N(μ_φ(x), diag e^{lv_φ(x)})
//! with one 4×4 stride-2 convolution (32 channels) and two dense layers.
//! Head: p(y | x) = softmax(W·μ_φ(x) + b).
//!
//! Objective (minimised), per batch of B examples:
//! (1/B) Σₙ [ −log p(xₙ | zₙ) + β·KL(q(z|xₙ) ‖ p(z)) + γ·wₙ·CE(yₙ, p(y|xₙ)) ],
//! one reparameterised sample zₙ; wₙ and yₙ are the propagated weight and
//! label of example n (wₙ = 0 before any labelling, and for examples no
//! labelled cluster holds; wₙ = 1 for the dataset's own labelled examples,
//! if the run has any). The labelling iterations run between epochs
//! ([`crate::active`]); their results live in the parameter store, so
//! checkpoints keep them.

use std::sync::atomic::Ordering;

use super::{Batch, EpochContext, Loss, Model};
use crate::active::{
    run_iteration, ActiveConfig, DatasetOracle, IterationInput, IterationOutcome, Style,
    TerminalOracle,
};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, Conv2d, ConvTranspose2d, Init, Linear};
use crate::ops;
use crate::ops::conv_transpose::ConvTransposeGeometry;
use crate::rng::StreamRng;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// The model's shape and loop settings.
#[derive(Clone, Debug)]
pub struct ClusterVaeConfig {
    /// (C, H, W) of the images.
    pub image: [usize; 3],
    /// Classes of the head.
    pub classes: usize,
    /// Latent width (paper: 10).
    pub z_dim: usize,
    /// Width of the dense layers (peer: 256).
    pub hidden: usize,
    /// Channels of the convolution (32).
    pub channels: usize,
    /// Hidden activation (paper: leaky ReLU).
    pub activation: Activation,
    /// Training examples (one propagated label and weight each).
    pub train_examples: usize,
    /// Loss weights and the labelling loop.
    pub active: ActiveConfig,
    /// Seed of the clusterings.
    pub seed: u64,
}

/// The β-VAE with its classification head and propagated labels.
pub struct ClusterVae {
    config: ClusterVaeConfig,
    conv: Conv2d,
    enc_hidden: Linear,
    enc_out: Linear,
    dec_hidden: Linear,
    dec_map: Linear,
    deconv: ConvTranspose2d,
    head: Linear,
    /// (C₁, H', W') after the stride-2 convolution.
    feature: [usize; 3],
    /// Buffers: propagated class per training example (−1: none), its
    /// weight, and [iterations done, labels spent].
    label: ParamId,
    weight: ParamId,
    state: ParamId,
}

impl ClusterVae {
    /// Creates the parameters under `clustervae.*`.
    pub fn new(
        store: &mut ParamStore,
        config: ClusterVaeConfig,
        rng: &mut StreamRng,
    ) -> Result<Self> {
        let [c, h, w] = config.image;
        if h < 2 || w < 2 {
            return Err(Error::Usage(format!(
                "clustervae needs images of at least 2×2 pixels, not {h}×{w}"
            )));
        }
        config.active.validate()?;
        let (ch, z, hid) = (config.channels, config.z_dim, config.hidden);
        // 4×4, stride 2, padding 1: ⌊(s − 2)/2⌋ + 1 per side.
        let (h2, w2) = ((h - 2) / 2 + 1, (w - 2) / 2 + 1);
        let flat = ch * h2 * w2;
        let init = Init::HeNormal;
        let p = "clustervae";
        let conv = Conv2d::new(
            store,
            &format!("{p}.enc.conv"),
            c,
            ch,
            4,
            2,
            1,
            true,
            init,
            rng,
        );
        let enc_hidden = Linear::new(store, &format!("{p}.enc.hidden"), flat, hid, init, rng);
        let enc_out = Linear::new(
            store,
            &format!("{p}.enc.out"),
            hid,
            2 * z,
            Init::GlorotUniform,
            rng,
        );
        let dec_hidden = Linear::new(store, &format!("{p}.dec.hidden"), z, hid, init, rng);
        let dec_map = Linear::new(store, &format!("{p}.dec.map"), hid, flat, init, rng);
        // Transposed 4×4 stride 2 padding 1 doubles each side; odd sides
        // need one row/column of output padding (the same for both sides).
        let output_padding = h - 2 * h2;
        if w - 2 * w2 != output_padding {
            return Err(Error::Usage(format!(
                "clustervae needs both image sides even or both odd, not {h}×{w}"
            )));
        }
        let geometry = ConvTransposeGeometry {
            stride: 2,
            padding: 1,
            output_padding,
        };
        let deconv = ConvTranspose2d::new(
            store,
            &format!("{p}.dec.deconv"),
            ch,
            c,
            4,
            geometry,
            true,
            Init::GlorotUniform,
            rng,
        );
        let head = Linear::new(
            store,
            &format!("{p}.head"),
            z,
            config.classes,
            Init::GlorotUniform,
            rng,
        );
        let n = config.train_examples;
        let label = store.add_buffer(
            &format!("{p}.active.label"),
            Tensor::new(&[n], vec![-1.0; n]),
        );
        let weight = store.add_buffer(&format!("{p}.active.weight"), Tensor::zeros(&[n]));
        let state = store.add_buffer(&format!("{p}.active.state"), Tensor::zeros(&[2]));
        Ok(ClusterVae {
            feature: [ch, h2, w2],
            config,
            conv,
            enc_hidden,
            enc_out,
            dec_hidden,
            dec_map,
            deconv,
            head,
            label,
            weight,
            state,
        })
    }

    /// q(z|x)'s mean and log-variance for x: (B, D).
    pub fn encode(&self, tape: &mut Tape, x: Var) -> (Var, Var) {
        let b = tape.shape(x)[0];
        let [c, h, w] = self.config.image;
        let img = ops::reshape(tape, x, &[b, c, h, w]);
        let act = self.config.activation;
        let f = self.conv.forward_activated(tape, img, act);
        // The dense layer reads the (B, C₁, H', W') features as rows.
        let hdn = self
            .enc_hidden
            .forward_activated(tape, f, &[b, self.config.hidden], act);
        let out = self.enc_out.forward(tape, hdn);
        let z = self.config.z_dim;
        (
            ops::slice(tape, out, 1, 0, z),
            ops::slice(tape, out, 1, z, z),
        )
    }

    /// p(x|z)'s logits for codes z: (B, Z) → (B, D).
    pub fn decode_logits(&self, tape: &mut Tape, z: Var) -> Var {
        let b = tape.shape(z)[0];
        let act = self.config.activation;
        let hdn = self
            .dec_hidden
            .forward_activated(tape, z, &[b, self.config.hidden], act);
        let [fc, fh, fw] = self.feature;
        let m = self
            .dec_map
            .forward_activated(tape, hdn, &[b, fc, fh, fw], act);
        let out = self.deconv.forward(tape, m);
        let [c, h, w] = self.config.image;
        ops::reshape(tape, out, &[b, c * h * w])
    }

    /// Iterations done and labels spent so far.
    pub fn progress(&self, store: &ParamStore) -> (usize, usize) {
        let s = store.value(self.state).data();
        (s[0] as usize, s[1] as usize)
    }

    /// Posterior means of every row of `x` (n × D), in chunks.
    fn all_means(&self, store: &ParamStore, x: &[f32], dim: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.len() / dim * self.config.z_dim);
        for chunk in x.chunks(500 * dim) {
            let mut tape = Tape::no_grad(store);
            let v = tape.constant(Tensor::new(&[chunk.len() / dim, dim], chunk.to_vec()));
            let (mu, _) = self.encode(&mut tape, v);
            out.extend_from_slice(tape.value(mu).data());
        }
        out
    }

    /// The propagated (label, weight) of training rows `rows`, with weight
    /// 0 (label 0) for rows without one.
    fn propagated(&self, store: &ParamStore, rows: &[usize]) -> (Vec<usize>, Vec<f32>) {
        let (l, w) = (
            store.value(self.label).data(),
            store.value(self.weight).data(),
        );
        rows.iter()
            .map(|&r| {
                if l[r] >= 0.0 {
                    (l[r] as usize, w[r])
                } else {
                    (0, 0.0)
                }
            })
            .unzip()
    }
}

impl Model for ClusterVae {
    fn name(&self) -> &'static str {
        "clustervae"
    }

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let (nl, nu) = (batch.labelled.shape()[0], batch.unlabelled.shape()[0]);
        let (mut labels, mut weights) = (batch.labels.clone(), vec![1.0f32; nl]);
        if batch.unlabelled_index.len() == nu {
            let (l, w) = self.propagated(tape.store(), &batch.unlabelled_index);
            labels.extend(l);
            weights.extend(w);
        } else {
            labels.extend(std::iter::repeat_n(0, nu));
            weights.extend(std::iter::repeat_n(0.0, nu));
        }
        let x = match (nl, nu) {
            (_, 0) => tape.constant(batch.labelled.clone()),
            (0, _) => tape.constant(batch.unlabelled.clone()),
            _ => {
                let a = tape.constant(batch.labelled.clone());
                let b = tape.constant(batch.unlabelled.clone());
                ops::concat(tape, &[a, b], 0)
            }
        };
        let examples = nl + nu;
        let (mu, lv) = self.encode(tape, x);
        let z = ops::gaussian_sample(tape, mu, lv, rng);
        let logits = self.decode_logits(tape, z);
        let rec = ops::bce_with_logits(tape, logits, x);
        let kl = ops::kl_std_normal(tape, mu, lv);
        let kl = ops::mul_scalar(tape, kl, self.config.active.beta * batch.kl_weight);
        let rec_mean = ops::mean_all(tape, rec);
        let kl_mean = ops::mean_all(tape, kl);
        let mut total = ops::add(tape, rec_mean, kl_mean);
        let mut terms = vec![("reconstruction", rec_mean), ("beta_kl", kl_mean)];
        if weights.iter().any(|&w| w > 0.0) {
            let head = self.head.forward(tape, mu);
            let ce = ops::cross_entropy(tape, head, &labels, Some(&weights));
            let ce = ops::mean_all(tape, ce);
            terms.push(("weighted_cross_entropy", ce));
            let scaled = ops::mul_scalar(tape, ce, self.config.active.gamma);
            total = ops::add(tape, total, scaled);
        }
        Loss {
            total,
            terms,
            examples,
        }
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let (mu, _) = self.encode(tape, x);
        let logits = self.head.forward(tape, mu);
        ops::log_softmax(tape, logits)
    }

    fn num_classes(&self) -> usize {
        self.config.classes
    }

    fn latent_dim(&self) -> Option<usize> {
        Some(self.config.z_dim)
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        Some(self.encode(tape, x).0)
    }

    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let (mu, _) = self.encode(tape, x);
        self.sample(tape, mu, &[])
    }

    fn sample(&self, tape: &mut Tape, noise: Var, _classes: &[usize]) -> Option<Var> {
        let logits = self.decode_logits(tape, noise);
        Some(ops::sigmoid(tape, logits))
    }

    fn begin_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> Result<()> {
        let a = &self.config.active;
        let Some(since) = ctx.epoch.checked_sub(a.warmup_epochs) else {
            return Ok(());
        };
        if since % a.iteration_epochs != 0 || since / a.iteration_epochs >= a.iterations {
            return Ok(());
        }
        let iteration = since / a.iteration_epochs;
        let (done, spent) = self.progress(store);
        if done > iteration {
            return Ok(()); // resumed after this iteration's labelling
        }
        if done < iteration {
            return Err(Error::Other(format!(
                "labelling iteration {} is due but only {done} are done",
                iteration + 1
            )));
        }
        let Some(run_dir) = ctx.run_dir else {
            return Err(Error::Other(
                "clustervae's labelling needs a run directory".into(),
            ));
        };
        let train = ctx.train;
        let z = self.all_means(store, &train.x, train.dim);
        let frozen: &ParamStore = store;
        let decode = |c: &[f32]| -> Result<Vec<f32>> {
            let mut tape = Tape::no_grad(frozen);
            let v = tape.constant(Tensor::new(&[1, c.len()], c.to_vec()));
            let mean = self.sample(&mut tape, v, &[]).expect("clustervae decodes");
            Ok(tape.value(mean).data().to_vec())
        };
        let input = IterationInput {
            iteration: iteration + 1,
            z: &z,
            dim: self.config.z_dim,
            train,
            cfg: a,
            seed: self.config.seed,
            decode: &decode,
            run_dir,
        };
        let outcome = match a.oracle()? {
            crate::active::config::OracleKind::Dataset => {
                let labels = train.labels.as_deref().ok_or_else(|| {
                    Error::Usage("--oracle dataset needs a labelled training set".into())
                })?;
                let mut oracle = DatasetOracle {
                    labels,
                    classes: self.config.classes,
                    neighbours: a.oracle_neighbours,
                };
                run_iteration(&input, &mut oracle)?
            }
            crate::active::config::OracleKind::Interactive => {
                use std::io::IsTerminal;
                let style =
                    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                        Style::HalfBlocks
                    } else {
                        Style::Ascii
                    };
                let mut oracle =
                    TerminalOracle::new(std::io::stdin().lock(), std::io::stdout(), style);
                run_iteration(&input, &mut oracle)?
            }
        };
        let prop = match outcome {
            IterationOutcome::Quit => {
                if let Some(flag) = ctx.interrupt {
                    flag.store(true, Ordering::SeqCst);
                }
                return Ok(());
            }
            IterationOutcome::Done(p) => p,
        };
        let n = train.n;
        let mut label = store.value(self.label).data().to_vec();
        let mut weight = store.value(self.weight).data().to_vec();
        let mut covered = 0usize;
        for (r, lw) in prop.labels.iter().enumerate().take(n) {
            if let Some((c, w)) = *lw {
                if w > 0.0 {
                    label[r] = c as f32;
                    weight[r] = w;
                    covered += 1;
                }
            }
        }
        store.set_value(self.label, Tensor::new(&[n], label))?;
        store.set_value(self.weight, Tensor::new(&[n], weight))?;
        let spent = spent + prop.asked;
        store.set_value(
            self.state,
            Tensor::new(&[2], vec![(done + 1) as f32, spent as f32]),
        )?;
        if !ctx.quiet {
            println!(
                "labelling iteration {}: {} queries ({} labels spent so far), {covered} samples received a label",
                iteration + 1,
                prop.asked,
                spent
            );
        }
        Ok(())
    }

    fn epoch_metrics(&self, store: &ParamStore) -> Vec<(&'static str, f64)> {
        let (done, spent) = self.progress(store);
        let w = store.value(self.weight).data();
        let labelled = w.iter().filter(|&&v| v > 0.0).count();
        vec![
            ("labelling_iterations", done as f64),
            ("labels_spent", spent as f64),
            ("propagated_samples", labelled as f64),
        ]
    }
}
