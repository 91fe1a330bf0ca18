//! `sparselabel label --run DIR`: continues a `clustervae` run's labelling
//! loop — more iterations, another oracle or budget — from its checkpoint.
//! Answers already given (in the run's `answers.jsonl`) are replayed, never
//! asked again.

use std::path::PathBuf;

use clap::Args;

use super::active_args::ActiveArgs;
use crate::train::{TrainConfig, Trainer};
use crate::{Error, Result};

/// Flags of `label`.
#[derive(Args, Debug)]
pub struct LabelArgs {
    /// The run directory of a clustervae run.
    #[arg(long)]
    pub run: PathBuf,
    /// Labelling iterations to add to those the run has planned (default 0:
    /// finish the planned ones).
    #[arg(long, default_value_t = 0)]
    pub iterations: usize,
    /// Worker threads.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Clusters per labelling iteration.
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Loop settings for the coming iterations.
    #[command(flatten)]
    pub active: ActiveArgs,
}

/// Runs `label`.
pub fn run(args: &LabelArgs) -> Result<()> {
    let path = args.run.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut config: TrainConfig = serde_json::from_str(&text)
        .map_err(|e| Error::bad_input(&path, format!("invalid config: {e}")))?;
    if config.model != "clustervae" {
        return Err(Error::Usage(format!(
            "label continues clustervae runs; {} is a {} run",
            args.run.display(),
            config.model
        )));
    }
    let a = config.active.get_or_insert_with(Default::default);
    args.active.apply(a);
    if let Some(v) = args.clusters {
        a.k = v;
    }
    a.iterations += args.iterations;
    config.epochs = a.total_epochs();
    if let Some(t) = args.threads {
        if t == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        config.threads = t;
    }
    config.validate()?;
    if !args.run.join("checkpoint.safetensors").exists() {
        return Err(Error::bad_input(
            &args.run,
            "no checkpoint.safetensors: not a run directory (start one with `train --model clustervae`)",
        ));
    }
    let run = crate::train::RunDir::open(&args.run)?;
    run.write_json("config.json", &config)?;
    let trainer = Trainer::resume(&args.run)?;
    super::train::execute(trainer, "label --run")
}
