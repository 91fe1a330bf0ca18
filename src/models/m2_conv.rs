//! M2 with convolutional networks (`--model m2 --arch conv`): the model and
//! objective of [`super::m2`] (same generative model, inference model,
//! exactly enumerated y, α-weighted cross-entropy), with the networks of
//! [`super::conv_arch`]:
//!
//! * q(y | x): [`ConvClassifier`] (three convolutions, two max-pools, dense
//!   to K logits);
//! * q(z | x, y): [`ConvTrunk`] on x, then a [`DenseHead`] whose first
//!   layer adds the class rows T[y]: the conv features and W·f + b are
//!   computed once per example, only the class rows differ between the K
//!   enumerated copies of an unlabelled example;
//! * p(x | y, z): [`ConvDecoder`] whose dense layer adds the class rows.
//!
//! Labelled and unlabelled examples go through q(y|x) and the trunk in one
//! batch (one set of batch-norm statistics per step), and through one bound
//! over B_l + K·B_u rows: each labelled example with its label, then row
//! B_l + t·B_u + i pairs unlabelled example i with class t.

use super::conv_arch::{ConvArch, ConvClassifier, ConvDecoder, ConvTrunk, DenseHead};
use super::enumerate;
use super::m2::M2Config;
use super::{Batch, Loss, Model};
use crate::autograd::{ParamStore, Tape, Var};
use crate::ops;
use crate::rng::StreamRng;

/// The convolutional M2.
pub struct ConvM2 {
    config: M2Config,
    arch: ConvArch,
    qy: ConvClassifier,
    qz_trunk: ConvTrunk,
    qz_head: DenseHead,
    px: ConvDecoder,
}

impl ConvM2 {
    /// Creates the parameters in `store` (`qy.*`, `qz.*`, `px.*`).
    /// `config.hidden` gives the dense widths of q(z|x,y); the networks use
    /// `arch.activation`, not `config.activation`.
    pub fn new(
        store: &mut ParamStore,
        config: M2Config,
        arch: ConvArch,
        rng: &mut StreamRng,
    ) -> crate::Result<Self> {
        let act = arch.activation;
        if config.hidden.is_empty() {
            return Err(crate::Error::Usage(
                "m2 needs at least one hidden layer".into(),
            ));
        }
        if arch.input_dim() != config.input_dim {
            return Err(crate::Error::Usage(format!(
                "--arch conv: image shape {:?} does not match {} features",
                arch.image, config.input_dim
            )));
        }
        let (k, z) = (config.classes, config.z_dim);
        let qy = ConvClassifier::new(store, "qy", &arch, k, act, rng);
        let qz_trunk = ConvTrunk::new(store, "qz", arch.image, &arch.channels, act, rng);
        let qz_head = DenseHead::new(
            store,
            "qz",
            qz_trunk.features(),
            &config.hidden,
            2 * z,
            Some(k),
            act,
            arch.dropout,
            rng,
        );
        let out_channels =
            config.likelihood.output_width(config.input_dim) / (arch.image[1] * arch.image[2]);
        let px = ConvDecoder::new(store, "px", z, &arch, out_channels, Some(k), act, rng);
        Ok(ConvM2 {
            config,
            arch,
            qy,
            qz_trunk,
            qz_head,
            px,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &M2Config {
        &self.config
    }

    /// The network sizes.
    pub fn arch(&self) -> &ConvArch {
        &self.arch
    }

    /// The most probable class of each row of x under q(y|x).
    fn predicted(&self, tape: &mut Tape, x: Var) -> Vec<usize> {
        let logits = self.qy.forward(tape, x, None);
        super::argmax_rows(tape, logits)
    }

    /// q(z|x,y)'s mean for x at the classes `ys` (no dropout).
    fn z_mean(&self, tape: &mut Tape, x: Var, ys: &[usize]) -> Var {
        let feats = self.qz_trunk.forward(tape, x);
        let pre = self.qz_head.first_layer(tape, feats);
        let stats = self.qz_head.finish(tape, pre, Some(ys), None);
        ops::slice(tape, stats, 1, 0, self.config.z_dim)
    }

    /// The mean of p(x|y,z) for codes z and classes `ys`.
    fn decoded_mean(&self, tape: &mut Tape, z: Var, ys: &[usize]) -> Var {
        let zw = self.px.first_layer(tape, z);
        let out = self.px.finish(tape, zw, Some(ys));
        self.config
            .likelihood
            .mean(tape, out, self.config.input_dim)
    }

    /// Per-row bound L(x, y) for rows `x_rows` with classes `ys`, given the
    /// first dense layer of q(z|x,y) already applied to each row's features
    /// (`pre`, one row per bound row).
    fn bound(
        &self,
        tape: &mut Tape,
        x_rows: Var,
        pre: Var,
        ys: &[usize],
        kl_weight: f32,
        rng: &mut StreamRng,
    ) -> Var {
        let z = self.config.z_dim;
        let stats = self.qz_head.finish(tape, pre, Some(ys), Some(&mut *rng));
        let mu = ops::slice(tape, stats, 1, 0, z);
        let logvar = ops::slice(tape, stats, 1, z, z);
        let zs = ops::gaussian_sample(tape, mu, logvar, rng);
        let zw = self.px.first_layer(tape, zs);
        let out = self.px.finish(tape, zw, Some(ys));
        let rec = self
            .config
            .likelihood
            .negative_log_likelihood(tape, out, x_rows, None);
        enumerate::row_bound(tape, rec, mu, logvar, kl_weight, self.config.classes)
    }
}

impl Model for ConvM2 {
    fn name(&self) -> &'static str {
        "m2"
    }

    fn num_classes(&self) -> usize {
        self.config.classes
    }

    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var {
        let logits = self.qy.forward(tape, x, None);
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

    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss {
        let k = self.config.classes;
        let (x, bl, bu) = enumerate::inputs(tape, batch);
        let logits = self.qy.forward(tape, x, Some(&mut *rng));
        let feats = self.qz_trunk.forward(tape, x);
        let pre = self.qz_head.first_layer(tape, feats);
        let pre_rows = enumerate::bound_rows(tape, pre, bl, bu, k);
        let (x_rows, ys) = enumerate::rows_and_classes(tape, batch, x, k);
        let bound = self.bound(tape, x_rows, pre_rows, &ys, batch.kl_weight, rng);
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
