//! Every kind of malformed input gives exit status 2 and a one-line error
//! naming the file and the problem, through the built binary (never a panic).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sparselabel::data::idx::write_idx;
use sparselabel::data::npy::write_npy;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sl-bad-input-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary; asserts exit status 2 and that stderr is one line
/// mentioning `needle` (the file) and `problem`.
fn expect_bad(args: &[&str], env: Option<(&str, &Path)>, needle: &str, problem: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sparselabel"));
    cmd.args(args);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: stderr {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "{err} should name {needle}");
    assert!(err.contains(problem), "{err} should say {problem}");
    assert!(!err.contains("panicked"), "{err}");
}

fn info(spec: &str, needle: &str, problem: &str) {
    expect_bad(&["data", "info", spec], None, needle, problem);
}

/// A valid 4-file IDX folder of `n` 2×2 images.
fn idx_dir(name: &str, n: usize) -> PathBuf {
    let d = tmp(name);
    let imgs = vec![7u8; n * 4];
    let labs: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
    write_idx(&d.join("train-images-idx3-ubyte"), &[n, 2, 2], &imgs).unwrap();
    write_idx(&d.join("train-labels-idx1-ubyte"), &[n], &labs).unwrap();
    write_idx(&d.join("t10k-images-idx3-ubyte"), &[n, 2, 2], &imgs).unwrap();
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[n], &labs).unwrap();
    d
}

#[test]
fn idx_wrong_magic() {
    let d = idx_dir("magic", 6);
    let p = d.join("train-images-idx3-ubyte");
    let mut b = fs::read(&p).unwrap();
    b[3] = 1; // now declares one dimension: magic 2049 instead of 2051
    fs::write(&p, &b).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "train-images-idx3-ubyte",
        "magic",
    );
    b[0] = 0x12;
    fs::write(&p, &b).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "train-images-idx3-ubyte",
        "not an IDX file",
    );
}

#[test]
fn idx_truncated_raw_and_gz() {
    let d = idx_dir("trunc", 6);
    let p = d.join("t10k-images-idx3-ubyte");
    let b = fs::read(&p).unwrap();
    fs::write(&p, &b[..b.len() - 3]).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "t10k-images-idx3-ubyte",
        "truncated",
    );
    // A truncated gzip stream.
    fs::remove_file(&p).unwrap();
    let gz = d.join("t10k-images-idx3-ubyte.gz");
    write_idx(&gz, &[6, 2, 2], &[1u8; 24]).unwrap();
    let b = fs::read(&gz).unwrap();
    fs::write(&gz, &b[..b.len() / 2]).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "t10k-images-idx3-ubyte.gz",
        "truncated",
    );
}

#[test]
fn idx_mismatched_counts_and_label_range() {
    let d = idx_dir("counts", 6);
    write_idx(&d.join("train-labels-idx1-ubyte"), &[5], &[0u8; 5]).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "train-labels-idx1-ubyte",
        "5 labels for 6 images",
    );
    let d = idx_dir("range", 6);
    // Training labels span 0..2; a test label 9 is out of range.
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[6], &[0, 1, 9, 0, 1, 2]).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "t10k-labels-idx1-ubyte",
        "out of range",
    );
}

#[test]
fn idx_header_claiming_huge_sizes() {
    let d = idx_dir("huge", 6);
    let p = d.join("train-images-idx3-ubyte");
    let mut b = vec![0u8, 0, 8, 3];
    for dim in [1_000_000u32, 1_000_000, 1] {
        b.extend_from_slice(&dim.to_be_bytes());
    }
    b.extend_from_slice(&[0u8; 100]);
    fs::write(&p, &b).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "train-images-idx3-ubyte",
        "limit",
    );
}

#[test]
fn idx_missing_file_names_the_folder() {
    let d = idx_dir("missing", 6);
    fs::remove_file(d.join("t10k-labels-idx1-ubyte")).unwrap();
    info(
        &format!("idx:{}", d.display()),
        "missing t10k-labels-idx1-ubyte",
        "t10k-labels",
    );
}

#[test]
fn npy_problems() {
    let d = tmp("npy");
    let x = d.join("x.npy");
    // NaN and Inf in features.
    write_npy(&x, &[2, 2], &[1.0f32, f32::NAN, 0.0, 1.0]).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "NaN");
    write_npy(&x, &[2, 2], &[1.0f64, 0.0, f64::INFINITY, 1.0]).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "infinite");
    // Unsupported dtype.
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{'descr': '<c16', 'fortran_order': False, 'shape': (2, 2), }\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(&[0u8; 64]);
    fs::write(&x, &b).unwrap();
    info(
        &format!("npy:{}", x.display()),
        "x.npy",
        "unsupported npy dtype",
    );
    // A header claiming 10^12 elements.
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    fs::write(&x, &b).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "limit");
    // Truncated data, trailing bytes, wrong rank, bad magic.
    write_npy(&x, &[3, 2], &[0f32; 6]).unwrap();
    let full = fs::read(&x).unwrap();
    fs::write(&x, &full[..full.len() - 1]).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "truncated");
    let mut extra = full.clone();
    extra.push(0);
    fs::write(&x, &extra).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "unexpected bytes");
    write_npy(&x, &[6], &[0f32; 6]).unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "2-D");
    fs::write(&x, b"hello world, not numpy").unwrap();
    info(&format!("npy:{}", x.display()), "x.npy", "not a .npy file");
    // Labels: wrong count, negative, non-integral.
    write_npy(&x, &[3, 2], &[0f32; 6]).unwrap();
    let y = d.join("y.npy");
    write_npy(&y, &[4], &[0i64, 1, 2, 0]).unwrap();
    info(
        &format!("npy:{},{}", x.display(), y.display()),
        "y.npy",
        "4 labels for 3 examples",
    );
    write_npy(&y, &[3], &[0i64, -1, 2]).unwrap();
    info(
        &format!("npy:{},{}", x.display(), y.display()),
        "y.npy",
        "-1",
    );
    write_npy(&y, &[3], &[0.5f32, 1.0, 2.0]).unwrap();
    info(
        &format!("npy:{},{}", x.display(), y.display()),
        "y.npy",
        "not a non-negative integer",
    );
}

#[test]
fn csv_problems() {
    let d = tmp("csv");
    let p = d.join("t.csv");
    fs::write(&p, "1,2,3\n4,5\n").unwrap();
    info(
        &format!("csv:{}", p.display()),
        "t.csv",
        "line 2 has 2 fields, expected 3",
    );
    fs::write(&p, "1,2\nnan,3\n").unwrap();
    info(&format!("csv:{}", p.display()), "t.csv", "line 2, column 1");
    fs::write(&p, "1,inf\n").unwrap();
    info(&format!("csv:{}", p.display()), "t.csv", "not finite");
    fs::write(&p, "1,abc,2\n3,4,5\n").unwrap();
    info(
        &format!("csv:{}", p.display()),
        "t.csv",
        "'abc' is not a number",
    );
    fs::write(&p, "").unwrap();
    info(&format!("csv:{}", p.display()), "t.csv", "no data rows");
    fs::write(&p, "a,b\n1,2\n").unwrap();
    info(
        &format!("csv:{},label=zz", p.display()),
        "t.csv",
        "no column named 'zz'",
    );
    fs::write(&p, [0xffu8, 0xfe, b',', b'1', b'\n']).unwrap();
    info(&format!("csv:{}", p.display()), "t.csv", "UTF-8");
}

#[test]
fn image_problems() {
    let d = tmp("img");
    fs::create_dir_all(d.join("a")).unwrap();
    fs::write(
        d.join("a").join("broken.png"),
        b"\x89PNG\r\n\x1a\nnot really",
    )
    .unwrap();
    info(
        &format!("images:{}", d.display()),
        "broken.png",
        "cannot decode PNG",
    );
    let e = tmp("img-empty");
    fs::create_dir_all(e.join("a")).unwrap();
    info(
        &format!("images:{}", e.display()),
        "a",
        "holds no PNG files",
    );
}

#[test]
fn missing_files_and_dirs() {
    info(
        "npy:/definitely/not/here.npy",
        "/definitely/not/here.npy",
        "No such file",
    );
    info(
        "idx:/definitely/not/here",
        "/definitely/not/here",
        "not a directory",
    );
    info(
        "images:/definitely/not/here",
        "/definitely/not/here",
        "not a directory",
    );
}

#[test]
fn embedded_digest_mismatch_via_env_override() {
    let root = tmp("embedded");
    let src = sparselabel::data::embedded_dir().join("mnist");
    let dst = root.join("mnist");
    fs::create_dir_all(&dst).unwrap();
    // Same content, different gzip bytes: parses, but the digest is wrong.
    for f in [
        "train-images-idx3-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::os::unix::fs::symlink(src.join(f), dst.join(f)).unwrap();
    }
    let bytes = fs::read(src.join("train-labels-idx1-ubyte.gz")).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut raw).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &raw).unwrap();
    fs::write(
        dst.join("train-labels-idx1-ubyte.gz"),
        enc.finish().unwrap(),
    )
    .unwrap();
    expect_bad(
        &["data", "info", "mnist"],
        Some(("SPARSELABEL_DATA", &root)),
        "train-labels-idx1-ubyte.gz",
        "SHA-256 mismatch",
    );
    // And a data folder that does not exist.
    expect_bad(
        &["data", "info", "fashion-mnist"],
        Some(("SPARSELABEL_DATA", &root)),
        "fashion-mnist",
        "SPARSELABEL_DATA",
    );
}

#[test]
fn cluster_bad_inputs() {
    let d = tmp("cluster");
    let x = d.join("x.npy");
    write_npy(&x, &[4, 2], &[0f32, 0.0, 1.0, 1.0, 5.0, 5.0, 6.0, 6.0]).unwrap();
    let xs = x.to_str().unwrap();
    let y = d.join("y.npy");
    write_npy(&y, &[3], &[0i64, 1, 1]).unwrap();
    expect_bad(
        &[
            "cluster",
            "--input",
            xs,
            "--k",
            "2",
            "--truth",
            y.to_str().unwrap(),
        ],
        None,
        "y.npy",
        "3 labels for 4 examples",
    );
    expect_bad(
        &["cluster", "--input", xs, "--k", "9"],
        None,
        "--k 9",
        "number of points",
    );
    expect_bad(
        &["cluster", "--input", "/no/such.npy", "--k", "2"],
        None,
        "/no/such.npy",
        "No such file",
    );
    let c = d.join("x.csv");
    fs::write(&c, "1,2\n3\n").unwrap();
    expect_bad(
        &["cluster", "--input", c.to_str().unwrap(), "--k", "1"],
        None,
        "x.csv",
        "line 2",
    );
    expect_bad(
        &["cluster", "--input", xs, "--k", "2", "--threads", "0"],
        None,
        "--threads",
        "at least 1",
    );
    // Bad usage from clap also exits 2.
    let out = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
        .args(["cluster", "--k", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
