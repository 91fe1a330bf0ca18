//! IDX files (the MNIST format): a big-endian header `0 0 type ndims`, one
//! `u32` per dimension, then the payload. Only unsigned bytes (type 0x08) are
//! accepted: magic 2049 for labels (1 dimension), 2051 for images (3).
//!
//! `idx:DIR` holds the four files under their distributed names
//! (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`) or the dotted variants
//! (`train-images.idx3-ubyte`, …), each raw or gzipped (`.gz`).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::source::{read_error, read_exact_bounded, SourceReader};
use super::{Dataset, SourceFile};
use crate::{Error, Result};

/// Magic number of an IDX label file (`u8`, one dimension).
pub const MAGIC_LABELS: u32 = 2049;
/// Magic number of an IDX image file (`u8`, three dimensions).
pub const MAGIC_IMAGES: u32 = 2051;

/// Most dimensions an IDX header may declare.
const MAX_DIMS: usize = 8;

/// A parsed IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The magic number (`0x0800 + ndims` for unsigned bytes).
    pub magic: u32,
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The payload, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Parses the header and payload of an IDX stream (not checking for trailing
/// bytes). `path` names the file in errors.
pub fn parse_idx<R: Read>(r: &mut R, path: &Path) -> Result<IdxArray> {
    let head = read_exact_bounded(r, 4, path, "the IDX magic number")?;
    let magic = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if head[0] != 0 || head[1] != 0 {
        return Err(Error::bad_input(
            path,
            format!("not an IDX file: magic number {magic:#010x}"),
        ));
    }
    if head[2] != 0x08 {
        return Err(Error::bad_input(
            path,
            format!(
                "unsupported IDX element type {:#04x} (only unsigned bytes, 0x08)",
                head[2]
            ),
        ));
    }
    let ndims = head[3] as usize;
    if ndims == 0 || ndims > MAX_DIMS {
        return Err(Error::bad_input(
            path,
            format!("IDX header declares {ndims} dimensions"),
        ));
    }
    let raw = read_exact_bounded(r, 4 * ndims as u64, path, "the IDX dimensions")?;
    let dims: Vec<usize> = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let mut total: u64 = 1;
    for &d in &dims {
        total = total
            .checked_mul(d as u64)
            .ok_or_else(|| Error::bad_input(path, format!("IDX dimensions {dims:?} overflow")))?;
    }
    let data = read_exact_bounded(r, total, path, "IDX data")?;
    Ok(IdxArray { magic, dims, data })
}

/// Parses a whole IDX file held in memory, raw or gzipped; trailing bytes are
/// an error.
pub fn parse_idx_bytes(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut gz = flate2::read::MultiGzDecoder::new(bytes);
        let arr = parse_idx(&mut gz, path)?;
        let mut extra = [0u8; 1];
        match gz.read(&mut extra) {
            Ok(0) => Ok(arr),
            Ok(_) => Err(Error::bad_input(path, "unexpected bytes after the data")),
            Err(e) => Err(read_error(path, e)),
        }
    } else {
        let mut r = bytes;
        let arr = parse_idx(&mut r, path)?;
        if !r.is_empty() {
            return Err(Error::bad_input(path, "unexpected bytes after the data"));
        }
        Ok(arr)
    }
}

/// Reads an IDX file (raw or gzipped) and its SHA-256.
pub fn read_idx_file(path: &Path) -> Result<(IdxArray, SourceFile)> {
    let mut r = SourceReader::open(path)?;
    let arr = parse_idx(&mut r, path)?;
    let src = r.finish()?;
    Ok((arr, src))
}

/// Writes `data` with dimensions `dims` as an IDX file of unsigned bytes,
/// gzipped when `path` ends in `.gz`.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8]) -> Result<()> {
    let total: usize = dims.iter().product();
    if dims.is_empty() || dims.len() > MAX_DIMS || total != data.len() {
        return Err(Error::Usage(format!(
            "write_idx {}: dimensions {dims:?} do not match {} bytes",
            path.display(),
            data.len()
        )));
    }
    let mut bytes = vec![0u8, 0, 0x08, dims.len() as u8];
    for &d in dims {
        let d = u32::try_from(d)
            .map_err(|_| Error::Usage(format!("write_idx: dimension {d} exceeds u32")))?;
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    let res = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
        gz.write_all(&bytes)
            .and_then(|_| gz.write_all(data))
            .and_then(|_| gz.finish().and_then(|mut w| w.flush()))
    } else {
        w.write_all(&bytes)
            .and_then(|_| w.write_all(data))
            .and_then(|_| w.flush())
    };
    res.map_err(|e| Error::io(path, e))
}

/// Finds `DIR/<stem>-<kind>-idx<d>-ubyte` or the dotted variant, raw or `.gz`.
fn find(dir: &Path, stem: &str, kind: &str, d: u32) -> Result<PathBuf> {
    let names = [
        format!("{stem}-{kind}-idx{d}-ubyte"),
        format!("{stem}-{kind}.idx{d}-ubyte"),
    ];
    for name in &names {
        for suffix in ["", ".gz"] {
            let p = dir.join(format!("{name}{suffix}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::bad_input(
        dir,
        format!("missing {}[.gz] (or {}[.gz])", names[0], names[1]),
    ))
}

/// Reads one image/label pair. Labels must be below `max_classes` when given.
fn read_pair(
    images: &Path,
    labels: &Path,
    max_classes: Option<usize>,
    sources: &mut Vec<SourceFile>,
) -> Result<(Vec<f32>, [usize; 3], Vec<u32>)> {
    let (img, src) = read_idx_file(images)?;
    sources.push(src);
    if img.magic != MAGIC_IMAGES {
        return Err(Error::bad_input(
            images,
            format!(
                "wrong magic number {} (expected {MAGIC_IMAGES} for images)",
                img.magic
            ),
        ));
    }
    let (n, h, w) = (img.dims[0], img.dims[1], img.dims[2]);
    if n == 0 || h == 0 || w == 0 {
        return Err(Error::bad_input(
            images,
            format!("empty image array {:?}", img.dims),
        ));
    }
    let (lab, src) = read_idx_file(labels)?;
    sources.push(src);
    if lab.magic != MAGIC_LABELS {
        return Err(Error::bad_input(
            labels,
            format!(
                "wrong magic number {} (expected {MAGIC_LABELS} for labels)",
                lab.magic
            ),
        ));
    }
    if lab.dims[0] != n {
        return Err(Error::bad_input(
            labels,
            format!(
                "{} labels for {n} images in {}",
                lab.dims[0],
                images.display()
            ),
        ));
    }
    if let Some(k) = max_classes {
        if let Some((i, &l)) = lab.data.iter().enumerate().find(|(_, &l)| l as usize >= k) {
            return Err(Error::bad_input(
                labels,
                format!("label {l} of example {i} is out of range 0..{}", k - 1),
            ));
        }
    }
    let x = img.data.iter().map(|&b| b as f32 / 255.0).collect();
    let y = lab.data.iter().map(|&l| l as u32).collect();
    Ok((x, [1, h, w], y))
}

/// The full training file and the test file of an IDX folder, plus the
/// files read. With `num_classes` given (the embedded datasets) labels must be
/// below it; otherwise the training labels define the classes (`max + 1`)
/// and a test label beyond them is an error.
pub fn load_dir(
    dir: &Path,
    num_classes: Option<usize>,
    class_names: Option<&[&str]>,
    name: &str,
) -> Result<(Dataset, Dataset, Vec<SourceFile>)> {
    if !dir.is_dir() {
        return Err(Error::bad_input(dir, "not a directory"));
    }
    let mut sources = Vec::new();
    let tr_i = find(dir, "train", "images", 3)?;
    let tr_l = find(dir, "train", "labels", 1)?;
    let te_i = find(dir, "t10k", "images", 3)?;
    let te_l = find(dir, "t10k", "labels", 1)?;
    let (xtr, shape, ytr) = read_pair(&tr_i, &tr_l, num_classes, &mut sources)?;
    let k = num_classes.unwrap_or_else(|| ytr.iter().max().map_or(1, |&m| m as usize + 1));
    let (xte, shape_te, yte) = read_pair(&te_i, &te_l, Some(k), &mut sources)?;
    if shape_te != shape {
        return Err(Error::bad_input(
            &te_i,
            format!(
                "images are {}×{} but the training images are {}×{}",
                shape_te[1], shape_te[2], shape[1], shape[2]
            ),
        ));
    }
    let names: Vec<String> = match class_names {
        Some(n) => n.iter().map(|s| s.to_string()).collect(),
        None => (0..k).map(|c| c.to_string()).collect(),
    };
    let make = |x: Vec<f32>, y: Vec<u32>, split: &str| Dataset {
        name: format!("{name}/{split}"),
        n: y.len(),
        x,
        dim: shape[1] * shape[2],
        image_shape: Some(shape),
        labels: Some(y),
        num_classes: k,
        class_names: names.clone(),
        coarse: None,
    };
    Ok((make(xtr, ytr, "train"), make(xte, yte, "test"), sources))
}
