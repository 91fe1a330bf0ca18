//! `sparselabel data info <dataset>`: examples per class and split.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::data::{load, Splits};
use crate::Result;

/// Arguments of `sparselabel data`.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// What to do with the dataset.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// `data` subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Prints the number of examples per class and split.
    Info {
        /// mnist, fashion-mnist, idx:DIR, npy:X.npy[,y.npy], csv:FILE[,label=COL]
        /// or images:DIR[,size=HxW].
        spec: String,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the subcommand.
pub fn run(args: &DataArgs) -> Result<()> {
    match &args.command {
        DataCommand::Info { spec, json } => {
            let s = load(spec)?;
            if *json {
                println!("{}", info_json(spec, &s));
            } else {
                print!("{}", info_table(spec, &s));
            }
            Ok(())
        }
    }
}

fn parts(s: &Splits) -> [(&'static str, &crate::data::Dataset); 3] {
    [
        ("train", &s.train),
        ("validation", &s.validation),
        ("test", &s.test),
    ]
}

/// The summary as JSON: shape, classes, counts per split and class, sources.
pub fn info_json(spec: &str, s: &Splits) -> serde_json::Value {
    let splits: serde_json::Map<String, serde_json::Value> = parts(s)
        .iter()
        .map(|(name, d)| {
            (
                name.to_string(),
                json!({ "n": d.n, "per_class": d.class_counts(), "unlabelled": d.unknown_count() }),
            )
        })
        .collect();
    json!({
        "dataset": spec,
        "dim": s.train.dim,
        "image_shape": s.train.image_shape,
        "num_classes": s.train.num_classes,
        "class_names": s.train.class_names,
        "coarse_classes": s.train.coarse.as_ref().map(|c| c.names.clone()),
        "splits": splits,
        "sources": s.sources,
    })
}

/// The summary as a text table, one row per class.
pub fn info_table(spec: &str, s: &Splits) -> String {
    let mut out = format!("dataset {spec}: {} features", s.train.dim);
    if let Some([c, h, w]) = s.train.image_shape {
        out += &format!(" (images {c}×{h}×{w})");
    }
    out += &format!(", {} classes\n", s.train.num_classes);
    let width = s
        .train
        .class_names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(5)
        .max(12);
    out += &format!(
        "{:<width$} {:>10} {:>10} {:>10}\n",
        "class", "train", "validation", "test"
    );
    let counts: Vec<Vec<usize>> = parts(s).iter().map(|(_, d)| d.class_counts()).collect();
    for (c, name) in s.train.class_names.iter().enumerate() {
        let v: Vec<usize> = counts
            .iter()
            .map(|k| k.get(c).copied().unwrap_or(0))
            .collect();
        out += &format!("{name:<width$} {:>10} {:>10} {:>10}\n", v[0], v[1], v[2]);
    }
    let unk: Vec<usize> = parts(s).iter().map(|(_, d)| d.unknown_count()).collect();
    if unk.iter().any(|&u| u > 0) {
        out += &format!(
            "{:<width$} {:>10} {:>10} {:>10}\n",
            "(no label)", unk[0], unk[1], unk[2]
        );
    }
    out += &format!(
        "{:<width$} {:>10} {:>10} {:>10}\n",
        "total", s.train.n, s.validation.n, s.test.n
    );
    for src in &s.sources {
        out += &format!("source {} sha256 {}\n", src.path.display(), src.sha256);
    }
    out
}
