//! The run directory of DESIGN.md §2: config.json, manifest.json,
//! metrics.jsonl, summary.json, checkpoint.safetensors, figures/.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::checkpoint::write_atomic;
use crate::data::SourceFile;
use crate::{Error, Result};

/// A run directory on disk.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// Its path.
    pub path: PathBuf,
}

/// `YYYYmmdd-HHMMSS` in UTC, for default run names.
pub fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What produced a run: versions, inputs, seed and machine.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// Crate version.
    pub version: String,
    /// Git commit of the source tree, when it can be found.
    pub git_commit: Option<String>,
    /// Every data file read, with its SHA-256.
    pub datasets: Vec<SourceFile>,
    /// Run seed.
    pub seed: u64,
    /// Label-draw seed.
    pub label_seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// CPU features the kernels may use.
    pub cpu_features: Vec<String>,
    /// When the run started (UTC).
    pub started: String,
}

impl Manifest {
    /// A manifest for the current process.
    pub fn current(datasets: Vec<SourceFile>, seed: u64, label_seed: u64) -> Self {
        Manifest {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            datasets,
            seed,
            label_seed,
            threads: rayon::current_num_threads(),
            cpu_features: cpu_features(),
            started: timestamp(),
        }
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The SIMD features of this CPU that matter to the kernels.
pub fn cpu_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        for (name, on) in [
            ("sse4.2", is_x86_feature_detected!("sse4.2")),
            ("avx", is_x86_feature_detected!("avx")),
            ("avx2", is_x86_feature_detected!("avx2")),
            ("fma", is_x86_feature_detected!("fma")),
            ("avx512f", is_x86_feature_detected!("avx512f")),
        ] {
            if on {
                f.push(name.to_string());
            }
        }
    }
    f
}

impl RunDir {
    /// Creates (or reuses) the directory and its `figures/`.
    pub fn create(path: &Path) -> Result<Self> {
        fs::create_dir_all(path.join("figures")).map_err(|e| Error::io(path, e))?;
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing run directory (for `--resume` and `eval`).
    pub fn open(path: &Path) -> Result<Self> {
        if !path.join("config.json").is_file() {
            return Err(Error::bad_input(
                path,
                "not a run directory (no config.json)",
            ));
        }
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    /// Path of a file in the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes a JSON document atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let mut s = serde_json::to_string_pretty(value).map_err(|e| Error::Other(e.to_string()))?;
        s.push('\n');
        write_atomic(&self.file(name), s.as_bytes())
    }

    /// Appends one JSON object as a line of `metrics.jsonl`.
    pub fn append_metrics<T: Serialize>(&self, value: &T) -> Result<()> {
        let path = self.file("metrics.jsonl");
        let line = serde_json::to_string(value).map_err(|e| Error::Other(e.to_string()))?;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        writeln!(f, "{line}").map_err(|e| Error::io(&path, e))
    }

    /// The epoch records of `metrics.jsonl`, in order (none if it is
    /// missing; unreadable lines are skipped).
    pub fn metrics(&self) -> Vec<serde_json::Value> {
        fs::read_to_string(self.file("metrics.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The total training loss of each epoch, from `metrics.jsonl`.
    pub fn epoch_losses(&self) -> Vec<f64> {
        self.metrics()
            .iter()
            .filter_map(|r| r["losses"]["loss"].as_f64())
            .collect()
    }

    /// Drops the lines of `metrics.jsonl` after the first `epochs` (used when
    /// resuming from a checkpoint older than the log).
    pub fn truncate_metrics(&self, epochs: usize) -> Result<()> {
        let path = self.file("metrics.jsonl");
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(());
        };
        let kept: String = text
            .lines()
            .take(epochs)
            .map(|l| format!("{l}\n"))
            .collect();
        write_atomic(&path, kept.as_bytes())
    }
}
