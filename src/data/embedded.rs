//! The embedded datasets (`data/mnist`, `data/fashion-mnist`): where they
//! are, and their SHA-256 digests, verified on every load.

use std::path::PathBuf;

use super::{idx, split, Splits};
use crate::{Error, Result};

/// Environment variable overriding the location of the `data/` folder.
pub const DATA_ENV: &str = "SPARSELABEL_DATA";

/// Fashion-MNIST class names, in label order.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// MNIST class names, in label order.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The SHA-256 of every embedded file, as listed in `data/README.md`.
pub const DIGESTS: [(&str, &str); 8] = [
    (
        "mnist/train-images-idx3-ubyte.gz",
        "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    ),
    (
        "mnist/train-labels-idx1-ubyte.gz",
        "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    ),
    (
        "mnist/t10k-images-idx3-ubyte.gz",
        "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    ),
    (
        "mnist/t10k-labels-idx1-ubyte.gz",
        "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
    ),
    (
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    ),
    (
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    ),
    (
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    ),
    (
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    ),
];

/// The `data/` folder: `$SPARSELABEL_DATA` if set, else the crate's `data/`
/// at compile time (so the binary finds it when run from anywhere).
pub fn embedded_dir() -> PathBuf {
    match std::env::var_os(DATA_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"),
    }
}

/// Loads `mnist` or `fashion-mnist` from [`embedded_dir`], checking every
/// file's digest; train 60k → first 50k train, last 10k validation.
pub fn load(name: &str) -> Result<Splits> {
    let classes: &[&str] = match name {
        "mnist" => &MNIST_CLASSES,
        "fashion-mnist" => &FASHION_CLASSES,
        _ => return Err(Error::Usage(format!("unknown embedded dataset '{name}'"))),
    };
    let root = embedded_dir();
    let dir = root.join(name);
    if !dir.is_dir() {
        return Err(Error::bad_input(
            &dir,
            format!(
                "embedded dataset folder not found (set {DATA_ENV} to the folder holding {name}/)"
            ),
        ));
    }
    let (full, test, sources) = idx::load_dir(&dir, Some(10), Some(classes), name)?;
    for src in &sources {
        let rel = src.path.strip_prefix(&root).unwrap_or(&src.path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        let expected = DIGESTS.iter().find(|(p, _)| *p == rel).map(|(_, d)| *d);
        match expected {
            Some(d) if d == src.sha256 => {}
            Some(d) => {
                return Err(Error::bad_input(
                    &src.path,
                    format!("SHA-256 mismatch: expected {d}, found {}", src.sha256),
                ))
            }
            None => return Err(Error::bad_input(
                &src.path,
                "not one of the embedded files listed in data/README.md (expected the .gz files)",
            )),
        }
    }
    if full.n != 60_000 || test.n != 10_000 {
        return Err(Error::bad_input(
            &dir,
            format!(
                "expected 60000 training and 10000 test examples, found {} and {}",
                full.n, test.n
            ),
        ));
    }
    let (train, validation) = split::tail_validation(&full, name);
    Ok(Splits {
        train,
        validation,
        test,
        sources,
    })
}
