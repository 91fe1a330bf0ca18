//! Folders of PNG images: one sub-folder per class, plus `unlabelled/` (or
//! `unlabeled/`) for examples without a label.
//!
//! A class folder may itself hold sub-class folders: each becomes a fine
//! class named `class/sub`, and [`CoarseLabels`] maps fine to coarse classes.
//! A class folder without sub-folders is a fine class of its own. Images may
//! be greyscale or RGB (alpha is dropped; palettes and 16-bit samples are
//! reduced to 8 bits); if any image is colour, all become RGB. All images must
//! have the same size unless a size is given, in which case each is resized
//! (bilinear). Files without a `.png` extension and hidden files are ignored.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::digest::{hex, sha256_hex};
use super::{CoarseLabels, Dataset, SourceFile, UNKNOWN_LABEL};
use crate::{Error, Result};

/// Options for reading an image folder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Resize every image to `(height, width)`; `None` requires equal sizes.
    pub size: Option<(usize, usize)>,
}

/// One decoded image: 8-bit samples, interleaved, 1 or 3 channels.
struct Decoded {
    path: PathBuf,
    h: usize,
    w: usize,
    c: usize,
    pixels: Vec<u8>,
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        out.push(e.path());
    }
    out.sort();
    Ok(out)
}

fn is_png(p: &Path) -> bool {
    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Decodes one PNG file held in `bytes`.
fn decode_png(path: &Path, bytes: &[u8]) -> Result<Decoded> {
    let bad = |e: png::DecodingError| Error::bad_input(path, format!("cannot decode PNG: {e}"));
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::bad_input(path, "PNG image is too large"))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let samples = info.color_type.samples();
    let c = match info.color_type {
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => 1,
        png::ColorType::Rgb | png::ColorType::Rgba => 3,
        png::ColorType::Indexed => {
            return Err(Error::bad_input(path, "palette PNG was not expanded"));
        }
    };
    let mut pixels = Vec::with_capacity(w * h * c);
    for row in 0..h {
        let line = &buf[row * info.line_size..row * info.line_size + w * samples];
        for px in line.chunks_exact(samples) {
            pixels.extend_from_slice(&px[..c]);
        }
    }
    Ok(Decoded {
        path: path.to_path_buf(),
        h,
        w,
        c,
        pixels,
    })
}

/// Bilinear resize of interleaved `c`-channel 8-bit pixels to `(oh, ow)`,
/// returning planar (CHW) floats in [0, 1] with `out_c` channels (grey is
/// replicated to RGB; RGB becomes grey as the mean of its channels).
fn to_chw(img: &Decoded, oh: usize, ow: usize, out_c: usize) -> Vec<f32> {
    let mut out = vec![0f32; out_c * oh * ow];
    let sample = |y: usize, x: usize, ch: usize| -> f32 {
        let at = (y * img.w + x) * img.c;
        if img.c == out_c {
            img.pixels[at + ch] as f32 / 255.0
        } else if img.c == 1 {
            img.pixels[at] as f32 / 255.0
        } else {
            img.pixels[at..at + 3]
                .iter()
                .map(|&v| v as f32)
                .sum::<f32>()
                / (3.0 * 255.0)
        }
    };
    for ch in 0..out_c {
        for oy in 0..oh {
            for ox in 0..ow {
                let v = if oh == img.h && ow == img.w {
                    sample(oy, ox, ch)
                } else {
                    let fy = ((oy as f32 + 0.5) * img.h as f32 / oh as f32 - 0.5).max(0.0);
                    let fx = ((ox as f32 + 0.5) * img.w as f32 / ow as f32 - 0.5).max(0.0);
                    let (y0, x0) = (fy.floor() as usize, fx.floor() as usize);
                    let (y0, x0) = (y0.min(img.h - 1), x0.min(img.w - 1));
                    let (y1, x1) = ((y0 + 1).min(img.h - 1), (x0 + 1).min(img.w - 1));
                    let (dy, dx) = (fy - y0 as f32, fx - x0 as f32);
                    let top = sample(y0, x0, ch) * (1.0 - dx) + sample(y0, x1, ch) * dx;
                    let bot = sample(y1, x0, ch) * (1.0 - dx) + sample(y1, x1, ch) * dx;
                    top * (1.0 - dy) + bot * dy
                };
                out[(ch * oh + oy) * ow + ox] = v;
            }
        }
    }
    out
}

/// The class structure of an image folder: fine class names, their coarse
/// parents, and the folder of each fine class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassLayout {
    /// Fine class names (`class` or `class/sub`).
    pub fine: Vec<String>,
    /// Coarse class names (the top-level folders).
    pub coarse: Vec<String>,
    /// `fine_to_coarse[f]`.
    pub fine_to_coarse: Vec<u32>,
    /// Whether any class folder has sub-class folders.
    pub nested: bool,
}

/// Lists the PNG files of a folder (ignoring everything else).
fn pngs(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| is_png(p))
        .collect())
}

/// Reads one image folder (one sub-folder per class, plus `unlabelled/`).
/// With `like` given (the validation/test parts of a folder tree: the
/// training part's layout and image shape), class names must belong to that
/// layout and images are converted to its channel count and must have its
/// size (unless resizing). Returns the dataset, its layout and a digest of the
/// folder (its sorted listing of relative paths and file digests).
pub fn read_folder(
    dir: &Path,
    opts: &ImageOptions,
    like: Option<(&ClassLayout, [usize; 3])>,
    name: &str,
) -> Result<(Dataset, ClassLayout, SourceFile)> {
    let layout = like.map(|l| l.0);
    if !dir.is_dir() {
        return Err(Error::bad_input(dir, "not a directory"));
    }
    // (fine class name, coarse name, files)
    let mut groups: Vec<(String, String, Vec<PathBuf>)> = Vec::new();
    let mut unlabelled: Vec<PathBuf> = Vec::new();
    for entry in sorted_entries(dir)? {
        if !entry.is_dir() {
            continue;
        }
        let cname = file_name(&entry);
        if cname == "unlabelled" || cname == "unlabeled" {
            unlabelled.extend(pngs(&entry)?);
            continue;
        }
        let subdirs: Vec<PathBuf> = sorted_entries(&entry)?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        let direct = pngs(&entry)?;
        if subdirs.is_empty() {
            if direct.is_empty() {
                return Err(Error::bad_input(&entry, "class folder holds no PNG files"));
            }
            groups.push((cname.clone(), cname, direct));
        } else {
            if !direct.is_empty() {
                return Err(Error::bad_input(
                    &entry,
                    "class folder mixes PNG files and sub-class folders",
                ));
            }
            for sub in subdirs {
                let files = pngs(&sub)?;
                if files.is_empty() {
                    return Err(Error::bad_input(
                        &sub,
                        "sub-class folder holds no PNG files",
                    ));
                }
                groups.push((format!("{cname}/{}", file_name(&sub)), cname.clone(), files));
            }
        }
    }
    let own_layout = {
        let mut coarse: Vec<String> = Vec::new();
        let mut f2c = Vec::new();
        for (_, c, _) in &groups {
            if coarse.last() != Some(c) {
                coarse.push(c.clone());
            }
            f2c.push((coarse.len() - 1) as u32);
        }
        let fine: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
        let nested = fine.len() != coarse.len();
        ClassLayout {
            fine,
            coarse,
            fine_to_coarse: f2c,
            nested,
        }
    };
    let layout = layout.cloned().unwrap_or(own_layout);
    let mut files: Vec<(PathBuf, u32)> = Vec::new();
    for (fine, _, list) in &groups {
        let id = layout.fine.iter().position(|f| f == fine).ok_or_else(|| {
            Error::bad_input(
                dir,
                format!("class '{fine}' does not exist in the training folder"),
            )
        })?;
        files.extend(list.iter().map(|p| (p.clone(), id as u32)));
    }
    files.extend(unlabelled.into_iter().map(|p| (p, UNKNOWN_LABEL)));
    if files.is_empty() {
        return Err(Error::bad_input(
            dir,
            "no PNG images found (expected one sub-folder per class)",
        ));
    }
    // Decode everything, hashing the folder listing as we go.
    let mut listing = Sha256::new();
    let mut decoded = Vec::with_capacity(files.len());
    for (p, _) in &files {
        let bytes = fs::read(p).map_err(|e| Error::io(p, e))?;
        let rel = p.strip_prefix(dir).unwrap_or(p);
        listing.update(rel.to_string_lossy().as_bytes());
        listing.update([0]);
        listing.update(sha256_hex(&bytes).as_bytes());
        listing.update([b'\n']);
        decoded.push(decode_png(p, &bytes)?);
    }
    let c = match like {
        Some((_, shape)) => shape[0],
        None if decoded.iter().any(|d| d.c == 3) => 3,
        None => 1,
    };
    let (h, w) = match (opts.size, like) {
        (Some(s), _) => s,
        (None, Some((_, shape))) => {
            if let Some(d) = decoded.iter().find(|d| (d.h, d.w) != (shape[1], shape[2])) {
                return Err(Error::bad_input(
                    &d.path,
                    format!(
                        "image is {}×{} but the training images are {}×{} (give a size to resize)",
                        d.h, d.w, shape[1], shape[2]
                    ),
                ));
            }
            (shape[1], shape[2])
        }
        (None, None) => {
            let first = &decoded[0];
            if let Some(d) = decoded.iter().find(|d| (d.h, d.w) != (first.h, first.w)) {
                return Err(Error::bad_input(
                    &d.path,
                    format!(
                        "image is {}×{} but {} is {}×{} (give a size to resize)",
                        d.h,
                        d.w,
                        first.path.display(),
                        first.h,
                        first.w
                    ),
                ));
            }
            (first.h, first.w)
        }
    };
    if h == 0 || w == 0 {
        return Err(Error::bad_input(dir, "images have zero size"));
    }
    let dim = c * h * w;
    let mut x = Vec::with_capacity(files.len() * dim);
    for d in &decoded {
        x.extend(to_chw(d, h, w, c));
    }
    let labels: Vec<u32> = files.iter().map(|f| f.1).collect();
    let coarse = layout.nested.then(|| CoarseLabels {
        fine_to_coarse: layout.fine_to_coarse.clone(),
        names: layout.coarse.clone(),
    });
    let ds = Dataset {
        name: name.to_string(),
        n: labels.len(),
        x,
        dim,
        image_shape: Some([c, h, w]),
        labels: Some(labels),
        num_classes: layout.fine.len(),
        class_names: layout.fine.clone(),
        coarse,
    };
    let src = SourceFile {
        path: dir.to_path_buf(),
        sha256: hex(&listing.finalize()),
    };
    Ok((ds, layout, src))
}
