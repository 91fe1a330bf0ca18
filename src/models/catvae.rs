//! Figueroa & Ramírez Rivera's categorical VAE with auxiliary clustering
//! tasks (`--model catvae`, SIBGRAPI 2017), for square images (C, H, H).
//!
//! Networks (every weight LeCun-normal, N(0, 1/fan_in)):
//! * encoder: convolutions 16@6×6, 32@6×6, 64@4×4 stride 2 padding 1, then
//!   F@h×h with h the side left by the third one (9 for 28×28), so the map is
//!   1×1; each with batch-norm and the activation (ReLU in the paper). No conv
//!   bias: the batch-norm shift replaces it. The F outputs, L2-normalised, are
//!   the feature f = g(x)/‖g(x)‖ (`feature_norm`, on by default).
//! * q(c | x) = Cat(softmax(l)), logits l = MLP(f) with widths F–50–25–K
//!   (`logit_hidden`) and the activation between layers.
//! * c = Gumbel-Softmax(l, τ) = softmax((l + γ)/τ), γ standard Gumbel; τ is
//!   τ_e = max(τ_min, τ₀·e^{−r·e}) at epoch e (r = `tau_decay`, 0: fixed).
//! * decoder: x̂ = σ(D(W·[f; c] + b)), a linear layer F + K → F (K → F when
//!   `decoder_feature` is off) to a (F, 1, 1) map, then the mirrored
//!   transposed convolutions 64@h×h, 32@4×4 s2 p1, 16@6×6 (batch-norm and
//!   activation after each), C@6×6 with bias, and the sigmoid.
//!
//! Objective, minimised, over a batch of B = B_l + B_u rows (labelled first):
//! * L_R = (1/(B·D)) Σ_i ‖x̂_i − x_i‖² (`recon mse`: squared error normalised
//!   per pixel; our reading of "normalised MSE"), or with `recon bce`
//!   (1/(B·D)) Σ_i Σ_d −log Bern(x_id; x̂_id);
//! * L_C = (1/B) Σ_i KL(q(c|x_i) ‖ U(K)) / log K, in [0, 1];
//! * L_A, the assignment loss, and L_F, the feature loss, as defined in
//!   [`super::catvae_losses`] (1-NN or k-NN targets from the batch's
//!   labelled features, tanh-normalised pull/push on the logits, mean
//!   normalised squared distances to the labelled features of the class);
//! * L_CE = (1/B_l) Σ_labelled −log q(y_i | x_i) (weight 0 in the paper;
//!   the peer's bench model uses it).
//!
//! J = w_R·L_R + w_C·L_C + w_A·L_A + w_F·L_F + w_CE·L_CE. Terms with weight 0
//! are not built. Without labelled rows in a batch, L_A, L_F and L_CE vanish.
//!
//! Evaluation: the cluster of x is argmax q(c|x); after every epoch each
//! cluster is named after the majority label of the labelled training
//! examples it holds (a buffer, so checkpoints keep it; clusters holding no
//! labelled example stand for no class and count as errors).

use super::catvae_losses as aux;
pub use super::catvae_options::CatVaeOptions;
use super::{Batch, EpochContext, Loss, Model};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, BatchNorm, Conv2d, ConvTranspose2d, Init, Linear, Mlp};
use crate::ops;
use crate::ops::conv_transpose::ConvTransposeGeometry;
use crate::rng::StreamRng;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Sides of the encoder's maps for an h×h input: after the two 6×6, the
/// 4×4 stride-2 convolution; `None` when the image is too small.
fn encoder_sides(h: usize) -> Option<[usize; 3]> {
    let h1 = h.checked_sub(5)?;
    let h2 = h1.checked_sub(5).filter(|&s| s >= 2)?;
    Some([h1, h2, h2 / 2])
}

/// The categorical VAE (parameter ids and settings).
pub struct CatVae {
    opts: CatVaeOptions,
    image: [usize; 3],
    classes: usize,
    act: Activation,
    encoder: Vec<(Conv2d, BatchNorm)>,
    qc: Mlp,
    dec_in: Linear,
    decoder: Vec<(ConvTranspose2d, Option<BatchNorm>)>,
    tau: ParamId,
    class_map: ParamId,
}

impl CatVae {
    /// Creates the parameters in `store` for images of shape `image` and
    /// `classes` dataset classes.
    pub fn new(
        store: &mut ParamStore,
        opts: CatVaeOptions,
        image: [usize; 3],
        classes: usize,
        act: Activation,
        rng: &mut StreamRng,
    ) -> Result<Self> {
        opts.validate()?;
        let [c, h, w] = image;
        let sides = (h == w).then(|| encoder_sides(h)).flatten();
        let Some([h1, h2, h3]) = sides else {
            return Err(Error::Usage(format!(
                "catvae needs square images of side ≥ 12, not {c}×{h}×{w}"
            )));
        };
        let k = opts.clusters.unwrap_or(classes);
        if k < classes.max(2) {
            return Err(Error::Usage(format!(
                "--clusters {k} must be at least the {classes} dataset classes (and 2)"
            )));
        }
        let f = opts.feature_dim;
        let init = Init::LecunNormal;
        let enc_layers = [(16, 6, 1, 0), (32, 6, 1, 0), (64, 4, 2, 1), (f, h3, 1, 0)];
        let mut inp = c;
        let mut encoder = Vec::new();
        for (i, &(out, kernel, stride, pad)) in enc_layers.iter().enumerate() {
            let name = format!("enc.conv{i}");
            let conv = Conv2d::new(
                store, &name, inp, out, kernel, stride, pad, false, init, rng,
            );
            encoder.push((conv, BatchNorm::new(store, &format!("enc.bn{i}"), out)));
            inp = out;
        }
        let mut sizes = vec![f];
        sizes.extend(&opts.logit_hidden);
        sizes.push(k);
        let qc = Mlp::new(store, "qc", &sizes, act, init, rng);
        let dec_width = if opts.decoder_feature { f + k } else { k };
        let dec_in = Linear::new(store, "dec.in", dec_width, f, init, rng);
        // Mirror of the encoder; output padding restores an odd h2.
        let dec_layers = [
            (f, 64, h3, 1, 0, 0),
            (64, 32, 4, 2, 1, h2 - 2 * h3),
            (32, 16, 6, 1, 0, 0),
            (16, c, 6, 1, 0, 0),
        ];
        let mut decoder = Vec::new();
        for (i, &(ci, co, kernel, stride, padding, output_padding)) in dec_layers.iter().enumerate()
        {
            let last = i + 1 == dec_layers.len();
            let geo = ConvTransposeGeometry {
                stride,
                padding,
                output_padding,
            };
            let name = format!("dec.up{i}");
            let up = ConvTranspose2d::new(store, &name, ci, co, kernel, geo, last, init, rng);
            let bn = (!last).then(|| BatchNorm::new(store, &format!("dec.bn{i}"), co));
            decoder.push((up, bn));
        }
        debug_assert_eq!(h1 + 5, h);
        let tau = store.add_buffer("catvae.tau", Tensor::full(&[1], opts.tau));
        let class_map = store.add_buffer("catvae.class_map", Tensor::full(&[k], -1.0));
        Ok(CatVae {
            opts,
            image,
            classes: k,
            act,
            encoder,
            qc,
            dec_in,
            decoder,
            tau,
            class_map,
        })
    }

    /// The settings.
    pub fn options(&self) -> &CatVaeOptions {
        &self.opts
    }

    /// The feature f of rows x: (B, C·H·W) → (B, F).
    pub fn features(&self, tape: &mut Tape, x: Var) -> Var {
        let b = tape.shape(x)[0];
        let [c, h, w] = self.image;
        let mut v = ops::reshape(tape, x, &[b, c, h, w]);
        for (conv, bn) in &self.encoder {
            v = conv.forward(tape, v);
            v = bn.forward_activated(tape, v, self.act);
        }
        let v = ops::reshape(tape, v, &[b, self.opts.feature_dim]);
        if self.opts.feature_norm {
            ops::l2_normalize_rows(tape, v, 1e-12)
        } else {
            v
        }
    }

    /// The decoder's pixel logits for features f (B, F) and categories
    /// c (B, K): → (B, C·H·W) (the sigmoid is the loss's or the caller's).
    pub fn decode_logits(&self, tape: &mut Tape, f: Var, c: Var) -> Var {
        let b = tape.shape(c)[0];
        let input = if self.opts.decoder_feature {
            ops::concat(tape, &[f, c], 1)
        } else {
            c
        };
        let h = self.dec_in.forward(tape, input);
        let mut v = ops::reshape(tape, h, &[b, self.opts.feature_dim, 1, 1]);
        for (up, bn) in &self.decoder {
            v = up.forward(tape, v);
            if let Some(bn) = bn {
                v = bn.forward_activated(tape, v, self.act);
            }
        }
        let d: usize = self.image.iter().product();
        ops::reshape(tape, v, &[b, d])
    }

    /// L_R for pixel logits `out` and targets x, normalised per pixel.
    fn reconstruction(&self, tape: &mut Tape, out: Var, x: Var) -> Var {
        let d = tape.shape(x)[1] as f32;
        let per_row = if self.opts.recon == "bce" {
            ops::bce_with_logits(tape, out, x)
        } else {
            let mean = ops::sigmoid(tape, out);
            ops::squared_error(tape, mean, x)
        };
        let m = ops::mean_all(tape, per_row);
        ops::mul_scalar(tape, m, 1.0 / d)
    }

    /// The targets of all rows: the labels, then the k-NN assignments of
    /// the unlabelled rows from the features' values.
    fn targets(&self, tape: &Tape, f: Var, labels: &[usize]) -> Vec<usize> {
        let (bl, fd) = (labels.len(), self.opts.feature_dim);
        let data = tape.value(f).data();
        let (lab, unl) = data.split_at(bl * fd);
        let mut t = labels.to_vec();
        t.extend(aux::knn_assign(unl, lab, labels, fd, self.opts.assign_k));
        t
    }
}

impl Model for CatVae {
    fn name(&self) -> &'static str {
        "catvae"
    }

    fn num_classes(&self) -> usize {
        self.classes
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let f = self.features(tape, x);
        let logits = self.qc.forward(tape, f);
        ops::log_softmax(tape, logits)
    }

    fn class_map_in(&self, store: &ParamStore) -> Option<Vec<Option<u32>>> {
        let map = store.value(self.class_map).data();
        map.iter().any(|&v| v >= 0.0).then(|| {
            map.iter()
                .map(|&v| (v >= 0.0).then_some(v as u32))
                .collect()
        })
    }

    fn latent_dim(&self) -> Option<usize> {
        Some(self.opts.feature_dim)
    }

    fn latent_means(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        Some(self.features(tape, x))
    }

    fn exports_features(&self) -> bool {
        true
    }

    /// The decoder's mean at f and c = q(c|x) (no Gumbel noise).
    fn reconstruct(&self, tape: &mut Tape, x: Var) -> Option<Var> {
        let f = self.features(tape, x);
        let logits = self.qc.forward(tape, f);
        let q = ops::softmax(tape, logits);
        let out = self.decode_logits(tape, f, q);
        Some(ops::sigmoid(tape, out))
    }

    /// The decoder's mean at features `codes` (L2-normalised here, as the
    /// encoder's are) and the one-hot categories `classes`.
    fn decode_class(&self, tape: &mut Tape, codes: Var, classes: &[usize]) -> Option<Var> {
        let k = self.num_classes();
        let mut onehot = vec![0f32; classes.len() * k];
        for (r, &c) in classes.iter().enumerate() {
            onehot[r * k + c.min(k - 1)] = 1.0;
        }
        let c = tape.constant(Tensor::new(&[classes.len(), k], onehot));
        let f = ops::l2_normalize_rows(tape, codes, 1e-12);
        let out = self.decode_logits(tape, f, c);
        Some(ops::sigmoid(tape, out))
    }

    fn begin_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> Result<()> {
        store.get_mut(self.tau).value = Tensor::full(&[1], self.opts.tau_at(ctx.epoch));
        Ok(())
    }

    /// Names every cluster after the majority label of the labelled
    /// training examples it holds (ties: the smaller label).
    fn end_epoch(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) -> Result<()> {
        let Some(labels) = &ctx.train.labels else {
            return Ok(());
        };
        let (k, d) = (self.classes, ctx.train.dim);
        let classes = ctx.train.num_classes;
        let mut counts = vec![0usize; k * classes];
        for chunk in ctx.labelled.chunks(1000) {
            let mut x = Vec::with_capacity(chunk.len() * d);
            chunk
                .iter()
                .for_each(|&i| x.extend_from_slice(&ctx.train.x[i * d..(i + 1) * d]));
            let mut tape = Tape::no_grad(store);
            let xv = tape.constant(Tensor::new(&[chunk.len(), d], x));
            let lp = self.class_log_probs(&mut tape, xv);
            for (&c, &i) in super::argmax_rows(&tape, lp).iter().zip(chunk) {
                counts[c * classes + labels[i] as usize] += 1;
            }
        }
        let map: Vec<f32> = counts
            .chunks_exact(classes)
            .map(|row| {
                let best = (0..classes).fold(0, |b, j| if row[j] > row[b] { j } else { b });
                if row[best] > 0 {
                    best as f32
                } else {
                    -1.0
                }
            })
            .collect();
        store.get_mut(self.class_map).value = Tensor::new(&[k], map);
        Ok(())
    }

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let o = &self.opts;
        let (x, bl, bu) = super::enumerate::inputs(tape, batch);
        let f = self.features(tape, x);
        let logits = self.qc.forward(tape, f);
        let tau = tape.store().value(self.tau).data()[0];
        let c = ops::gumbel_softmax(tape, logits, tau, false, rng);
        let mut terms = Vec::new();
        if o.w_rec > 0.0 {
            let out = self.decode_logits(tape, f, c);
            terms.push(("reconstruction", o.w_rec, self.reconstruction(tape, out, x)));
        }
        if o.w_cat > 0.0 {
            let k = self.classes;
            let uniform = vec![-(k as f32).ln(); k];
            let kl = ops::categorical_kl(tape, logits, &uniform);
            let m = ops::mean_all(tape, kl);
            let v = ops::mul_scalar(tape, m, 1.0 / (k as f32).ln());
            terms.push(("categorical_kl", o.w_cat, v));
        }
        if bl > 0 && (o.w_assign > 0.0 || o.w_feature > 0.0) {
            let targets = self.targets(tape, f, &batch.labels);
            if o.w_assign > 0.0 {
                let v = aux::assignment_loss(tape, logits, &targets);
                terms.push(("assignment", o.w_assign, v));
            }
            if o.w_feature > 0.0 {
                let v = aux::feature_loss(tape, f, &targets, &batch.labels, o.feature_alpha);
                terms.push(("feature", o.w_feature, v));
            }
        }
        if bl > 0 && o.w_ce > 0.0 {
            let lab = ops::slice(tape, logits, 0, 0, bl);
            let ce = ops::cross_entropy(tape, lab, &batch.labels, None);
            terms.push(("cross_entropy", o.w_ce, ops::mean_all(tape, ce)));
        }
        let mut total: Option<Var> = None;
        for &(_, w, v) in &terms {
            let wv = ops::mul_scalar(tape, v, w);
            total = Some(match total {
                Some(t) => ops::add(tape, t, wv),
                None => wv,
            });
        }
        let total = total.unwrap_or_else(|| {
            let z = ops::mul_scalar(tape, logits, 0.0);
            ops::sum_all(tape, z)
        });
        Loss {
            total,
            terms: terms.into_iter().map(|(n, _, v)| (n, v)).collect(),
            examples: bl + bu,
        }
    }
}
