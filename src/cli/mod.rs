//! Command-line interface (DESIGN.md §2): one module per subcommand; this file
//! only parses and dispatches.

use clap::{Parser, Subcommand};

pub mod active_args;
pub mod bench;
pub mod cluster;
pub mod data_info;
pub mod eval;
pub mod label;
pub mod plot;
pub mod presets;
pub mod report;
pub mod sweep;
pub mod train;

use crate::Error;

/// Top-level command line.
#[derive(Parser, Debug)]
#[command(
    name = "sparselabel",
    version,
    about = "Learning with sparse labels on a CPU"
)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Cluster the rows of a .npy or CSV matrix (k-means or a Gaussian mixture).
    Cluster(cluster::ClusterArgs),
    /// Inspect a dataset (`data info <dataset>`).
    Data(data_info::DataArgs),
    /// Train a model (default: the quick-start preset on MNIST with 100 labels).
    Train(Box<train::TrainArgs>),
    /// Recompute a run's test metrics from its checkpoint.
    Eval(eval::EvalArgs),
    /// Continue a clustervae run's labelling loop (more iterations, another oracle).
    Label(Box<label::LabelArgs>),
    /// List the presets.
    Presets,
    /// Redraw a run's figures from its checkpoint and metrics.
    Plot(plot::PlotArgs),
    /// Mean ± sd of each test metric per configuration over run directories.
    Report(report::ReportArgs),
    /// Run a preset over a grid of seeds (locally, or one shard of it).
    Sweep(sweep::SweepArgs),
    /// Measure the machine, kernels, training steps and engine overhead (JSON lines).
    Bench(bench::BenchArgs),
}

/// Runs the CLI on the process arguments and returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Cluster(args) => cluster::run(&args),
        Command::Data(args) => data_info::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Label(args) => label::run(&args),
        Command::Presets => presets::run(),
        Command::Plot(args) => plot::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Bench(args) => bench::run(&args),
    }
}
