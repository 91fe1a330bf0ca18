//! `sparselabel bench peak|gemm|conv|step`: one JSON object per line.

use clap::{Args, ValueEnum};

use crate::bench;
use crate::{Error, Result};

/// What to measure.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BenchWhat {
    /// FP32 FMA throughput of the machine (the physical limit).
    Peak,
    /// SGEMM at the DESIGN.md §5 shapes.
    Gemm,
    /// Convolution stacks of the conv models, forward and forward + backward.
    Conv,
    /// Training-step throughput of a model.
    Step,
    /// Engine overhead: a tiny MLP step at batch 2, with its per-op trace.
    Overhead,
}

/// Flags of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure.
    pub what: BenchWhat,
    /// Model for `step`.
    #[arg(long, default_value = "m2")]
    pub model: String,
    /// Labelled examples per step (default 100; 0 for m1, which uses none).
    #[arg(long)]
    pub labelled: Option<usize>,
    /// Unlabelled examples per step (default 100; 0 for betavae, whose
    /// peer batch is 100 labelled examples).
    #[arg(long)]
    pub unlabelled: Option<usize>,
    /// Timed steps for `step`.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// With `step` or `conv`: print per-op time summaries to stderr.
    #[arg(long)]
    pub trace: bool,
    /// Skip measuring the peak (no percent-of-peak fields).
    #[arg(long)]
    pub no_peak: bool,
}

/// Runs `bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    if args.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Other(format!("thread pool: {e}")))?;
    pool.install(|| {
        let threads = rayon::current_num_threads();
        let peak = || sparselabel_kernels::peak::measure_fma_gflops(threads, 0.5);
        let rows = match args.what {
            BenchWhat::Peak => {
                vec![serde_json::json!({"bench": "peak", "threads": threads, "gflops": peak()})]
            }
            BenchWhat::Gemm => bench::gemm::run((!args.no_peak).then(peak)),
            BenchWhat::Conv => bench::conv::run((!args.no_peak).then(peak), args.trace),
            BenchWhat::Step => vec![bench::step::run(
                &args.model,
                args.labelled
                    .unwrap_or(if args.model == "m1" { 0 } else { 100 }),
                args.unlabelled
                    .unwrap_or(if args.model == "betavae" { 0 } else { 100 }),
                args.steps,
                args.trace,
            )?],
            BenchWhat::Overhead => {
                let (summary, table) = bench::overhead::run();
                eprint!("{table}");
                vec![summary]
            }
        };
        for r in rows {
            println!("{r}");
        }
        Ok(())
    })
}
