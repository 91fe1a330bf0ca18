//! Reports over run directories, in the shape of the papers' tables: runs
//! grouped by configuration (seeds and thread counts aside), the mean ± sd
//! of every test metric over the finished runs of a group, beside the
//! paper's number. Unfinished runs are listed, never averaged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::config::PRESETS;
use crate::{Error, Result};

/// Configuration keys that vary within a group (a sweep's grid and the
/// machine), not between groups.
const PER_RUN_KEYS: &[&str] = &["seed", "label_seed", "threads", "test_every_epoch"];

/// Metrics shown first, in this order; other `test_*` numbers follow
/// alphabetically.
const PREFERRED: &[&str] = &[
    "test_accuracy",
    "test_cluster_accuracy",
    "test_purity",
    "test_nmi",
];

/// One run directory as found on disk.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// The run directory.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub config: Value,
    /// Its `summary.json`, present once the run finished.
    pub summary: Option<Value>,
    /// Epochs recorded in `metrics.jsonl` so far.
    pub epochs_done: usize,
}

impl RunRecord {
    /// Reads `dir`'s config, summary (if any) and progress.
    pub fn load(dir: &Path) -> Result<RunRecord> {
        let read_json = |name: &str| -> Result<Option<Value>> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| Error::bad_input(&path, format!("invalid JSON: {e}"))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(&path, e)),
            }
        };
        let config = read_json("config.json")?.ok_or_else(|| {
            Error::bad_input(
                dir.join("config.json"),
                "not a run directory (no config.json)",
            )
        })?;
        let summary = read_json("summary.json")?;
        let epochs_done = std::fs::read_to_string(dir.join("metrics.jsonl"))
            .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
            .unwrap_or(0);
        Ok(RunRecord {
            dir: dir.to_path_buf(),
            config,
            summary,
            epochs_done,
        })
    }

    /// The run directory's own name.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }
}

/// Every run directory (a folder holding `config.json`) at or below each
/// path, sorted by path; a path that is neither is an error.
pub fn find_runs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        if dir.join("config.json").is_file() {
            out.push(dir.to_path_buf());
            return Ok(());
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.is_dir() {
                walk(&path, out)?;
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            return Err(Error::bad_input(p, "not a directory"));
        }
        let before = out.len();
        walk(p, &mut out)?;
        if out.len() == before {
            return Err(Error::bad_input(
                p,
                "holds no run directory (no config.json)",
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Mean, sample standard deviation (n − 1; 0 for one value) and the values.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// The values, in run order.
    pub values: Vec<f64>,
}

impl Stat {
    /// The statistics of `values` (not empty).
    pub fn of(values: Vec<f64>) -> Stat {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Stat { mean, sd, values }
    }
}

/// Finished runs of one configuration.
#[derive(Clone, Debug)]
pub struct Group {
    /// Preset (or model) name, with the settings that tell it apart from
    /// other groups of the same name.
    pub name: String,
    /// The paper's figure when the group is a preset.
    pub paper: Option<String>,
    /// Names of the finished runs.
    pub runs: Vec<String>,
    /// Epochs of each run.
    pub epochs: Vec<u64>,
    /// Wall time over the runs.
    pub wall_seconds: Option<Stat>,
    /// Each test metric over the runs (present in all of them).
    pub metrics: Vec<(String, Stat)>,
}

/// A run without `summary.json`.
#[derive(Clone, Debug)]
pub struct Unfinished {
    /// Run directory name.
    pub run: String,
    /// Group name it would belong to.
    pub name: String,
    /// Epochs done so far, of how many.
    pub epochs_done: usize,
    /// Epochs configured.
    pub epochs: u64,
}

/// The report: groups in name order and the unfinished runs.
#[derive(Clone, Debug)]
pub struct Report {
    /// Groups with at least one finished run.
    pub groups: Vec<Group>,
    /// Runs that did not finish.
    pub unfinished: Vec<Unfinished>,
}

fn group_key(config: &Value) -> String {
    let mut c = config.as_object().cloned().unwrap_or_default();
    for k in PER_RUN_KEYS {
        c.remove(*k);
    }
    // serde_json's Map is ordered by key, so equal configs print equally.
    serde_json::to_string(&c).unwrap_or_default()
}

fn base_name(config: &Value) -> String {
    let get = |k: &str| config.get(k).and_then(|v| v.as_str()).map(str::to_string);
    get("preset")
        .or_else(|| get("model"))
        .unwrap_or_else(|| "run".into())
}

/// The settings (key=value) in which `config` differs from any of `others`.
fn distinguishing(config: &Value, others: &[&Value]) -> String {
    let Some(c) = config.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (k, v) in c {
        if PER_RUN_KEYS.contains(&k.as_str()) {
            continue;
        }
        if others.iter().any(|o| o.get(k) != Some(v)) {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parts.push(format!("{k}={shown}"));
        }
    }
    parts.join(", ")
}

/// Groups `runs` by configuration and summarises each group.
pub fn build(runs: &[RunRecord]) -> Report {
    let mut by_key: BTreeMap<String, Vec<&RunRecord>> = BTreeMap::new();
    for r in runs {
        by_key.entry(group_key(&r.config)).or_default().push(r);
    }
    // Names: the preset (or model), plus distinguishing settings when two
    // configurations share it.
    let mut by_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (key, members) in &by_key {
        by_name
            .entry(base_name(&members[0].config))
            .or_default()
            .push(key);
    }
    let mut names: BTreeMap<&str, String> = BTreeMap::new();
    for (name, keys) in &by_name {
        for key in keys {
            let own = &by_key[*key][0].config;
            let others: Vec<&Value> = keys
                .iter()
                .filter(|k| *k != key)
                .map(|k| &by_key[*k][0].config)
                .collect();
            let full = if others.is_empty() {
                name.clone()
            } else {
                format!("{name} [{}]", distinguishing(own, &others))
            };
            names.insert(key, full);
        }
    }
    let mut groups = Vec::new();
    let mut unfinished = Vec::new();
    for (key, members) in &by_key {
        let name = names[key.as_str()].clone();
        let epochs_of =
            |r: &RunRecord| r.config.get("epochs").and_then(|v| v.as_u64()).unwrap_or(0);
        let finished: Vec<&RunRecord> = members
            .iter()
            .copied()
            .filter(|r| r.summary.is_some())
            .collect();
        for r in members.iter().filter(|r| r.summary.is_none()) {
            unfinished.push(Unfinished {
                run: r.name(),
                name: name.clone(),
                epochs_done: r.epochs_done,
                epochs: epochs_of(r),
            });
        }
        if finished.is_empty() {
            continue;
        }
        let summaries: Vec<&Map<String, Value>> = finished
            .iter()
            .filter_map(|r| r.summary.as_ref().and_then(|s| s.as_object()))
            .collect();
        let number = |s: &Map<String, Value>, k: &str| s.get(k).and_then(|v| v.as_f64());
        let mut metric_names: Vec<String> = summaries
            .first()
            .map(|s| {
                s.keys()
                    .filter(|k| k.starts_with("test_"))
                    .filter(|k| summaries.iter().all(|s| number(s, k).is_some()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        metric_names.sort_by_key(|m| {
            (
                PREFERRED
                    .iter()
                    .position(|p| p == m)
                    .unwrap_or(PREFERRED.len()),
                m.clone(),
            )
        });
        let metrics = metric_names
            .into_iter()
            .map(|m| {
                let values = summaries.iter().filter_map(|s| number(s, &m)).collect();
                (m, Stat::of(values))
            })
            .collect();
        let walls: Vec<f64> = summaries
            .iter()
            .filter_map(|s| number(s, "wall_seconds"))
            .collect();
        let preset = members[0].config.get("preset").and_then(|v| v.as_str());
        groups.push(Group {
            paper: preset
                .and_then(|p| PRESETS.iter().find(|q| q.name == p))
                .map(|q| q.paper.to_string()),
            name,
            runs: finished.iter().map(|r| r.name()).collect(),
            epochs: finished.iter().map(|r| epochs_of(r)).collect(),
            wall_seconds: (walls.len() == summaries.len()).then(|| Stat::of(walls)),
            metrics,
        });
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    unfinished.sort_by(|a, b| (&a.name, &a.run).cmp(&(&b.name, &b.run)));
    Report { groups, unfinished }
}

/// Loads every run at or below `paths` and builds the report.
pub fn collect(paths: &[PathBuf]) -> Result<Report> {
    let runs = find_runs(paths)?
        .iter()
        .map(|d| RunRecord::load(d))
        .collect::<Result<Vec<_>>>()?;
    Ok(build(&runs))
}

/// "95.69 ± 0.42 %" (accuracies in percent), "0.912 ± 0.004" (NMI); the sd
/// is left out for a single run.
fn format_metric(name: &str, s: &Stat) -> String {
    let (scale, digits, unit) = if name.contains("nmi") {
        (1.0, 3, "")
    } else {
        (100.0, 2, " %")
    };
    if s.values.len() > 1 {
        format!(
            "{:.*} ± {:.*}{unit}",
            digits,
            s.mean * scale,
            digits,
            s.sd * scale
        )
    } else {
        format!("{:.*}{unit}", digits, s.mean * scale)
    }
}

fn format_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.2} h", s / 3600.0)
    }
}

fn format_epochs(epochs: &[u64]) -> String {
    let mut distinct = epochs.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("/")
}

impl Report {
    /// The Markdown table (one row per group, one column per metric), then
    /// the unfinished runs.
    pub fn markdown(&self) -> String {
        let mut columns: Vec<String> = Vec::new();
        for g in &self.groups {
            for (m, _) in &g.metrics {
                if !columns.contains(m) {
                    columns.push(m.clone());
                }
            }
        }
        columns.sort_by_key(|m| {
            (
                PREFERRED
                    .iter()
                    .position(|p| p == m)
                    .unwrap_or(PREFERRED.len()),
                m.clone(),
            )
        });
        let mut out = String::new();
        let header: Vec<String> = ["runs of", "n", "epochs", "wall time (mean)"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                columns
                    .iter()
                    .map(|c| c.trim_start_matches("test_").replace('_', " ")),
            )
            .chain(std::iter::once("paper".to_string()))
            .collect();
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
        for g in &self.groups {
            let mut row = vec![
                g.name.clone(),
                g.runs.len().to_string(),
                format_epochs(&g.epochs),
                g.wall_seconds
                    .as_ref()
                    .map(|w| format_seconds(w.mean))
                    .unwrap_or_else(|| "–".into()),
            ];
            for c in &columns {
                row.push(
                    g.metrics
                        .iter()
                        .find(|(m, _)| m == c)
                        .map(|(m, s)| format_metric(m, s))
                        .unwrap_or_else(|| "–".into()),
                );
            }
            row.push(g.paper.clone().unwrap_or_else(|| "–".into()));
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out.push_str("\nTest metrics of the final epoch; accuracy: predicted class = true class; cluster accuracy: best one-to-one (Hungarian) mapping; purity: majority-vote mapping; mean ± sample sd over the runs.\n");
        if !self.unfinished.is_empty() {
            out.push_str("\nNot finished (not averaged):\n\n");
            for u in &self.unfinished {
                out.push_str(&format!(
                    "- {} ({}): {} of {} epochs\n",
                    u.run, u.name, u.epochs_done, u.epochs
                ));
            }
        }
        out
    }

    /// The same content as JSON (values of every run included).
    pub fn to_json(&self) -> Value {
        let stat =
            |s: &Stat| json!({"mean": s.mean, "sd": s.sd, "n": s.values.len(), "values": s.values});
        json!({
            "groups": self.groups.iter().map(|g| {
                let mut metrics = Map::new();
                for (m, s) in &g.metrics {
                    metrics.insert(m.clone(), stat(s));
                }
                json!({
                    "name": g.name,
                    "paper": g.paper,
                    "runs": g.runs,
                    "epochs": g.epochs,
                    "wall_seconds": g.wall_seconds.as_ref().map(stat),
                    "metrics": metrics,
                })
            }).collect::<Vec<_>>(),
            "unfinished": self.unfinished.iter().map(|u| json!({
                "run": u.run, "name": u.name, "epochs_done": u.epochs_done, "epochs": u.epochs,
            })).collect::<Vec<_>>(),
        })
    }

    /// Writes `report.md` and `report.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let md = dir.join("report.md");
        std::fs::write(&md, self.markdown()).map_err(|e| Error::io(&md, e))?;
        let js = dir.join("report.json");
        let text = serde_json::to_string_pretty(&self.to_json())
            .map_err(|e| Error::Other(e.to_string()))?;
        std::fs::write(&js, text + "\n").map_err(|e| Error::io(&js, e))
    }
}
