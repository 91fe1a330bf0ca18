//! `sparselabel train`: resolve a configuration (preset, then --config,
//! then flags), train, print the test metrics. Ctrl-C saves a checkpoint;
//! `--resume` continues bit-identically.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use clap::Args;

use crate::optim::Schedule;
use crate::train::{self, Outcome, TrainConfig, Trainer};
use crate::{Error, Result};

/// Flags of `train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Start from a named preset (see `sparselabel presets`); default `quickstart`.
    #[arg(long)]
    pub preset: Option<String>,
    /// Start from a config.json written by an earlier run.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Model: m1, m2, m1m2, gmdgm, ssvae, adgm, sdgm, catvae, clustervae.
    #[arg(long)]
    pub model: Option<String>,
    /// Dataset: mnist, fashion-mnist, idx:DIR, npy:X.npy[,y.npy], csv:FILE, images:DIR.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Labelled examples per class.
    #[arg(long, conflicts_with = "label_fraction")]
    pub labels: Option<usize>,
    /// Fraction of each (labelled) class that is labelled.
    #[arg(long)]
    pub label_fraction: Option<f64>,
    /// Classes that get labels, e.g. 0-4 (the rest are never labelled).
    #[arg(long)]
    pub labelled_classes: Option<String>,
    /// ssvae, gmdgm: model classes beyond the labelled ones (the whole K
    /// when nothing is labelled).
    #[arg(long)]
    pub extra_classes: Option<usize>,
    /// Keep only these classes (e.g. 0-4) in every split.
    #[arg(long)]
    pub classes: Option<String>,
    /// Keep only these classes in validation and test (training sees all).
    #[arg(long)]
    pub eval_classes: Option<String>,
    /// Drop features whose training standard deviation is at most this
    /// (Willetts et al.: 0.1).
    #[arg(long)]
    pub drop_std: Option<f32>,
    /// Epochs. The learning-rate schedule keeps its own horizon (kingma-m2-mnist100's
    /// cosine spans 360 epochs): fewer epochs stop part-way along it, and resuming
    /// with more continues the same curve. `--cosine-epochs` changes the horizon.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Epochs over which a cosine learning-rate schedule decays to its floor
    /// (default: the preset's; only for presets with a cosine schedule).
    #[arg(long)]
    pub cosine_epochs: Option<usize>,
    /// Unlabelled examples per step.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Labelled examples per step.
    #[arg(long)]
    pub batch_labelled: Option<usize>,
    /// Draw a labelled batch only every N-th step (default 1: every step).
    #[arg(long)]
    pub labelled_every: Option<usize>,
    /// Constant learning rate (replaces the preset's schedule).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Weight of the labelled cross-entropy term.
    #[arg(long)]
    pub alpha: Option<f32>,
    /// Weight of the labelled examples' bound relative to the unlabelled ones' (default: the --weighting rule's).
    #[arg(long)]
    pub labelled_weight: Option<f32>,
    /// Default weights of the labelled terms: batch (labelled bound 1, α = 0.1·N/N_l per batch mean) or dataset (Kingma's sum over the data set: labelled bound N_l/N_u, α = 0.1·N·N_l/N_u).
    #[arg(long)]
    pub weighting: Option<String>,
    /// Classifier head of M1: softmax, svm (labelled examples only) or spreading (label spreading over every training example, transductive).
    #[arg(long)]
    pub head: Option<String>,
    /// M1+M2: epochs of M1 before M2 trains on its latent codes.
    #[arg(long)]
    pub pretrain_epochs: Option<usize>,
    /// Networks of M1/M2: mlp (any data) or conv (convolutional; image
    /// data only: mnist, fashion-mnist, idx:DIR, images:DIR).
    #[arg(long)]
    pub arch: Option<String>,
    /// Observation model: bernoulli (images, [0,1] data; see --binarize),
    /// gaussian (continuous features, standardised; learnt
    /// variance) or gaussian:SIGMA (the same with a fixed standard deviation).
    #[arg(long)]
    pub likelihood: Option<String>,
    /// Bernoulli targets: dynamic (each batch redrawn as 0/1 pixels) or none
    /// (the grey levels themselves).
    #[arg(long)]
    pub binarize: Option<String>,
    /// Epochs over which the KL weight rises from 0 to 1.
    #[arg(long)]
    pub kl_warmup: Option<usize>,
    /// Clip the global gradient norm to this value.
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Clamp every gradient element into [-V, V] (after --clip-norm).
    #[arg(long)]
    pub clip_value: Option<f32>,
    /// ADGM/SDGM: samples of the auxiliary variable per example, in the
    /// training bound and in classification.
    #[arg(long)]
    pub mc_samples: Option<usize>,
    /// catvae: width of the feature f.
    #[arg(long)]
    pub feature_dim: Option<usize>,
    /// catvae: clusters K (default: the dataset's classes); clustervae:
    /// clusters per labelling iteration (default 20).
    #[arg(long)]
    pub clusters: Option<usize>,
    /// catvae: Gumbel-Softmax temperature (the initial one with --tau-decay).
    #[arg(long)]
    pub tau: Option<f32>,
    /// catvae: floor of the annealed temperature.
    #[arg(long)]
    pub tau_min: Option<f32>,
    /// catvae: temperature decay rate r, τ = max(τ_min, τ·exp(−r·epoch)) (0: fixed).
    #[arg(long)]
    pub tau_decay: Option<f32>,
    /// catvae: weight of the reconstruction loss.
    #[arg(long)]
    pub w_rec: Option<f32>,
    /// catvae: weight of KL(q(c|x) ‖ uniform) / log K.
    #[arg(long)]
    pub w_cat: Option<f32>,
    /// catvae: weight of the assignment loss (0: without L_A).
    #[arg(long)]
    pub w_assign: Option<f32>,
    /// catvae: weight of the feature loss (0: without L_F).
    #[arg(long)]
    pub w_feature: Option<f32>,
    /// catvae: weight of the cross-entropy on the labelled examples.
    #[arg(long)]
    pub w_ce: Option<f32>,
    /// catvae: weight α of the labelled rows in the feature loss (1 − α unlabelled).
    #[arg(long)]
    pub feature_alpha: Option<f32>,
    /// catvae: neighbours of the label assignment (1: nearest neighbour; k: majority of k).
    #[arg(long)]
    pub assign_k: Option<usize>,
    /// catvae: reconstruction loss, mse or bce.
    #[arg(long)]
    pub recon: Option<String>,
    /// Run seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seed of the labelled-subset draw.
    #[arg(long)]
    pub label_seed: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Use only the first N training examples.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Stop each epoch after N steps.
    #[arg(long)]
    pub steps_per_epoch: Option<usize>,
    /// Also report test metrics after every epoch (never used for choices).
    #[arg(long)]
    pub test_every_epoch: bool,
    /// Run directory (default runs/<preset-or-model>-<timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in DIR (or in --out) from its checkpoint, with its own
    /// config.json; only --threads and --epochs (to train further or stop
    /// earlier) apply.
    #[arg(long, num_args = 0..=1, value_name = "DIR")]
    pub resume: Option<Option<PathBuf>>,
    /// clustervae: labelling iterations after the warm-up (0: warm-up only;
    /// `label --run DIR` adds more later).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// clustervae: the labelling loop's settings.
    #[command(flatten)]
    pub active: super::active_args::ActiveArgs,
}

/// The configuration `args` describe: preset or --config, then the flags.
pub fn resolve(args: &TrainArgs) -> Result<TrainConfig> {
    let mut c = match (&args.config, &args.preset) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            serde_json::from_str(&text)
                .map_err(|e| Error::bad_input(path, format!("invalid config: {e}")))?
        }
        (None, Some(p)) => train::preset(p)?,
        (None, None) if args.model.as_deref() == Some("clustervae") => {
            train::preset("vengalil-clustervae-mnist")?
        }
        (None, None) => train::preset("quickstart")?,
    };
    if let Some(v) = &args.model {
        c.model = v.clone();
    }
    if let Some(v) = &args.dataset {
        c.dataset = v.clone();
    }
    if let Some(v) = args.labels {
        c.labels_per_class = Some(v);
        c.label_fraction = None;
    }
    if let Some(v) = args.label_fraction {
        c.label_fraction = Some(v);
        c.labels_per_class = None;
    }
    if let Some(v) = &args.labelled_classes {
        c.labelled_classes = Some(v.clone());
    }
    if let Some(v) = args.extra_classes {
        c.extra_classes = v;
    }
    if let Some(v) = &args.classes {
        c.classes = Some(v.clone());
    }
    if let Some(v) = &args.eval_classes {
        c.eval_classes = Some(v.clone());
    }
    if let Some(v) = args.drop_std {
        c.drop_std = Some(v);
    }
    if let Some(v) = args.epochs {
        c.epochs = v;
    }
    if let Some(v) = args.batch {
        c.batch_unlabelled = v;
    }
    if let Some(v) = args.batch_labelled {
        c.batch_labelled = v;
    }
    if let Some(v) = args.labelled_every {
        c.labelled_every = v;
    }
    if let Some(v) = args.lr {
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::Usage(format!("--lr {v} must be a positive number")));
        }
        c.schedule = Schedule::Constant { lr: v };
    }
    if let Some(v) = args.cosine_epochs {
        match &mut c.schedule {
            Schedule::Cosine { total, .. } if v > 0 => *total = v,
            Schedule::Cosine { .. } => {
                return Err(Error::Usage("--cosine-epochs must be at least 1".into()));
            }
            other => {
                return Err(Error::Usage(format!(
                    "--cosine-epochs needs a cosine learning-rate schedule; this run's is {other:?}"
                )));
            }
        }
    }
    if let Some(v) = args.alpha {
        c.alpha = Some(v);
    }
    if let Some(v) = &args.weighting {
        c.weighting = v.clone();
    }
    if let Some(v) = args.labelled_weight {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(Error::Usage(format!(
                "--labelled-weight {v} must be a number ≥ 0"
            )));
        }
        c.labelled_weight = Some(v);
    }
    if let Some(v) = &args.head {
        c.head = v.clone();
    }
    if let Some(v) = args.pretrain_epochs {
        c.pretrain_epochs = v;
    }
    if let Some(v) = &args.arch {
        c.arch = v.clone();
    }
    if let Some(v) = &args.likelihood {
        c.likelihood = v.clone();
        if v.starts_with("gaussian") {
            c.binarize = "none".into();
        }
    }
    if let Some(v) = &args.binarize {
        c.binarize = v.clone();
    }
    if let Some(v) = args.kl_warmup {
        c.kl_warmup_epochs = v;
    }
    if let Some(v) = args.clip_norm {
        c.clip_norm = Some(v);
    }
    if let Some(v) = args.clip_value {
        c.clip_value = Some(v);
    }
    if let Some(v) = args.mc_samples {
        c.mc_samples = v;
    }
    let cv = &mut c.catvae;
    if let Some(v) = args.feature_dim {
        cv.feature_dim = v;
    }
    if let (Some(v), "catvae") = (args.clusters, c.model.as_str()) {
        cv.clusters = Some(v);
    }
    for (slot, v) in [
        (&mut cv.tau, args.tau),
        (&mut cv.tau_min, args.tau_min),
        (&mut cv.tau_decay, args.tau_decay),
        (&mut cv.w_rec, args.w_rec),
        (&mut cv.w_cat, args.w_cat),
        (&mut cv.w_assign, args.w_assign),
        (&mut cv.w_feature, args.w_feature),
        (&mut cv.w_ce, args.w_ce),
        (&mut cv.feature_alpha, args.feature_alpha),
    ] {
        if let Some(v) = v {
            *slot = v;
        }
    }
    if let Some(v) = args.assign_k {
        cv.assign_k = v;
    }
    if let Some(v) = &args.recon {
        cv.recon = v.clone();
    }
    let catvae_flags = args.feature_dim.is_some()
        || (args.clusters.is_some() && c.model != "clustervae")
        || args.assign_k.is_some()
        || args.recon.is_some()
        || [
            args.tau,
            args.tau_min,
            args.tau_decay,
            args.w_rec,
            args.w_cat,
            args.w_assign,
            args.w_feature,
            args.w_ce,
            args.feature_alpha,
        ]
        .iter()
        .any(Option::is_some);
    if catvae_flags && c.model != "catvae" {
        return Err(Error::Usage(format!(
            "--feature-dim, --clusters, --tau*, --w-*, --feature-alpha, --assign-k and --recon \
             are catvae flags, but the model is {}",
            c.model
        )));
    }
    if c.model == "catvae" {
        c.catvae.validate()?;
    }
    if let Some(v) = args.seed {
        c.seed = v;
    }
    if let Some(v) = args.label_seed {
        c.label_seed = v;
    }
    if let Some(v) = args.threads {
        if v == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        c.threads = v;
    }
    if let Some(v) = args.train_limit {
        c.train_limit = Some(v);
    }
    if let Some(v) = args.steps_per_epoch {
        c.steps_per_epoch = Some(v);
    }
    if args.test_every_epoch {
        c.test_every_epoch = true;
    }
    if c.model == "clustervae" {
        if args.epochs.is_some() {
            return Err(Error::Usage(
                "clustervae's epochs are --warmup-epochs + --iterations × --iteration-epochs, not --epochs"
                    .into(),
            ));
        }
        let a = c.active.get_or_insert_with(Default::default);
        args.active.apply(a);
        if let Some(v) = args.clusters {
            a.k = v;
        }
        if let Some(v) = args.iterations {
            a.iterations = v;
        }
        c.epochs = a.total_epochs();
    } else if args.iterations.is_some() || c.active.is_some() && c.model != "clustervae" {
        return Err(Error::Usage(format!(
            "--iterations and the labelling flags are for clustervae, not {}",
            c.model
        )));
    }
    c.validate()?;
    Ok(c)
}

/// Runs `train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let trainer = match &args.resume {
        Some(dir) => {
            let dir = dir.clone().or_else(|| args.out.clone()).ok_or_else(|| {
                Error::Usage(
                    "--resume needs the run directory (--resume DIR or --out DIR --resume)".into(),
                )
            })?;
            let mut trainer = Trainer::resume(&dir)?;
            // Only these apply to a resumed run; everything else is its config.json.
            if let Some(threads) = args.threads {
                if threads == 0 {
                    return Err(Error::Usage("--threads must be at least 1".into()));
                }
                trainer.config.threads = threads;
            }
            if let Some(epochs) = args.epochs {
                trainer.set_epochs(epochs)?;
            }
            trainer
        }
        None => {
            let config = resolve(args)?;
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| train::default_out(&config));
            Trainer::new(config, &out)?
        }
    };
    execute(trainer, "train --resume")
}

/// Runs `trainer` to its end in a pool of the configured threads, prints
/// the test metrics, and on Ctrl-C (or an oracle's quit) exits with status
/// 130 after telling how to continue (`sparselabel <again> DIR`).
pub fn execute(mut trainer: Trainer, again: &str) -> Result<()> {
    let threads = trainer.config.threads;
    let flag = trainer.interrupt_flag();
    // A second Ctrl-C while saving falls through to the default behaviour.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: saving a checkpoint after this step…");
    });
    let mut builder = rayon::ThreadPoolBuilder::new();
    if threads > 0 {
        builder = builder.num_threads(threads);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Other(format!("thread pool: {e}")))?;
    println!(
        "training {} on {} with {} labelled examples; run directory {}",
        trainer.config.model,
        trainer.config.dataset,
        trainer.labelled_count(),
        trainer.run.path.display()
    );
    match pool.install(|| trainer.run())? {
        Outcome::Finished(test) => {
            println!(
                "test accuracy {:.4}  cluster accuracy {:.4}  NMI {:.4}  ({} test examples)",
                test.accuracy, test.cluster_accuracy, test.nmi, test.count
            );
            if let Some(c) = test.coarse_accuracy {
                println!("coarse-class accuracy {c:.4}");
            }
            if let Some(l) = test.labelled_accuracy {
                println!("labelled-class accuracy {l:.4}  purity {:.4}", test.purity);
            } else if trainer.model().class_map_in(trainer.store()).is_some() {
                println!("purity {:.4} (no labelled class)", test.purity);
            }
            println!("results in {}", trainer.run.path.display());
            Ok(())
        }
        Outcome::Interrupted => {
            eprintln!(
                "interrupted: checkpoint saved; continue with `sparselabel {again} {}`",
                trainer.run.path.display()
            );
            // The conventional status of a process stopped by SIGINT.
            std::process::exit(130)
        }
    }
}
