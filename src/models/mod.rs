//! The paper models, one file each. Every model builds its training loss on
//! a fresh tape from a [`Batch`] and predicts classes for evaluation; its
//! parameters live in the caller's `ParamStore`.

pub mod adgm;
pub mod catvae;
pub mod catvae_losses;
pub mod catvae_options;
pub mod class_layout;
pub mod clustervae;
pub mod conv_arch;
pub mod enumerate;
pub mod gmdgm;
pub mod head;
pub mod label_spreading;
pub mod likelihood;
pub mod m1;
pub mod m1m2;
pub mod m2;
pub mod m2_conv;
pub mod sdgm;
pub mod ssvae;
pub mod sum_mlp;

use crate::rng::StreamRng as InitRng;
use crate::train::TrainConfig;

use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::data::Dataset;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// One optimisation step's inputs: labelled examples with their classes,
/// unlabelled examples (either part may be empty), and the weight of the
/// KL terms (below 1 during a KL warm-up).
#[derive(Clone, Debug)]
pub struct Batch {
    /// Labelled inputs (B_l, D).
    pub labelled: Tensor,
    /// Their classes (B_l).
    pub labels: Vec<usize>,
    /// Unlabelled inputs (B_u, D).
    pub unlabelled: Tensor,
    /// Where each unlabelled row sits in the training split (empty when the
    /// rows do not come from it, e.g. benches and unit tests); models that
    /// keep per-example state (clustervae's propagated labels) read it.
    pub unlabelled_index: Vec<usize>,
    /// Multiplies every KL term of the bound (1 = the true bound).
    pub kl_weight: f32,
}

/// The loss of a step and its named parts (for logging).
pub struct Loss {
    /// The scalar to minimise.
    pub total: Var,
    /// Named scalar parts, e.g. `("labelled_elbo", v)`.
    pub terms: Vec<(&'static str, Var)>,
    /// How many examples of the batch the loss used (for throughput).
    pub examples: usize,
}

/// What a model sees at epoch boundaries: the epoch (0-based), the
/// training split and which of its examples are labelled.
pub struct EpochContext<'a> {
    /// The epoch about to start, or just finished.
    pub epoch: usize,
    /// The training split (features as loaded, not binarised).
    pub train: &'a Dataset,
    /// Indices of the labelled training examples.
    pub labelled: &'a [usize],
    /// The run directory, when there is one (a model that asks questions
    /// keeps the answers there).
    pub run_dir: Option<&'a std::path::Path>,
    /// Setting it stops the run after this call with a checkpoint (a model
    /// whose oracle quit).
    pub interrupt: Option<&'a std::sync::atomic::AtomicBool>,
    /// Whether the run prints nothing per epoch.
    pub quiet: bool,
}

/// What the trainer needs from a model.
pub trait Model: Send + Sync {
    /// The model's name (`m2`, …).
    fn name(&self) -> &'static str;

    /// Builds the training loss for `batch`; `rng` supplies all sampling.
    fn loss(&self, tape: &mut Tape, batch: &Batch, rng: &mut StreamRng) -> Loss;

    /// Log-probabilities of the classes for inputs x: (B, D) → (B, K).
    fn class_log_probs(&self, tape: &mut Tape, x: Var) -> Var;

    /// Number of classes (or clusters) the model predicts.
    fn num_classes(&self) -> usize;

    /// The dataset class each model class stands for (`None`: a class with
    /// no labelled counterpart, e.g. SSVAE's and GM-DGM's extra classes);
    /// `None` when model classes are the dataset classes.
    fn class_map(&self) -> Option<Vec<Option<u32>>> {
        None
    }

    /// The class map as of the parameters in `store`: a model that names
    /// its clusters during training (e.g. after the labelled examples they
    /// hold) keeps the names in a buffer of the store, so checkpoints and
    /// `eval` see them. Defaults to [`Model::class_map`]; callers that
    /// have the store use this one.
    fn class_map_in(&self, _store: &ParamStore) -> Option<Vec<Option<u32>>> {
        self.class_map()
    }

    /// Width of the latent code z that `latent.png` maps and `samples.png`
    /// draws; `None` for a model without one (the picture is skipped).
    fn latent_dim(&self) -> Option<usize> {
        None
    }

    /// Whether the trainer writes [`Model::latent_means`] of the test set
    /// to `features.npy` in the run directory (f32, shape (N, Z)).
    fn exports_features(&self) -> bool {
        false
    }

    /// The posterior mean of z for inputs x: (B, D) → (B, Z); for a
    /// class-conditional q(z|x,y), at the predicted class.
    fn latent_means(&self, _tape: &mut Tape, _x: Var) -> Option<Var> {
        None
    }

    /// The mean of p(x|·) at the posterior means of x's latent variables (and
    /// the predicted class, for class-conditional decoders): (B, D) → (B, D).
    fn reconstruct(&self, _tape: &mut Tape, _x: Var) -> Option<Var> {
        None
    }

    /// The mean of p(x|·) for standard-normal draws `noise`: (B, Z) and a
    /// class per row (ignored unless [`Model::class_conditional`]; a model
    /// with a per-class prior p(z|y) maps the noise through it).
    fn sample(&self, _tape: &mut Tape, _noise: Var, _classes: &[usize]) -> Option<Var> {
        None
    }

    /// The mean of p(x|·) for latent codes `codes`: (B, Z) and a class per
    /// row, for a decoder that takes both (a cluster's decoded centre from its
    /// members' mean code); `None` when the model has no such decoder or
    /// draws centres with [`Model::sample`].
    fn decode_class(&self, _tape: &mut Tape, _codes: Var, _classes: &[usize]) -> Option<Var> {
        None
    }

    /// Whether [`Model::sample`] depends on the class.
    fn class_conditional(&self) -> bool {
        false
    }

    /// Called before every epoch, also the first one after a resume, so it
    /// must be idempotent (e.g. switching training phases, freezing
    /// parameters by clearing `trainable`).
    fn begin_epoch(&self, _store: &mut ParamStore, _ctx: &EpochContext<'_>) -> crate::Result<()> {
        Ok(())
    }

    /// Extra numbers for metrics.jsonl and summary.json (e.g. clustervae's
    /// labels spent so far).
    fn epoch_metrics(&self, _store: &ParamStore) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Called after every epoch, before validation (e.g. fitting a classifier
    /// head on the labelled examples). Anything it changes must live in the
    /// store so checkpoints keep it.
    fn end_epoch(&self, _store: &mut ParamStore, _ctx: &EpochContext<'_>) -> crate::Result<()> {
        Ok(())
    }
}

/// act(a[src[r]] + table[ys[r]]): a class-conditioned first hidden layer from
/// the part W_v·v + b computed once per input (`a`, row `src[r]` for row r)
/// and its class table, with a rectifier fused into the same node.
pub fn conditioned_hidden(
    tape: &mut Tape,
    (a, src): (Var, &[usize]),
    table: Var,
    ys: &[usize],
    act: crate::nn::Activation,
) -> Var {
    match act.rectifier() {
        Some(r) => crate::ops::gathered_sum_rectified(tape, a, src, table, ys, Some(r)),
        None => {
            let h = crate::ops::gathered_sum(tape, a, src, table, ys);
            act.apply(tape, h)
        }
    }
}

/// The index of the largest entry of each row of `logits`: (B, K) → B
/// classes (the first one on ties), read off the tape.
pub fn argmax_rows(tape: &Tape, logits: Var) -> Vec<usize> {
    let k = tape.shape(logits)[1];
    tape.value(logits)
        .data()
        .chunks_exact(k)
        .map(|r| (0..k).fold(0, |b, j| if r[j] > r[b] { j } else { b }))
        .collect()
}

/// What a model's shape depends on in the data.
#[derive(Clone, Copy, Debug)]
pub struct ModelSpec {
    /// Features per example.
    pub input_dim: usize,
    /// Number of classes.
    pub classes: usize,
    /// Labelled training examples.
    pub labelled: usize,
    /// Unlabelled training examples.
    pub unlabelled: usize,
    /// (C, H, W) when the examples are images (needed by `--arch conv`).
    pub image_shape: Option<[usize; 3]>,
}

/// α (the mean labelled cross-entropy's weight) and the labelled bound's
/// weight, each relative to the unlabelled bound's mean: the config's values,
/// else its `weighting` rule's (see [`TrainConfig::weighting`]).
pub fn labelled_weights(config: &TrainConfig, spec: &ModelSpec) -> (f32, f32) {
    let (nl, nu) = (spec.labelled as f32, spec.unlabelled as f32);
    let dataset = config.weighting == "dataset" && nu > 0.0;
    let alpha = config.alpha.unwrap_or(if nl == 0.0 {
        0.0
    } else if dataset {
        0.1 * (nl + nu) * nl / nu
    } else {
        0.1 * (nl + nu) / nl
    });
    let bound = config
        .labelled_weight
        .unwrap_or(if dataset { nl / nu } else { 1.0 });
    (alpha, bound)
}

/// Builds the model named by `config.model`, adding its parameters to `store`.
pub fn build(
    config: &TrainConfig,
    spec: &ModelSpec,
    store: &mut ParamStore,
    rng: &mut InitRng,
) -> crate::Result<Box<dyn Model>> {
    let (alpha, labelled_weight) = labelled_weights(config, spec);
    let arch = conv_arch::Arch::resolve(
        &config.arch,
        &config.dataset,
        spec.image_shape,
        spec.input_dim,
    )?;
    match config.model.as_str() {
        "m2" => {
            let c = m2::M2Config {
                input_dim: spec.input_dim,
                classes: spec.classes,
                z_dim: config.z_dim,
                hidden: config.hidden.clone(),
                activation: config.activation.clone(),
                alpha,
                labelled_weight,
                likelihood: likelihood::Likelihood::parse(&config.likelihood)?,
            };
            match arch {
                conv_arch::Arch::Mlp => Ok(Box::new(m2::M2::new(store, c, rng)?)),
                conv_arch::Arch::Conv(a) => Ok(Box::new(m2_conv::ConvM2::new(store, c, a, rng)?)),
            }
        }
        "m1" => {
            let c = m1_config(config, spec)?;
            Ok(Box::new(m1::M1::with_arch(store, "m1", c, &arch, rng)?))
        }
        "m1m2" if arch != conv_arch::Arch::Mlp => Err(crate::Error::Usage(
            "--arch conv is available for m1 and m2 (m1m2 runs its frozen M1 encoder in \
             training mode, which batch-norm and dropout would change)"
                .into(),
        )),
        "gmdgm" | "ssvae" if arch != conv_arch::Arch::Mlp => Err(crate::Error::Usage(format!(
            "--arch conv is not available for {} (use --arch mlp)",
            config.model
        ))),
        "gmdgm" => {
            let layout = class_layout::ClassLayout::from_config(config, spec.classes)?;
            let c = gmdgm::GmDgmConfig {
                input_dim: spec.input_dim,
                z_dim: config.z_dim,
                hidden: config.hidden.clone(),
                activation: config.activation.clone(),
                alpha,
                labelled_weight,
                // A guess: component means of norm ≈ 1 break the symmetry
                // between classes without one component sitting far closer
                // to q(z|x,y)'s initial outputs than the others (std 1 in
                // z100 collapsed every example into one class); Willetts et
                // al. draw them near 0 (std 0.001).
                prior_mean_std: 1.0 / (config.z_dim as f32).sqrt(),
                likelihood: likelihood::Likelihood::parse(&config.likelihood)?,
            };
            Ok(Box::new(gmdgm::GmDgm::new(store, c, layout, rng)?))
        }
        "ssvae" => {
            let layout = class_layout::ClassLayout::from_config(config, spec.classes)?;
            let c = m2::M2Config {
                input_dim: spec.input_dim,
                classes: layout.classes(),
                z_dim: config.z_dim,
                hidden: config.hidden.clone(),
                activation: config.activation.clone(),
                alpha,
                labelled_weight,
                likelihood: likelihood::Likelihood::parse(&config.likelihood)?,
            };
            Ok(Box::new(ssvae::Ssvae::new(store, c, layout, rng)?))
        }
        "m1m2" => {
            let first = store.len();
            let m1 = m1::M1::new(store, "m1", m1_config(config, spec)?, rng)?;
            let m1_params: Vec<ParamId> = (first..store.len()).map(ParamId).collect();
            let c2 = m2::M2Config {
                input_dim: config.z_dim,
                classes: spec.classes,
                z_dim: config.m2_z_dim,
                hidden: config.m2_hidden.clone(),
                activation: config.activation.clone(),
                alpha,
                labelled_weight,
                likelihood: m2::Likelihood::Gaussian,
            };
            let m2 = m2::M2::new(store, c2, rng)?;
            Ok(Box::new(m1m2::M1M2::new(
                store,
                m1,
                m2,
                m1_params,
                config.pretrain_epochs,
            )))
        }
        "adgm" | "sdgm" if arch != conv_arch::Arch::Mlp => Err(crate::Error::Usage(format!(
            "--arch conv is not available for {} (use --arch mlp)",
            config.model
        ))),
        "adgm" | "sdgm" => {
            let c = adgm::AdgmConfig {
                input_dim: spec.input_dim,
                classes: spec.classes,
                a_dim: config.a_dim,
                z_dim: config.z_dim,
                hidden: config.hidden.clone(),
                activation: config.activation.clone(),
                alpha,
                labelled_weight,
                likelihood: likelihood::Likelihood::parse(&config.likelihood)?,
                mc_samples: config.mc_samples,
                skip: false,
                batch_norm: false,
                eval_seed: config.seed,
            };
            if config.model == "sdgm" {
                Ok(Box::new(sdgm::new(store, c, rng)?))
            } else {
                Ok(Box::new(adgm::Adgm::new(store, c, rng)?))
            }
        }
        "clustervae" => {
            let image = spec.image_shape.ok_or_else(|| {
                crate::Error::Usage(format!(
                    "clustervae is convolutional: dataset {} has no image shape",
                    config.dataset
                ))
            })?;
            let activation = crate::nn::Activation::parse(&config.activation).ok_or_else(|| {
                crate::Error::Usage(format!("unknown activation '{}'", config.activation))
            })?;
            let c = clustervae::ClusterVaeConfig {
                image,
                classes: spec.classes,
                z_dim: config.z_dim,
                hidden: config.hidden[0],
                channels: 32,
                activation,
                train_examples: spec.labelled + spec.unlabelled,
                active: config.active.clone().unwrap_or_default(),
                seed: config.seed,
            };
            Ok(Box::new(clustervae::ClusterVae::new(store, c, rng)?))
        }
        "catvae" => {
            let image = spec.image_shape.ok_or_else(|| {
                crate::Error::Usage(format!(
                    "catvae needs image data (mnist, fashion-mnist, idx:DIR, images:DIR), \
                     but {} holds plain feature rows",
                    config.dataset
                ))
            })?;
            let act = crate::nn::Activation::parse(&config.activation).ok_or_else(|| {
                crate::Error::Usage(format!("unknown activation '{}'", config.activation))
            })?;
            let m = catvae::CatVae::new(
                store,
                config.catvae.clone(),
                image,
                spec.classes,
                act,
                rng,
            )?;
            Ok(Box::new(m))
        }
        other => Err(crate::Error::Usage(format!(
            "--model {other}: not implemented (available: m1, m2, m1m2, gmdgm, ssvae, adgm, sdgm, catvae, clustervae)"
        ))),
    }
}

fn m1_config(config: &TrainConfig, spec: &ModelSpec) -> crate::Result<m1::M1Config> {
    Ok(m1::M1Config {
        input_dim: spec.input_dim,
        classes: spec.classes,
        z_dim: config.z_dim,
        hidden: config.hidden.clone(),
        activation: config.activation.clone(),
        head: head::HeadKind::parse(&config.head)?,
        likelihood: likelihood::Likelihood::parse(&config.likelihood)?,
        train_examples: spec.labelled + spec.unlabelled,
    })
}
