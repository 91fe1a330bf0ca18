//! `report` and `sweep`: groups and mean ± sd from hand-written run
//! directories; a real 3-seed sweep of a tiny configuration reported
//! unsharded and as two shards gives the same table; bad flags exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sparselabel::train::report::{self, RunRecord};

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fake_run(root: &Path, name: &str, config: Value, summary: Option<Value>, epochs_done: usize) {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config.json"), config.to_string()).unwrap();
    if let Some(s) = summary {
        std::fs::write(d.join("summary.json"), s.to_string()).unwrap();
    }
    let lines: String = (1..=epochs_done)
        .map(|e| format!("{{\"epoch\":{e}}}\n"))
        .collect();
    std::fs::write(d.join("metrics.jsonl"), lines).unwrap();
}

#[test]
fn groups_by_configuration_and_averages_finished_runs_only() {
    let root = dir("fake");
    let cfg = |seed: u64, epochs: u64| json!({"preset": "kingma-m1-mnist100", "model": "m1", "epochs": epochs, "seed": seed, "label_seed": seed, "threads": 2});
    let sum = |acc: f64| json!({"test_accuracy": acc, "test_nmi": 0.5, "wall_seconds": 60.0, "test_confusion": [[1]]});
    fake_run(&root, "a1", cfg(1, 30), Some(sum(0.90)), 30);
    fake_run(&root, "a2", cfg(2, 30), Some(sum(0.92)), 30);
    fake_run(&root, "a3", cfg(3, 30), Some(sum(0.94)), 30);
    fake_run(&root, "a4", cfg(4, 30), None, 7);
    fake_run(&root, "b1", cfg(1, 5), Some(sum(0.50)), 5);

    let runs: Vec<RunRecord> = report::find_runs(std::slice::from_ref(&root))
        .unwrap()
        .iter()
        .map(|d| RunRecord::load(d).unwrap())
        .collect();
    assert_eq!(runs.len(), 5);
    let r = report::build(&runs);
    assert_eq!(r.groups.len(), 2);
    // Same preset, different epochs: the names say which is which.
    let g30 = r
        .groups
        .iter()
        .find(|g| g.name.contains("epochs=30"))
        .unwrap();
    let g5 = r
        .groups
        .iter()
        .find(|g| g.name.contains("epochs=5"))
        .unwrap();
    assert_eq!(g30.runs, vec!["a1", "a2", "a3"]);
    let (name, acc) = &g30.metrics[0];
    assert_eq!(name, "test_accuracy");
    assert!((acc.mean - 0.92).abs() < 1e-12);
    assert!((acc.sd - 0.02).abs() < 1e-12, "sample sd {}", acc.sd);
    assert_eq!(g5.metrics[0].1.values, vec![0.5]);
    assert_eq!(g30.paper.as_deref().map(|p| !p.is_empty()), Some(true));
    // The unfinished run is listed with its progress, not averaged.
    assert_eq!(r.unfinished.len(), 1);
    assert_eq!(r.unfinished[0].run, "a4");
    assert_eq!(r.unfinished[0].epochs_done, 7);
    let md = r.markdown();
    assert!(md.contains("92.00 ± 2.00 %"), "{md}");
    assert!(md.contains("a4") && md.contains("7 of 30 epochs"), "{md}");
    assert!(!md.contains("test_confusion") && !md.contains("confusion |"));
    let _ = std::fs::remove_dir_all(&root);
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sparselabel"));
    c.env(
        "SPARSELABEL_DATA",
        concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
    );
    c
}

/// A sweep's report.json with the wall times (the one non-deterministic
/// column) removed.
fn report_without_wall(dir: &Path) -> Value {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    for g in v["groups"].as_array_mut().unwrap() {
        g.as_object_mut().unwrap().remove("wall_seconds");
    }
    v
}

const TINY: &[&str] = &[
    "--",
    "--epochs",
    "1",
    "--train-limit",
    "400",
    "--steps-per-epoch",
    "2",
    "--labels",
    "3",
    "--threads",
    "1",
];

#[test]
fn sharded_sweep_reports_the_same_table_as_one_sweep() {
    let whole = dir("whole");
    let out = bin()
        .args([
            "sweep",
            "--preset",
            "quickstart",
            "--seeds",
            "1-3",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(&whole)
        .args(TINY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("| quickstart | 3 | 1 |"), "{table}");

    let sharded = dir("sharded");
    for shard in ["1/2", "2/2"] {
        let out = bin()
            .args([
                "sweep",
                "--preset",
                "quickstart",
                "--seeds",
                "1-3",
                "--jobs",
                "1",
            ])
            .args(["--shard", shard, "--out"])
            .arg(&sharded)
            .args(TINY)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = bin().arg("report").arg(&sharded).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = report_without_wall(&whole);
    let b = report_without_wall(&sharded);
    assert_eq!(a, b);
    assert_eq!(a["groups"][0]["metrics"]["test_accuracy"]["n"], 3);
    assert_eq!(
        a["groups"][0]["runs"],
        json!(["quickstart-s1-l1", "quickstart-s2-l2", "quickstart-s3-l3"])
    );

    // Re-running a finished sweep skips every run and reports again.
    let again = bin()
        .args(["sweep", "--preset", "quickstart", "--seeds", "1-3", "--out"])
        .arg(&whole)
        .args(TINY)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stderr)
            .matches("skipped")
            .count(),
        3
    );
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&sharded);
}

#[test]
fn bad_sweep_and_report_flags_exit_2() {
    let d = dir("bad");
    let cases: Vec<Vec<&str>> = vec![
        vec!["sweep", "--preset", "no-such-preset"],
        vec!["sweep", "--preset", "quickstart", "--seeds", "5-1"],
        vec!["sweep", "--preset", "quickstart", "--shard", "3/2"],
        vec!["sweep", "--preset", "quickstart", "--", "--seed", "4"],
        vec!["sweep", "--preset", "quickstart", "--", "--epochs", "zero"],
        vec!["report", "/nonexistent/runs"],
    ];
    for args in cases {
        let out = bin()
            .arg(args[0])
            .arg("--out")
            .arg(&d)
            .args(&args[1..])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error"), "{args:?}: {err}");
    }
    let empty = dir("empty");
    let out = bin().arg("report").arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run directory"));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&empty);
}
