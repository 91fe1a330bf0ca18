//! `answers.jsonl` in the run directory: every reply to every query, one
//! JSON object a line, appended as it is given (a person's answers are never
//! lost), and replayed in order when an iteration is run again after a quit
//! or a crash.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::oracle::Reply;
use crate::{Error, Result};

/// The log of one run.
pub struct AnswerLog {
    path: PathBuf,
}

/// A logged reply to the query about cluster `query` of `iteration`.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Labelling iteration (1-based).
    pub iteration: usize,
    /// Cluster id.
    pub query: String,
    /// The reply (never `Quit`).
    pub reply: Reply,
}

impl AnswerLog {
    /// The log at `dir/answers.jsonl`.
    pub fn in_dir(dir: &Path) -> Self {
        AnswerLog {
            path: dir.join("answers.jsonl"),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every logged reply of `iteration`, in order (none if the file does
    /// not exist).
    pub fn replies(&self, iteration: usize) -> Result<VecDeque<Logged>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(VecDeque::new()),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let mut out = VecDeque::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let logged = parse(line)
                .map_err(|m| Error::bad_input(&self.path, format!("line {}: {m}", n + 1)))?;
            if logged.iteration == iteration {
                out.push_back(logged);
            }
        }
        Ok(out)
    }

    /// Appends one reply and flushes it to disk.
    pub fn append(&self, logged: &Logged) -> Result<()> {
        let v = match &logged.reply {
            Reply::Label { class, confidence } => json!({
                "iteration": logged.iteration, "query": logged.query,
                "reply": "label", "class": class, "confidence": confidence,
            }),
            Reply::Invalid => json!({
                "iteration": logged.iteration, "query": logged.query, "reply": "invalid",
            }),
            Reply::Undo => json!({
                "iteration": logged.iteration, "query": logged.query, "reply": "undo",
            }),
            Reply::Quit => return Ok(()),
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        writeln!(f, "{v}")
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }
}

fn parse(line: &str) -> std::result::Result<Logged, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let field = |k: &str| v.get(k).ok_or_else(|| format!("no '{k}'"));
    let iteration = field("iteration")?
        .as_u64()
        .ok_or("'iteration' is not a count")? as usize;
    let query = field("query")?
        .as_str()
        .ok_or("'query' is not a string")?
        .to_string();
    let reply = match field("reply")?.as_str() {
        Some("label") => {
            let class = field("class")?.as_u64().ok_or("'class' is not a count")? as usize;
            let confidence = field("confidence")?
                .as_f64()
                .filter(|c| (0.0..=1.0).contains(c))
                .ok_or("'confidence' is not in [0, 1]")? as f32;
            Reply::Label { class, confidence }
        }
        Some("invalid") => Reply::Invalid,
        Some("undo") => Reply::Undo,
        other => return Err(format!("unknown reply {other:?}")),
    };
    Ok(Logged {
        iteration,
        query,
        reply,
    })
}
