//! `sparselabel eval --run DIR`: rebuilds the model from the run's
//! config.json, loads its checkpoint, recomputes the test metrics and
//! prints them with the confusion matrix.

use std::path::PathBuf;

use clap::Args;

use crate::train::{evaluate, Trainer};
use crate::Result;

/// Flags of `eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The run directory.
    #[arg(long)]
    pub run: PathBuf,
}

/// Runs `eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let trainer = Trainer::resume(&args.run)?;
    let test = evaluate(trainer.model(), trainer.store(), trainer.test_split())?;
    println!(
        "test accuracy {:.4}  cluster accuracy {:.4}  purity {:.4}  NMI {:.4}  ({} examples)",
        test.accuracy, test.cluster_accuracy, test.purity, test.nmi, test.count
    );
    if let Some(c) = test.coarse_accuracy {
        println!("coarse-class accuracy {c:.4}");
    }
    println!("confusion (rows: true class, columns: predicted)");
    for (i, row) in test.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>5}")).collect();
        println!("{i:>3} {}", cells.join(""));
    }
    Ok(())
}
