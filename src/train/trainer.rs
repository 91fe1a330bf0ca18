//! The training loop shared by every model: epochs over the unlabelled set
//! with labelled examples drawn alongside, Adam with a schedule and
//! clipping, validation every epoch, test at the end, a progress bar on
//! stderr, checkpoints after every epoch and on Ctrl-C, and bit-identical
//! resumption.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::batches::{gather, permutation, sample_without_replacement};
use super::checkpoint::{self, CheckpointRef};
use super::config::TrainConfig;
use super::evaluate::{evaluate, EvalMetrics};
use super::run_dir::{Manifest, RunDir};
use crate::autograd::{ParamStore, Tape};
use crate::data::{self, LabelRegime, Splits};
use crate::models::{self, Batch, EpochContext, Model};
use crate::optim::{clip_grad_norm, clip_grad_value, Adam, Optimizer};
use crate::rng::{self, StreamRng};
use crate::{Error, Result};

/// The random streams of a run, one per purpose.
struct Streams {
    /// Unlabelled order; `order_at_epoch_start` is its state when the
    /// current epoch's permutation was drawn.
    order: StreamRng,
    order_at_epoch_start: StreamRng,
    labelled: StreamRng,
    binarize: StreamRng,
    sampling: StreamRng,
}

impl Streams {
    fn new(seed: u64) -> Self {
        let order = rng::stream(seed, "data-order");
        Streams {
            order_at_epoch_start: order.clone(),
            order,
            labelled: rng::stream(seed, "labelled-draw"),
            binarize: rng::stream(seed, "binarize"),
            sampling: rng::stream(seed, "sampling"),
        }
    }
}

/// How a call to [`Trainer::run`] ended.
#[derive(Debug)]
pub enum Outcome {
    /// All epochs done; the test metrics.
    Finished(Box<EvalMetrics>),
    /// Stopped by Ctrl-C after saving a checkpoint.
    Interrupted,
}

/// A run in progress.
pub struct Trainer {
    /// The configuration (as written to config.json).
    pub config: TrainConfig,
    /// Where results go.
    pub run: RunDir,
    splits: Splits,
    labelled: Vec<usize>,
    unlabelled: Vec<usize>,
    store: ParamStore,
    model: Box<dyn Model>,
    opt: Adam,
    streams: Streams,
    epoch: usize,
    step_in_epoch: usize,
    /// Per-term sums and counts of this epoch's step losses, by name: a
    /// term may appear on some steps only (the labelled ones).
    loss_sums: Vec<(String, f64, u64)>,
    examples_total: u64,
    elapsed_before: f64,
    interrupt: Arc<AtomicBool>,
    quiet: bool,
    /// Set when features were dropped (`--drop-std`).
    masked: Option<MaskedImages>,
}

/// Scales every feature to zero mean and unit spread with the training
/// split's statistics (a constant feature is only centred), for Gaussian
/// likelihoods; recomputed identically on resume and eval.
fn standardize(splits: &mut Splits) {
    let (n, d) = (splits.train.n, splits.train.dim);
    let mut mean = vec![0f64; d];
    let mut var = vec![0f64; d];
    for row in splits.train.x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    for row in splits.train.x.chunks_exact(d) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    let inv: Vec<f64> = var
        .iter()
        .map(|s| {
            let sd = (s / n.max(1) as f64).sqrt();
            if sd > 1e-12 {
                1.0 / sd
            } else {
                1.0
            }
        })
        .collect();
    for ds in [&mut splits.train, &mut splits.validation, &mut splits.test] {
        for row in ds.x.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&mean).zip(&inv) {
                *v = ((*v as f64 - m) * s) as f32;
            }
        }
    }
}

type Built = (
    Splits,
    Vec<usize>,
    Vec<usize>,
    ParamStore,
    Box<dyn Model>,
    Option<MaskedImages>,
);

/// Dropped features of image data (`--drop-std`): the mask and the images'
/// shape, so pictures can put the kept pixels back in place.
#[derive(Clone, Debug)]
pub struct MaskedImages {
    /// Which features the model sees.
    pub mask: data::FeatureMask,
    /// (C, H, W) of the unmasked images, if the data are images.
    pub image_shape: Option<[usize; 3]>,
}

/// Keeps only the examples of `ds` whose class is in `set` (`--classes`,
/// `--eval-classes`).
fn keep_classes(ds: &data::Dataset, set: &str) -> Result<data::Dataset> {
    let classes = data::parse_class_set(set)?;
    let labels = ds
        .labels
        .as_ref()
        .ok_or_else(|| Error::Usage(format!("a class filter ({set}) needs a labelled dataset")))?;
    let keep: Vec<usize> = (0..ds.n)
        .filter(|&i| classes.contains(&labels[i]))
        .collect();
    Ok(ds.subset(&keep))
}

fn build(config: &TrainConfig) -> Result<Built> {
    config.validate()?;
    let mut splits = data::load(&config.dataset)?;
    if let Some(set) = &config.classes {
        splits.train = keep_classes(&splits.train, set)?;
    }
    if let Some(set) = config.eval_classes.as_ref().or(config.classes.as_ref()) {
        splits.validation = keep_classes(&splits.validation, set)?;
        splits.test = keep_classes(&splits.test, set)?;
    }
    if let Some(n) = config.train_limit {
        let keep: Vec<usize> = (0..n.min(splits.train.n)).collect();
        splits.train = splits.train.subset(&keep);
    }
    // Willetts et al.: features nearly constant over the training split are
    // dropped; the model sees the kept ones only.
    let feature_mask = config.drop_std.map(|t| {
        let mask = data::FeatureMask::from_dataset(&splits.train, t);
        let image_shape = splits.test.image_shape;
        for ds in [&mut splits.train, &mut splits.validation, &mut splits.test] {
            *ds = mask.apply_dataset(ds);
        }
        MaskedImages { mask, image_shape }
    });
    if models::likelihood::Likelihood::parse(&config.likelihood)?.is_continuous() {
        standardize(&mut splits);
    }
    let train = &splits.train;
    let labels = train.labels.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "dataset {} has no labels to draw from",
            config.dataset
        ))
    })?;
    let regime = match (
        config.labels_per_class,
        config.label_fraction,
        &config.labelled_classes,
    ) {
        (_, Some(f), Some(c)) => LabelRegime::FractionOfClasses {
            fraction: f,
            classes: data::parse_class_set(c)?,
        },
        (_, Some(f), None) => LabelRegime::Fraction(f),
        (Some(n), None, _) => LabelRegime::PerClass(n),
        (None, None, _) => LabelRegime::Unsupervised,
    };
    let labelled = data::select_labelled(labels, train.num_classes, &regime, config.label_seed)?;
    let mut is_labelled = vec![false; train.n];
    labelled.iter().for_each(|&i| is_labelled[i] = true);
    let unlabelled: Vec<usize> = (0..train.n).filter(|&i| !is_labelled[i]).collect();
    let mut store = ParamStore::new();
    let mut init = rng::stream(config.seed, "init");
    let spec = models::ModelSpec {
        input_dim: train.dim,
        classes: train.num_classes,
        labelled: labelled.len(),
        unlabelled: unlabelled.len(),
        image_shape: train.image_shape,
    };
    let model = models::build(config, &spec, &mut store, &mut init)?;
    Ok((splits, labelled, unlabelled, store, model, feature_mask))
}

impl Trainer {
    /// Starts a new run in `out`.
    pub fn new(config: TrainConfig, out: &Path) -> Result<Self> {
        let (splits, labelled, unlabelled, store, model, feature_mask) = build(&config)?;
        let run = RunDir::create(out)?;
        run.write_json("config.json", &config)?;
        if let Some(MaskedImages { mask: m, .. }) = &feature_mask {
            let v = json!({ "full_dim": m.full_dim, "threshold": config.drop_std, "keep": m.keep });
            run.write_json("feature_mask.json", &v)?;
        }
        let manifest = Manifest::current(splits.sources.clone(), config.seed, config.label_seed);
        run.write_json("manifest.json", &manifest)?;
        let _ = std::fs::remove_file(run.file("metrics.jsonl"));
        let opt = Adam::new(&store, config.adam);
        let streams = Streams::new(config.seed);
        Ok(Trainer {
            config,
            run,
            splits,
            labelled,
            unlabelled,
            store,
            model,
            opt,
            streams,
            epoch: 0,
            step_in_epoch: 0,
            loss_sums: Vec::new(),
            examples_total: 0,
            elapsed_before: 0.0,
            interrupt: Arc::new(AtomicBool::new(false)),
            quiet: false,
            masked: feature_mask,
        })
    }

    /// Reopens the run in `dir` from its config.json and checkpoint.
    pub fn resume(dir: &Path) -> Result<Self> {
        let run = RunDir::open(dir)?;
        let config_path = run.file("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        let config: TrainConfig = serde_json::from_str(&text)
            .map_err(|e| Error::bad_input(&config_path, format!("invalid config: {e}")))?;
        let (splits, labelled, unlabelled, mut store, model, masked) = build(&config)?;
        let path = run.file("checkpoint.safetensors");
        let ck = checkpoint::load(&path)?;
        ck.restore_params(&mut store, &path)?;
        let mut opt = Adam::new(&store, config.adam);
        ck.restore_optimizer(&mut opt, &store, &path)?;
        let mut streams = Streams {
            order: ck.rng("data-order-epoch-start", &path)?,
            order_at_epoch_start: ck.rng("data-order-epoch-start", &path)?,
            labelled: ck.rng("labelled-draw", &path)?,
            binarize: ck.rng("binarize", &path)?,
            sampling: ck.rng("sampling", &path)?,
        };
        // `order` is moved past the epoch's permutation when the epoch resumes.
        streams.order = streams.order_at_epoch_start.clone();
        let epoch = ck.counter("epoch", &path)? as usize;
        let step_in_epoch = ck.counter("step_in_epoch", &path)? as usize;
        let elapsed_before = f64::from_bits(ck.counter("elapsed_bits", &path)? as u64);
        let loss_sums = ck
            .counters
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("loss_sum.")?;
                let count = *ck.counters.get(&format!("loss_count.{name}"))?;
                Some((name.to_string(), f64::from_bits(*v as u64), count as u64))
            })
            .collect();
        run.truncate_metrics(epoch)?;
        Ok(Trainer {
            config,
            run,
            splits,
            labelled,
            unlabelled,
            store,
            model,
            opt,
            streams,
            epoch,
            step_in_epoch,
            loss_sums,
            examples_total: ck.counters.get("examples_total").copied().unwrap_or(0) as u64,
            elapsed_before,
            interrupt: Arc::new(AtomicBool::new(false)),
            quiet: false,
            masked,
        })
    }

    /// The flag that, once set (by a Ctrl-C handler), makes the run save a
    /// checkpoint and return [`Outcome::Interrupted`] at the next step.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// Silences the per-epoch lines on stdout (tests).
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    /// Number of labelled training examples.
    pub fn labelled_count(&self) -> usize {
        self.labelled.len()
    }

    /// The parameters (for tests and tools).
    pub fn store(&self) -> &ParamStore {
        &self.store
    }

    /// The test split.
    pub fn test_split(&self) -> &crate::data::Dataset {
        &self.splits.test
    }

    /// The model.
    pub fn model(&self) -> &dyn Model {
        self.model.as_ref()
    }

    fn steps_per_epoch(&self) -> usize {
        let c = &self.config;
        let full = if let Some(n) = self.unlabelled.len().checked_div(c.batch_unlabelled) {
            n
        } else {
            self.labelled.len().div_ceil(c.batch_labelled.max(1))
        };
        c.steps_per_epoch
            .map(|s| s.min(full))
            .unwrap_or(full)
            .max(1)
    }

    fn save_checkpoint(&self, elapsed: f64) -> Result<()> {
        let mut counters: Vec<(String, i64)> = vec![
            ("epoch".into(), self.epoch as i64),
            ("step_in_epoch".into(), self.step_in_epoch as i64),
            ("elapsed_bits".into(), elapsed.to_bits() as i64),
            ("examples_total".into(), self.examples_total as i64),
        ];
        for (name, sum, count) in &self.loss_sums {
            counters.push((format!("loss_sum.{name}"), sum.to_bits() as i64));
            counters.push((format!("loss_count.{name}"), *count as i64));
        }
        let counters: Vec<(&str, i64)> = counters.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let s = &self.streams;
        let rngs = [
            ("data-order-epoch-start", &s.order_at_epoch_start),
            ("labelled-draw", &s.labelled),
            ("binarize", &s.binarize),
            ("sampling", &s.sampling),
        ];
        let mut meta = std::collections::BTreeMap::new();
        meta.insert("model".to_string(), self.model.name().to_string());
        meta.insert(
            "config".to_string(),
            serde_json::to_string(&self.config).map_err(|e| Error::Other(e.to_string()))?,
        );
        let ck = CheckpointRef {
            store: &self.store,
            optimizer: Some(&self.opt),
            rngs: &rngs,
            counters: &counters,
            metadata: &meta,
        };
        checkpoint::save(&self.run.file("checkpoint.safetensors"), &ck)
    }

    /// One optimisation step on the given indices; returns the loss parts.
    /// One optimisation step; returns the named loss parts and how many
    /// examples the model used.
    fn step(&mut self, unl: &[usize]) -> Result<(Vec<(&'static str, f32)>, usize)> {
        let c = &self.config;
        let bin = c.binarize == "dynamic";
        let train = &self.splits.train;
        let draws_labels = self.step_in_epoch.is_multiple_of(c.labelled_every);
        let lab_pos = if draws_labels {
            sample_without_replacement(
                self.labelled.len(),
                c.batch_labelled,
                &mut self.streams.labelled,
            )
        } else {
            Vec::new()
        };
        let lab_idx: Vec<usize> = lab_pos.iter().map(|&p| self.labelled[p]).collect();
        let labels_all = train.labels.as_ref().expect("labelled data has labels");
        let steps = self.steps_per_epoch();
        let batch = Batch {
            kl_weight: c.kl_weight_at(self.epoch, self.step_in_epoch, steps),
            labelled: gather(train, &lab_idx, bin.then_some(&mut self.streams.binarize)),
            labels: lab_idx.iter().map(|&i| labels_all[i] as usize).collect(),
            unlabelled: gather(train, unl, bin.then_some(&mut self.streams.binarize)),
            unlabelled_index: unl.to_vec(),
        };
        let mut tape = Tape::new(&self.store);
        let loss = self
            .model
            .loss(&mut tape, &batch, &mut self.streams.sampling);
        let mut parts = vec![("loss", tape.value(loss.total).item())];
        parts.extend(loss.terms.iter().map(|(n, v)| (*n, tape.value(*v).item())));
        if !parts[0].1.is_finite() {
            tape.enable_finite_guard();
            return Err(Error::Numerical(format!(
                "loss is {} at epoch {} step {}",
                parts[0].1, self.epoch, self.step_in_epoch
            )));
        }
        let grads = tape.backward(loss.total)?;
        drop(tape);
        self.store.set_grads(grads);
        if let Some(max) = c.clip_norm {
            clip_grad_norm(&mut self.store, max);
        }
        if let Some(v) = c.clip_value {
            clip_grad_value(&mut self.store, v);
        }
        let lr = c.schedule.lr_at(self.epoch);
        self.opt.step(&mut self.store, lr);
        Ok((parts, loss.examples))
    }

    /// Trains to `epochs` epochs in all instead of the configured number: more
    /// to extend a resumed run (finished or not), fewer to stop it early. The
    /// learning-rate schedule keeps its own horizon, so the epochs already
    /// trained are the ones a run configured this way from the start would
    /// have trained. config.json is rewritten to match.
    ///
    /// # Errors
    /// A usage error if `epochs` is below the epochs already completed, or for
    /// clustervae (whose epochs follow from its labelling iterations).
    pub fn set_epochs(&mut self, epochs: usize) -> Result<()> {
        if self.config.model == "clustervae" {
            return Err(Error::Usage(
                "clustervae's epochs follow from its labelling iterations; use `label --run DIR`"
                    .into(),
            ));
        }
        let done = self.epoch + usize::from(self.step_in_epoch > 0);
        if epochs < done.max(1) {
            return Err(Error::Usage(format!(
                "--epochs {epochs}: the run in {} has already started epoch {done}",
                self.run.path.display()
            )));
        }
        self.config.epochs = epochs;
        self.run.write_json("config.json", &self.config)
    }

    /// Trains the remaining epochs; writes metrics, checkpoints and summary.
    pub fn run(&mut self) -> Result<Outcome> {
        let steps = self.steps_per_epoch();
        let epochs = self.config.epochs;
        let started = Instant::now();
        let elapsed = |s: &Self| s.elapsed_before + started.elapsed().as_secs_f64();
        let bar = ProgressBar::new((epochs * steps) as u64);
        if std::io::stderr().is_terminal() && !self.quiet {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_position((self.epoch * steps + self.step_in_epoch) as u64);
        while self.epoch < epochs {
            let epoch_start = Instant::now();
            let ctx = EpochContext {
                epoch: self.epoch,
                train: &self.splits.train,
                labelled: &self.labelled,
                run_dir: Some(&self.run.path),
                interrupt: Some(&self.interrupt),
                quiet: self.quiet,
            };
            bar.suspend(|| self.model.begin_epoch(&mut self.store, &ctx))?;
            // The epoch's permutation, re-drawn identically when resuming.
            self.streams.order = self.streams.order_at_epoch_start.clone();
            let order = permutation(self.unlabelled.len(), &mut self.streams.order);
            let mut examples_now = 0usize;
            while self.step_in_epoch < steps {
                if self.interrupt.load(Ordering::SeqCst) {
                    self.save_checkpoint(elapsed(self))?;
                    bar.abandon();
                    return Ok(Outcome::Interrupted);
                }
                let bu = self.config.batch_unlabelled;
                let s = self.step_in_epoch;
                let unl: Vec<usize> = order[s * bu..((s + 1) * bu).min(order.len())]
                    .iter()
                    .map(|&p| self.unlabelled[p])
                    .collect();
                let (parts, used) = self.step(&unl)?;
                examples_now += used;
                self.examples_total += used as u64;
                for (name, value) in &parts {
                    match self.loss_sums.iter_mut().find(|(n, _, _)| n == name) {
                        Some((_, sum, count)) => {
                            *sum += *value as f64;
                            *count += 1;
                        }
                        None => self.loss_sums.push((name.to_string(), *value as f64, 1)),
                    }
                }
                self.step_in_epoch += 1;
                bar.set_prefix(format!("epoch {}/{}", self.epoch + 1, epochs));
                let rate = examples_now as f64 / epoch_start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("loss {:.2} {:.0} ex/s", parts[0].1, rate));
                bar.inc(1);
            }
            let ctx = EpochContext {
                epoch: self.epoch,
                train: &self.splits.train,
                labelled: &self.labelled,
                run_dir: Some(&self.run.path),
                interrupt: None,
                quiet: self.quiet,
            };
            self.model.end_epoch(&mut self.store, &ctx)?;
            let epoch_seconds = epoch_start.elapsed().as_secs_f64();
            let validation = evaluate(self.model.as_ref(), &self.store, &self.splits.validation)?;
            let test = if self.config.test_every_epoch {
                Some(evaluate(
                    self.model.as_ref(),
                    &self.store,
                    &self.splits.test,
                )?)
            } else {
                None
            };
            let extra = self.model.epoch_metrics(&self.store);
            let mut losses = serde_json::Map::new();
            for (name, sum, count) in &self.loss_sums {
                losses.insert(name.clone(), json!(sum / (*count).max(1) as f64));
            }
            let record = json!({
                "epoch": self.epoch + 1,
                "losses": losses,
                "lr": self.config.schedule.lr_at(self.epoch),
                "validation_accuracy": validation.accuracy,
                "validation_cluster_accuracy": validation.cluster_accuracy,
                "validation_labelled_accuracy": validation.labelled_accuracy,
                "validation_purity": validation.purity,
                "validation_nmi": validation.nmi,
            "validation_coarse_accuracy": validation.coarse_accuracy,
                "test_accuracy": test.as_ref().map(|t| t.accuracy),
                "seconds": epoch_seconds,
                "examples_per_second": examples_now as f64 / epoch_seconds.max(1e-9),
            });
            let mut record = record;
            for (k, v) in &extra {
                record[*k] = json!(v);
            }
            self.run.append_metrics(&record)?;
            if !self.quiet {
                bar.suspend(|| {
                    println!(
                        "epoch {:>3}/{}  loss {:>9.3}  validation accuracy {:.4}  cluster accuracy {:.4}  {:.0} examples/s",
                        self.epoch + 1,
                        epochs,
                        losses.get("loss").and_then(|v| v.as_f64()).unwrap_or(0.0),
                        validation.accuracy,
                        validation.cluster_accuracy,
                        record["examples_per_second"].as_f64().unwrap_or(0.0)
                    )
                });
            }
            self.epoch += 1;
            self.step_in_epoch = 0;
            self.loss_sums.clear();
            self.streams.order_at_epoch_start = self.streams.order.clone();
            self.save_checkpoint(elapsed(self))?;
        }
        bar.finish_and_clear();
        let test = evaluate(self.model.as_ref(), &self.store, &self.splits.test)?;
        let wall = elapsed(self);
        let total_examples = self.examples_total as f64;
        let summary = json!({
            "model": self.model.name(),
            "preset": self.config.preset,
            "test_accuracy": test.accuracy,
            "test_cluster_accuracy": test.cluster_accuracy,
            "test_purity": test.purity,
            "test_nmi": test.nmi,
            "test_coarse_accuracy": test.coarse_accuracy,
            "test_confusion": test.confusion,
            "test_labelled_accuracy": test.labelled_accuracy,
            "test_cluster_mapping": test.cluster_mapping,
            "test_majority_mapping": test.majority_mapping,
            "model_class_to_dataset_class": self.model.class_map_in(&self.store),
            "num_model_classes": self.model.num_classes(),
            "labelled_count": self.labelled.len(),
            "epochs": epochs,
            "wall_seconds": wall,
            "examples_per_second": total_examples / wall.max(1e-9),
        });
        let mut summary = summary;
        for (k, v) in self.model.epoch_metrics(&self.store) {
            summary[k] = json!(v);
        }
        self.run.write_json("summary.json", &summary)?;
        self.write_features()?;
        let column_name = |k: usize| {
            super::model_figures::model_class_name(
                self.model.as_ref(),
                &self.store,
                &self.splits.test,
                k,
            )
        };
        super::figures::write(
            &self.run,
            &test,
            &self.splits.test,
            self.model.name(),
            &column_name,
        )?;
        self.write_model_figures(super::model_figures::Embedding::Pca)?;
        Ok(Outcome::Finished(Box::new(test)))
    }

    /// Writes the test set's features (the model's latent means) to
    /// `features.npy`, f32 (N, Z), for models that export them.
    fn write_features(&self) -> Result<()> {
        if !self.model.exports_features() {
            return Ok(());
        }
        let test = &self.splits.test;
        let feats = super::model_figures::batched(
            self.model.as_ref(),
            &self.store,
            &test.x,
            test.dim,
            |m, tape, x| m.latent_means(tape, x),
        );
        if let Some((rows, width)) = feats {
            let path = self.run.file("features.npy");
            data::npy::write_npy(&path, &[rows.len() / width.max(1), width], &rows)?;
        }
        Ok(())
    }

    /// Writes the model's pictures (reconstructions, samples, latent map,
    /// entropy of q(y|x), most confident images) into `figures/`; returns
    /// the file names written.
    pub fn write_model_figures(
        &self,
        embedding: super::model_figures::Embedding,
    ) -> Result<Vec<&'static str>> {
        // Dataset classes with labels, when some classes have none.
        let labelled_classes = match self.model.class_map_in(&self.store) {
            Some(map) if map.iter().any(|m| m.is_none()) => {
                Some(map.iter().flatten().copied().collect())
            }
            _ => match &self.config.labelled_classes {
                Some(s) => Some(crate::data::parse_class_set(s)?),
                None => None,
            },
        };
        let ctx = super::model_figures::FigureContext {
            run: &self.run,
            model: self.model.as_ref(),
            store: &self.store,
            test: &self.splits.test,
            labelled_classes,
            seed: self.config.seed,
            masked: self.masked.as_ref(),
        };
        super::model_figures::write(&ctx, embedding)
    }
}

/// The default run directory for a configuration: `runs/<preset-or-model>-<timestamp>`.
pub fn default_out(config: &TrainConfig) -> PathBuf {
    let name = config
        .preset
        .clone()
        .unwrap_or_else(|| config.model.clone());
    PathBuf::from("runs").join(format!("{name}-{}", super::run_dir::timestamp()))
}
