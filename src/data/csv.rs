//! Numeric CSV tables: comma- (or tab-) separated, optional header row,
//! optional label column.
//!
//! - A first row in which no field is a number is a header.
//! - The label column is chosen by [`LabelColumn`]; by default (`Auto`) it is
//!   a header column named `label`, `class`, `target` or `y`, else none.
//! - Labels that are all non-negative integers are class ids (`max + 1`
//!   classes); otherwise each distinct string is a class, in sorted order. An
//!   empty label field means "no label" ([`UNKNOWN_LABEL`]).
//! - Ragged rows, non-numeric or non-finite features are errors naming the
//!   file, the line and the column.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::source::{read_error, SourceReader};
use super::{SourceFile, UNKNOWN_LABEL};
use crate::{Error, Result};

/// Which column of a CSV file holds the labels.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum LabelColumn {
    /// A header column named `label`, `class`, `target` or `y`, else none.
    #[default]
    Auto,
    /// No label column: every column is a feature.
    None,
    /// The column at this 0-based index.
    Index(usize),
    /// The last column.
    Last,
    /// The header column with this name.
    Name(String),
}

impl LabelColumn {
    /// Parses `none`, `auto`, `first`, `last`, a 0-based index or a name.
    pub fn parse(s: &str) -> LabelColumn {
        match s {
            "auto" => LabelColumn::Auto,
            "none" => LabelColumn::None,
            "first" => LabelColumn::Index(0),
            "last" => LabelColumn::Last,
            _ => match s.parse() {
                Ok(i) => LabelColumn::Index(i),
                Err(_) => LabelColumn::Name(s.to_string()),
            },
        }
    }
}

/// A parsed CSV table.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    /// Features, `n × dim`, row-major.
    pub x: Vec<f32>,
    /// Number of rows.
    pub n: usize,
    /// Number of feature columns.
    pub dim: usize,
    /// Labels when a label column was used.
    pub labels: Option<Vec<u32>>,
    /// Class names (empty without labels).
    pub class_names: Vec<String>,
    /// Header names of the feature columns, when there is a header.
    pub feature_names: Option<Vec<String>>,
}

fn split_fields(line: &str, sep: char) -> Vec<&str> {
    line.split(sep)
        .map(|f| f.trim().trim_matches('"').trim())
        .collect()
}

/// Reads a CSV file and its SHA-256.
pub fn read_csv(path: &Path, label: &LabelColumn) -> Result<(CsvTable, SourceFile)> {
    let mut reader = BufReader::new(SourceReader::open(path)?);
    let mut line = String::new();
    let mut line_no = 0usize;
    let mut sep = ',';
    let mut header: Option<Vec<String>> = None;
    let mut label_idx: Option<usize> = None;
    let mut width: Option<usize> = None;
    let mut x = Vec::new();
    let mut raw_labels: Vec<String> = Vec::new();
    loop {
        line.clear();
        let k = reader.read_line(&mut line).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                Error::bad_input(path, format!("line {}: not valid UTF-8 text", line_no + 1))
            }
            _ => read_error(path, e),
        })?;
        if k == 0 {
            break;
        }
        line_no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        if width.is_none() {
            if !text.contains(',') && text.contains('\t') {
                sep = '\t';
            }
            let fields = split_fields(text, sep);
            let w = fields.len();
            width = Some(w);
            let is_header = fields.iter().all(|f| f.parse::<f64>().is_err());
            if is_header {
                header = Some(fields.iter().map(|s| s.to_string()).collect());
            }
            label_idx = resolve_label(path, label, header.as_deref(), w)?;
            if is_header {
                continue;
            }
        }
        let fields = split_fields(text, sep);
        let w = width.unwrap_or(fields.len());
        if fields.len() != w {
            return Err(Error::bad_input(
                path,
                format!("line {line_no} has {} fields, expected {w}", fields.len()),
            ));
        }
        for (c, f) in fields.iter().enumerate() {
            if Some(c) == label_idx {
                raw_labels.push(f.to_string());
                continue;
            }
            let v: f32 = f.parse().map_err(|_| {
                Error::bad_input(
                    path,
                    format!("line {line_no}, column {}: '{f}' is not a number", c + 1),
                )
            })?;
            if !v.is_finite() {
                return Err(Error::bad_input(
                    path,
                    format!("line {line_no}, column {}: '{f}' is not finite", c + 1),
                ));
            }
            x.push(v);
        }
    }
    let src = reader.into_inner().finish()?;
    let width = width.ok_or_else(|| Error::bad_input(path, "no data rows"))?;
    let dim = width - usize::from(label_idx.is_some());
    let n = x.len().checked_div(dim).unwrap_or(raw_labels.len());
    if n == 0 {
        return Err(Error::bad_input(path, "no data rows"));
    }
    if dim == 0 {
        return Err(Error::bad_input(
            path,
            "no feature columns besides the label column",
        ));
    }
    let (labels, class_names) = match label_idx {
        Some(_) => {
            let (l, names) = encode_labels(&raw_labels);
            (Some(l), names)
        }
        None => (None, Vec::new()),
    };
    let feature_names = header.map(|h| {
        h.into_iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != label_idx)
            .map(|(_, s)| s)
            .collect()
    });
    Ok((
        CsvTable {
            x,
            n,
            dim,
            labels,
            class_names,
            feature_names,
        },
        src,
    ))
}

fn resolve_label(
    path: &Path,
    label: &LabelColumn,
    header: Option<&[String]>,
    width: usize,
) -> Result<Option<usize>> {
    let idx = match label {
        LabelColumn::None => None,
        LabelColumn::Auto => header.and_then(|h| {
            h.iter().position(|s| {
                matches!(
                    s.to_ascii_lowercase().as_str(),
                    "label" | "class" | "target" | "y"
                )
            })
        }),
        LabelColumn::Index(i) => Some(*i),
        LabelColumn::Last => Some(width - 1),
        LabelColumn::Name(name) => {
            let h = header.ok_or_else(|| {
                Error::bad_input(
                    path,
                    format!("label column '{name}' requested but the file has no header"),
                )
            })?;
            Some(h.iter().position(|s| s == name).ok_or_else(|| {
                Error::bad_input(path, format!("no column named '{name}' in the header"))
            })?)
        }
    };
    if let Some(i) = idx {
        if i >= width {
            return Err(Error::bad_input(
                path,
                format!("label column {i} is out of range: rows have {width} fields"),
            ));
        }
    }
    Ok(idx)
}

/// Integer labels if every non-empty label is one, else sorted distinct
/// strings; empty → [`UNKNOWN_LABEL`].
fn encode_labels(raw: &[String]) -> (Vec<u32>, Vec<String>) {
    let ints: Option<Vec<Option<u32>>> = raw
        .iter()
        .map(|s| {
            if s.is_empty() {
                Some(None)
            } else {
                s.parse::<u32>().ok().filter(|&v| v < 1 << 24).map(Some)
            }
        })
        .collect();
    if let Some(ints) = ints {
        let k = ints.iter().flatten().max().map_or(0, |&m| m as usize + 1);
        let labels = ints.iter().map(|l| l.unwrap_or(UNKNOWN_LABEL)).collect();
        return (labels, (0..k).map(|c| c.to_string()).collect());
    }
    let mut ids = BTreeMap::new();
    for s in raw.iter().filter(|s| !s.is_empty()) {
        ids.insert(s.as_str(), 0u32);
    }
    for (i, v) in ids.values_mut().enumerate() {
        *v = i as u32;
    }
    let labels = raw
        .iter()
        .map(|s| ids.get(s.as_str()).copied().unwrap_or(UNKNOWN_LABEL))
        .collect();
    (labels, ids.keys().map(|s| s.to_string()).collect())
}
