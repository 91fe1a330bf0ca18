//! Dataset specs (`mnist`, `idx:DIR`, `npy:X.npy,y.npy`, `csv:FILE`,
//! `images:DIR`) → [`Splits`].

use std::path::{Path, PathBuf};

use super::csv::{read_csv, LabelColumn};
use super::images::{read_folder, ImageOptions};
use super::npy::read_npy_with_source;
use super::{embedded, idx, split, Dataset, SourceFile, Splits};
use crate::{Error, Result};

/// Loads the dataset a spec names (see the [module doc](super)).
pub fn load(spec: &str) -> Result<Splits> {
    match spec {
        "mnist" | "fashion-mnist" => return embedded::load(spec),
        _ => {}
    }
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        Error::Usage(format!(
            "unknown dataset '{spec}': use mnist, fashion-mnist, idx:DIR, npy:X.npy[,y.npy], csv:FILE or images:DIR"
        ))
    })?;
    if rest.is_empty() {
        return Err(Error::Usage(format!("dataset spec '{spec}' names no path")));
    }
    match kind {
        "idx" => load_idx(Path::new(rest)),
        "npy" => load_npy(rest),
        "csv" => load_csv(rest),
        "images" => load_images(rest),
        _ => Err(Error::Usage(format!(
            "unknown dataset kind '{kind}' in '{spec}': use idx, npy, csv or images"
        ))),
    }
}

/// Splits `"PATH,key=value,..."` into the path and its options.
fn options(rest: &str) -> (&str, Vec<(&str, &str)>) {
    let mut parts = rest.split(',');
    let path = parts.next().unwrap_or("");
    let opts = parts
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    (path, opts)
}

fn load_idx(dir: &Path) -> Result<Splits> {
    let name = dir_name(dir);
    let (full, test, sources) = idx::load_dir(dir, None, None, &name)?;
    let (train, validation) = split::tail_validation(&full, &name);
    Ok(Splits {
        train,
        validation,
        test,
        sources,
    })
}

fn dir_name(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into())
}

fn single_table(ds: Dataset, sources: Vec<SourceFile>) -> Splits {
    let name = ds.name.clone();
    let idx = split::seeded_split(ds.n, ds.labels.as_deref(), 2);
    let (train, validation, test) = split::apply(&ds, &idx, &name);
    Splits {
        train,
        validation,
        test,
        sources,
    }
}

fn load_npy(rest: &str) -> Result<Splits> {
    let (xs, ys) = match rest.split_once(',') {
        Some((x, y)) => (x, Some(y)),
        None => (rest, None),
    };
    let xp = PathBuf::from(xs);
    let (arr, xsrc) = read_npy_with_source(&xp)?;
    if arr.shape.len() != 2 || arr.shape[0] == 0 || arr.shape[1] == 0 {
        return Err(Error::bad_input(
            &xp,
            format!(
                "expected a non-empty 2-D array (examples × features), found shape {:?}",
                arr.shape
            ),
        ));
    }
    let (n, dim) = (arr.shape[0], arr.shape[1]);
    let x = arr.to_f32(&xp)?;
    let mut sources = vec![xsrc];
    let (labels, num_classes) = match ys {
        Some(ys) => {
            let yp = PathBuf::from(ys);
            let (labels, ysrc) = read_labels(&yp, n)?;
            sources.push(ysrc);
            let k = labels.iter().max().map_or(0, |&m| m as usize + 1);
            (Some(labels), k)
        }
        None => (None, 0),
    };
    let ds = Dataset {
        name: dir_name(&xp),
        x,
        n,
        dim,
        image_shape: None,
        labels,
        num_classes,
        class_names: (0..num_classes).map(|c| c.to_string()).collect(),
        coarse: None,
    };
    Ok(single_table(ds, sources))
}

/// Reads labels for `n` examples from a `.npy` (1-D, or `n × 1`) or a
/// one-column CSV file, with the file's digest; a wrong count or a bad value
/// is an error naming the file.
pub fn read_labels(path: &Path, n: usize) -> Result<(Vec<u32>, SourceFile)> {
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let (labels, src) = if is_npy {
        let (arr, src) = read_npy_with_source(path)?;
        let ok_shape = arr.shape.len() == 1 || (arr.shape.len() == 2 && arr.shape[1] == 1);
        if !ok_shape {
            return Err(Error::bad_input(
                path,
                format!("expected a 1-D label array, found shape {:?}", arr.shape),
            ));
        }
        (arr.to_labels(path)?, src)
    } else {
        let (t, src) = read_csv(path, &LabelColumn::None)?;
        if t.dim != 1 {
            return Err(Error::bad_input(
                path,
                format!("expected one label column, found {}", t.dim),
            ));
        }
        let labels =
            t.x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    if v >= 0.0 && v.fract() == 0.0 && v < (1u32 << 24) as f32 {
                        Ok(v as u32)
                    } else {
                        Err(Error::bad_input(
                            path,
                            format!("label {i} is {v}, not a non-negative integer"),
                        ))
                    }
                })
                .collect::<Result<Vec<u32>>>()?;
        (labels, src)
    };
    if labels.len() != n {
        return Err(Error::bad_input(
            path,
            format!("{} labels for {n} examples", labels.len()),
        ));
    }
    if let Some(i) = labels.iter().position(|&l| l >= 1 << 24) {
        return Err(Error::bad_input(
            path,
            format!("label {i} ({}) is out of range (< 2^24)", labels[i]),
        ));
    }
    Ok((labels, src))
}

fn load_csv(rest: &str) -> Result<Splits> {
    let (path, opts) = options(rest);
    let mut label = LabelColumn::Auto;
    for (k, v) in opts {
        match k {
            "label" => label = LabelColumn::parse(v),
            _ => {
                return Err(Error::Usage(format!(
                    "unknown csv option '{k}' (use label=COLUMN)"
                )))
            }
        }
    }
    let p = PathBuf::from(path);
    let (t, src) = read_csv(&p, &label)?;
    let ds = Dataset {
        name: dir_name(&p),
        x: t.x,
        n: t.n,
        dim: t.dim,
        image_shape: None,
        num_classes: t.class_names.len(),
        labels: t.labels,
        class_names: t.class_names,
        coarse: None,
    };
    Ok(single_table(ds, vec![src]))
}

fn parse_size(v: &str) -> Result<(usize, usize)> {
    let bad = || Error::Usage(format!("image size '{v}' must be HxW, e.g. 28x28"));
    let (h, w) = v.split_once(['x', 'X']).ok_or_else(bad)?;
    let (h, w): (usize, usize) = (h.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    if h == 0 || w == 0 || h > 4096 || w > 4096 {
        return Err(bad());
    }
    Ok((h, w))
}

fn load_images(rest: &str) -> Result<Splits> {
    let (path, opts) = options(rest);
    let mut io = ImageOptions::default();
    for (k, v) in opts {
        match k {
            "size" => io.size = Some(parse_size(v)?),
            _ => {
                return Err(Error::Usage(format!(
                    "unknown images option '{k}' (use size=HxW)"
                )))
            }
        }
    }
    let dir = PathBuf::from(path);
    let name = dir_name(&dir);
    let train_dir = dir.join("train");
    if !train_dir.is_dir() {
        let (ds, _, src) = read_folder(&dir, &io, None, &name)?;
        return Ok(single_table(ds, vec![src]));
    }
    // DIR/train, optional DIR/validation (or val), optional DIR/test.
    let (full, layout, src) = read_folder(&train_dir, &io, None, &format!("{name}/train"))?;
    let shape = full.image_shape.unwrap_or([1, 1, full.dim]);
    let mut sources = vec![src];
    let mut part = |sub: &[&str], split: &str| -> Result<Option<Dataset>> {
        for s in sub {
            let d = dir.join(s);
            if d.is_dir() {
                let (ds, _, src) =
                    read_folder(&d, &io, Some((&layout, shape)), &format!("{name}/{split}"))?;
                sources.push(src);
                return Ok(Some(ds));
            }
        }
        Ok(None)
    };
    let validation = part(&["validation", "val"], "validation")?;
    let test = part(&["test"], "test")?;
    let (train, validation, test) = match (validation, test) {
        (Some(v), Some(t)) => (full, v, t),
        (v, t) => {
            // Carve what is missing from train by the seeded rule.
            let holdouts = usize::from(v.is_none()) + usize::from(t.is_none());
            let idx = split::seeded_split(full.n, full.labels.as_deref(), holdouts);
            let (tr, va, te) = split::apply(&full, &idx, &name);
            match (v, t) {
                (Some(v), None) => {
                    let mut te = va;
                    te.name = format!("{name}/test");
                    (tr, v, te)
                }
                (None, Some(t)) => (tr, va, t),
                _ => (tr, va, te),
            }
        }
    };
    Ok(Splits {
        train,
        validation,
        test,
        sources,
    })
}
