//! `sparselabel sweep --preset P --seeds 1-5 [--label-seeds …] [--shard i/n]`:
//! runs a preset over a grid of run seeds × label seeds, each run a child
//! `sparselabel train` process with its own run directory, at most `--jobs`
//! at a time. With `--shard i/n` only every n-th grid point (from the i-th)
//! runs, so a job scheduler can spread a sweep over machines that share the
//! output directory; `report` then collects the results. A finished run is
//! skipped and an interrupted one resumed, so re-running a sweep continues it.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::{Args, Parser};

use super::train::{resolve, TrainArgs};
use crate::train::report;
use crate::{Error, Result};

/// Flags of `sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The preset to run.
    #[arg(long)]
    pub preset: String,
    /// Run seeds: a list and/or ranges, e.g. 1-5 or 1,3,7-9.
    #[arg(long, default_value = "1-3")]
    pub seeds: String,
    /// Label-subset seeds (same syntax); the grid is seeds × label seeds.
    /// Default: each run's label seed equals its run seed.
    #[arg(long)]
    pub label_seeds: Option<String>,
    /// Run only share i of n (1-based), e.g. 2/4: grid points i, i + n, ….
    #[arg(long)]
    pub shard: Option<String>,
    /// Runs at a time (default: one per 2 cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory holding one run directory per grid point
    /// (default runs/sweep-<preset>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Further `train` flags for every run, after `--`, e.g.
    /// `-- --epochs 5 --threads 1`.
    #[arg(last = true)]
    pub train_args: Vec<String>,
}

/// Parses "1-5", "1,3,7-9" into the listed numbers, in order, without
/// repeats.
pub fn parse_seed_list(s: &str) -> Result<Vec<u64>> {
    let bad = || Error::Usage(format!("seed list '{s}' must look like 1-5 or 1,3,7-9"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let a: u64 = a.parse().map_err(|_| bad())?;
        let b: u64 = b.parse().map_err(|_| bad())?;
        if a > b || b - a > 100_000 {
            return Err(bad());
        }
        for v in a..=b {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Parses "i/n" with 1 ≤ i ≤ n.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || Error::Usage(format!("--shard '{s}' must be i/n with 1 ≤ i ≤ n"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// One grid point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridPoint {
    /// Run seed.
    pub seed: u64,
    /// Label-subset seed.
    pub label_seed: u64,
}

impl GridPoint {
    /// The run directory's name within the sweep directory.
    pub fn run_name(&self, preset: &str) -> String {
        format!("{preset}-s{}-l{}", self.seed, self.label_seed)
    }
}

/// The grid (seeds outer, label seeds inner), restricted to a shard.
pub fn grid(seeds: &[u64], label_seeds: Option<&[u64]>, shard: (usize, usize)) -> Vec<GridPoint> {
    let all: Vec<GridPoint> = match label_seeds {
        Some(ls) => seeds
            .iter()
            .flat_map(|&s| {
                ls.iter().map(move |&l| GridPoint {
                    seed: s,
                    label_seed: l,
                })
            })
            .collect(),
        None => seeds
            .iter()
            .map(|&s| GridPoint {
                seed: s,
                label_seed: s,
            })
            .collect(),
    };
    let (i, n) = shard;
    all.into_iter()
        .enumerate()
        .filter(|(k, _)| k % n == i - 1)
        .map(|(_, p)| p)
        .collect()
}

/// The flags a sweep sets itself and a user may not pass through.
const OWNED_FLAGS: &[&str] = &[
    "--preset",
    "--config",
    "--seed",
    "--label-seed",
    "--out",
    "--resume",
];

/// Wraps `train`'s flags so the pass-through arguments can be checked
/// before any run starts.
#[derive(Parser, Debug)]
#[command(name = "sparselabel sweep -- <train flags>")]
struct TrainFlags {
    #[command(flatten)]
    args: TrainArgs,
}

fn child_args(
    preset: &str,
    p: &GridPoint,
    dir: &Path,
    extra: &[String],
    threads: usize,
) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "train".into(),
        "--preset".into(),
        preset.into(),
        "--seed".into(),
        p.seed.to_string(),
        "--label-seed".into(),
        p.label_seed.to_string(),
        "--out".into(),
        dir.display().to_string(),
    ];
    a.extend(extra.iter().cloned());
    if !extra
        .iter()
        .any(|x| x == "--threads" || x.starts_with("--threads="))
    {
        a.push("--threads".into());
        a.push(threads.to_string());
    }
    a
}

/// Runs `sweep`.
pub fn run(args: &SweepArgs) -> Result<()> {
    let seeds = parse_seed_list(&args.seeds)?;
    let label_seeds = args
        .label_seeds
        .as_deref()
        .map(parse_seed_list)
        .transpose()?;
    let shard = args
        .shard
        .as_deref()
        .map(parse_shard)
        .transpose()?
        .unwrap_or((1, 1));
    if let Some(f) = args.train_args.iter().find(|a| {
        OWNED_FLAGS
            .iter()
            .any(|o| a == o || a.starts_with(&format!("{o}=")))
    }) {
        return Err(Error::Usage(format!(
            "{f} is set by sweep itself; pass only other train flags after --"
        )));
    }
    // Check the preset and the pass-through flags once, before any run.
    let probe = std::iter::once("train".to_string())
        .chain(["--preset".to_string(), args.preset.clone()])
        .chain(args.train_args.iter().cloned());
    let flags = TrainFlags::try_parse_from(probe).map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("invalid")
            .trim_start_matches("error: ");
        Error::Usage(format!("train flags after --: {first}"))
    })?;
    resolve(&flags.args)?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or((cores / 2).max(1));
    if jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let threads = (cores / jobs).max(1);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("sweep-{}", args.preset)));
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::Other(format!("own binary: {e}")))?;

    let mut queue: VecDeque<(String, Vec<String>)> = VecDeque::new();
    for p in grid(&seeds, label_seeds.as_deref(), shard) {
        let name = p.run_name(&args.preset);
        let dir = out.join(&name);
        if dir.join("summary.json").is_file() {
            eprintln!("{name}: finished earlier, skipped");
            continue;
        }
        let a = if dir.join("checkpoint.safetensors").is_file() {
            vec!["train".into(), "--resume".into(), dir.display().to_string()]
        } else {
            child_args(&args.preset, &p, &dir, &args.train_args, threads)
        };
        queue.push_back((name, a));
    }
    let total = queue.len();
    let mut running: Vec<(String, Child)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < jobs {
            let Some((name, a)) = queue.pop_front() else {
                break;
            };
            let log_path = out.join(format!("{name}.log"));
            let log = File::create(&log_path).map_err(|e| Error::io(&log_path, e))?;
            let err = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
            let child = Command::new(&exe)
                .args(&a)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .spawn()
                .map_err(|e| Error::Other(format!("starting {name}: {e}")))?;
            eprintln!("{name}: started (log {})", log_path.display());
            running.push((name, child));
        }
        let mut k = 0;
        while k < running.len() {
            match running[k].1.try_wait() {
                Ok(Some(status)) => {
                    let (name, _) = running.remove(k);
                    if status.success() {
                        eprintln!("{name}: finished");
                    } else {
                        eprintln!("{name}: failed ({status}); see {name}.log");
                        failed.push(name);
                    }
                }
                Ok(None) => k += 1,
                Err(e) => return Err(Error::Other(format!("waiting for {}: {e}", running[k].0))),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{} of {total} runs ended well", total - failed.len());
    let report = report::collect(std::slice::from_ref(&out));
    if let Ok(r) = &report {
        r.write(&out)?;
        print!("{}", r.markdown());
    }
    if failed.is_empty() {
        report.map(|_| ())
    } else {
        Err(Error::Other(format!(
            "{} run(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}
