//! `sparselabel cluster` and `sparselabel data info` through the binary.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use sparselabel::data::npy::{read_npy, write_npy, NpyData};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sl-cluster-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "one JSON object: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

/// Four tight blobs on a square, 50 points each, labels 0..3.
fn blobs() -> (Vec<f32>, Vec<i64>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..200usize {
        let c = i % 4;
        let jitter = ((i * 7919) % 101) as f32 / 101.0 - 0.5;
        x.extend([
            (c % 2) as f32 * 10.0 + jitter,
            (c / 2) as f32 * 10.0 - jitter * 0.5,
        ]);
        y.push(c as i64);
    }
    (x, y)
}

#[test]
fn gmm_and_kmeans_json_with_truth_and_out() {
    let d = tmp("json");
    let (x, y) = blobs();
    let (xp, yp, op) = (d.join("x.npy"), d.join("y.npy"), d.join("labels.npy"));
    write_npy(&xp, &[200, 2], &x).unwrap();
    write_npy(&yp, &[200], &y).unwrap();
    let (xs, ys, os) = (
        xp.to_str().unwrap(),
        yp.to_str().unwrap(),
        op.to_str().unwrap(),
    );
    let v = run(&[
        "cluster",
        "--input",
        xs,
        "--k",
        "4",
        "--truth",
        ys,
        "--out",
        os,
        "--threads",
        "2",
    ]);
    assert_eq!(v["algo"], "gmm");
    assert!(v["log_likelihood"].as_f64().unwrap().is_finite());
    assert!(v["converged"].as_bool().unwrap());
    assert!(v["iterations"].as_u64().unwrap() >= 1);
    for key in ["cluster_accuracy", "purity", "nmi", "ari"] {
        assert_eq!(v[key].as_f64().unwrap(), 1.0, "{key}");
    }
    let labels = read_npy(&op).unwrap();
    assert_eq!(labels.shape, vec![200]);
    assert!(matches!(labels.data, NpyData::I64(ref l) if l.iter().all(|&c| (0..4).contains(&c))));
    let v = run(&[
        "cluster", "--input", xs, "--k", "4", "--algo", "kmeans", "--n-init", "3", "--truth", ys,
    ]);
    assert_eq!(v["algo"], "kmeans");
    assert!(v["inertia"].as_f64().unwrap() > 0.0);
    assert_eq!(v["cluster_accuracy"].as_f64().unwrap(), 1.0);
    let v = run(&[
        "cluster",
        "--input",
        xs,
        "--k",
        "4",
        "--covariance",
        "diag",
        "--init",
        "random",
    ]);
    assert!(v["log_likelihood"].as_f64().is_some());
}

#[test]
fn same_result_with_one_and_two_threads() {
    let d = tmp("threads");
    let (x, _) = blobs();
    let xp = d.join("x.npy");
    write_npy(&xp, &[200, 2], &x).unwrap();
    let xs = xp.to_str().unwrap();
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v.as_object_mut().unwrap().remove("threads");
        v
    };
    let a = strip(run(&[
        "cluster",
        "--input",
        xs,
        "--k",
        "3",
        "--threads",
        "1",
    ]));
    let b = strip(run(&[
        "cluster",
        "--input",
        xs,
        "--k",
        "3",
        "--threads",
        "2",
    ]));
    assert_eq!(a, b);
}

#[test]
fn csv_input_with_label_column_as_truth() {
    let d = tmp("csv");
    let (x, y) = blobs();
    let mut text = String::from("a,b,label\n");
    for i in 0..200 {
        text += &format!("{},{},{}\n", x[2 * i], x[2 * i + 1], y[i]);
    }
    let p = d.join("t.csv");
    fs::write(&p, text).unwrap();
    let v = run(&[
        "cluster",
        "--input",
        p.to_str().unwrap(),
        "--k",
        "4",
        "--algo",
        "kmeans",
    ]);
    assert_eq!(v["dim"], 2);
    assert_eq!(v["cluster_accuracy"].as_f64().unwrap(), 1.0);
}

#[test]
fn data_info_json_counts() {
    let d = tmp("info");
    let (x, y) = blobs();
    write_npy(&d.join("x.npy"), &[200, 2], &x).unwrap();
    write_npy(&d.join("y.npy"), &[200], &y).unwrap();
    let spec = format!(
        "npy:{},{}",
        d.join("x.npy").display(),
        d.join("y.npy").display()
    );
    let v = run(&["data", "info", &spec, "--json"]);
    assert_eq!(v["num_classes"], 4);
    let n: u64 = ["train", "validation", "test"]
        .iter()
        .map(|s| v["splits"][s]["n"].as_u64().unwrap())
        .sum();
    assert_eq!(n, 200);
    assert_eq!(v["splits"]["test"]["n"], 20);
    assert_eq!(v["sources"].as_array().unwrap().len(), 2);
    let out = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
        .args(["data", "info", &spec])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("total") && table.contains("validation"),
        "{table}"
    );
}
