//! `sparselabel plot --run DIR`: redraws every figure of a run from its
//! checkpoint and metrics (confusion matrix, curves, and the model's
//! reconstructions, samples, latent map, entropy and confident images).

use std::path::PathBuf;

use clap::Args;

use crate::train::model_figures::{model_class_name, Embedding};
use crate::train::{evaluate, figures, Trainer};
use crate::{Error, Result};

/// Flags of `plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// How latent.png maps the codes to 2-D: tsne (exact, ≤ 5,000 test
    /// points; tens of seconds) or pca (instant).
    #[arg(long, default_value = "tsne")]
    pub embed: String,
}

/// Runs `plot`.
pub fn run(args: &PlotArgs) -> Result<()> {
    let embedding = match args.embed.as_str() {
        "tsne" => Embedding::Tsne,
        "pca" => Embedding::Pca,
        other => {
            return Err(Error::Usage(format!(
                "--embed '{other}' must be tsne or pca"
            )))
        }
    };
    let trainer = Trainer::resume(&args.run)?;
    let test = evaluate(trainer.model(), trainer.store(), trainer.test_split())?;
    let column_name =
        |k: usize| model_class_name(trainer.model(), trainer.store(), trainer.test_split(), k);
    figures::write(
        &trainer.run,
        &test,
        trainer.test_split(),
        trainer.model().name(),
        &column_name,
    )?;
    let mut written = vec!["confusion.png", "curves.png", "loss.png"];
    written.extend(trainer.write_model_figures(embedding)?);
    let dir = trainer.run.file("figures");
    for name in written {
        println!("{}", dir.join(name).display());
    }
    Ok(())
}
