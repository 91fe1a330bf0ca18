//! The train/eval commands end to end on a tiny configuration: a run
//! interrupted (as Ctrl-C does) and resumed ends bit-identical to an
//! uninterrupted one; `eval` recomputes the summary's test accuracy; bad
//! input and corrupted checkpoints exit with status 2 naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;

use sparselabel::train::checkpoint;
use sparselabel::train::{Outcome, TrainConfig, Trainer};

fn tiny() -> TrainConfig {
    TrainConfig {
        train_limit: Some(600),
        labels_per_class: Some(3),
        epochs: 3,
        batch_labelled: 10,
        batch_unlabelled: 20,
        // Labelled draws on every other step: the loss terms of the labelled
        // steps must still be averaged by name across a resume.
        labelled_every: 2,
        steps_per_epoch: Some(6),
        hidden: vec![32],
        z_dim: 4,
        ..TrainConfig::default()
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn params(path: &Path) -> Vec<(String, Vec<u32>)> {
    let ck = checkpoint::load(path).unwrap();
    ck.params
        .iter()
        .map(|(k, v)| (k.clone(), v.data().iter().map(|x| x.to_bits()).collect()))
        .collect()
}

#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    let straight = dir("straight");
    let mut t = Trainer::new(tiny(), &straight).unwrap();
    t.set_quiet(true);
    assert!(matches!(t.run().unwrap(), Outcome::Finished(_)));

    let broken = dir("broken");
    let mut t = Trainer::new(tiny(), &broken).unwrap();
    t.set_quiet(true);
    // Ctrl-C arrives mid-run: the flag is set before the run starts, so the
    // first step saves a checkpoint and stops; then twice more after resuming.
    t.interrupt_flag().store(true, Ordering::SeqCst);
    assert!(matches!(t.run().unwrap(), Outcome::Interrupted));
    drop(t);
    for _ in 0..2 {
        let mut r = Trainer::resume(&broken).unwrap();
        r.set_quiet(true);
        // Let a few steps run, then interrupt from another thread.
        let flag = r.interrupt_flag();
        let h = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(30));
            flag.store(true, Ordering::SeqCst);
        });
        let _ = r.run().unwrap();
        h.join().unwrap();
    }
    let mut r = Trainer::resume(&broken).unwrap();
    r.set_quiet(true);
    assert!(matches!(r.run().unwrap(), Outcome::Finished(_)));

    assert_eq!(
        params(&straight.join("checkpoint.safetensors")),
        params(&broken.join("checkpoint.safetensors"))
    );
    let summary = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(
        summary(&straight)["test_accuracy"],
        summary(&broken)["test_accuracy"]
    );
    let metrics = |d: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(d.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (a, b) = (metrics(&straight), metrics(&broken));
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        for term in [
            "loss",
            "labelled_bound",
            "cross_entropy",
            "unlabelled_bound",
        ] {
            assert!(
                x["losses"][term].as_f64().unwrap().is_finite(),
                "{term}: {x}"
            );
        }
        assert_eq!(x["losses"], y["losses"]);
        assert_eq!(x["validation_accuracy"], y["validation_accuracy"]);
    }
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&broken);
}

/// A tiny M2-sized run: 600 training images, 3 labels per class, small batches.
const TINY: [&str; 10] = [
    "--train-limit",
    "600",
    "--labels",
    "3",
    "--batch",
    "20",
    "--batch-labelled",
    "10",
    "--threads",
    "1",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparselabel"))
}

/// Runs `cmd`, which must succeed (its stderr is shown if not).
fn succeed(cmd: &mut Command) -> std::process::Output {
    let st = cmd.output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    st
}

/// `sparselabel train ARGS` on the [`TINY`] data into `out`, which must succeed.
fn train_tiny(args: &[&str], out: &Path) -> std::process::Output {
    succeed(
        bin()
            .arg("train")
            .args(args)
            .args(TINY)
            .arg("--out")
            .arg(out),
    )
}

#[test]
fn cli_train_then_eval_and_refuse_a_corrupted_checkpoint() {
    let out = dir("eval");
    let st = train_tiny(
        &["--model", "m2", "--epochs", "1", "--steps-per-epoch", "3"],
        &out,
    );
    let stdout = String::from_utf8_lossy(&st.stdout);
    assert!(stdout.contains("test accuracy"), "{stdout}");
    for f in [
        "figures/confusion.png",
        "figures/curves.png",
        "config.json",
        "manifest.json",
        "metrics.jsonl",
        "summary.json",
        "checkpoint.safetensors",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let ev = bin().args(["eval", "--run"]).arg(&out).output().unwrap();
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stderr)
    );
    let printed = String::from_utf8_lossy(&ev.stdout);
    let acc = format!("{:.4}", summary["test_accuracy"].as_f64().unwrap());
    assert!(
        printed.contains(&format!("test accuracy {acc}")),
        "{printed} vs {acc}"
    );

    // A truncated checkpoint is refused with exit status 2, naming the file.
    let ck = out.join("checkpoint.safetensors");
    let bytes = std::fs::read(&ck).unwrap();
    std::fs::write(&ck, &bytes[..bytes.len() / 3]).unwrap();
    let ev = bin().args(["eval", "--run"]).arg(&out).output().unwrap();
    assert_eq!(ev.status.code(), Some(2));
    let err = String::from_utf8_lossy(&ev.stderr);
    assert!(err.contains("checkpoint.safetensors"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn cli_bad_usage_exits_2() {
    let missing = bin()
        .args(["train", "--dataset", "npy:/nonexistent/x.npy"])
        .output()
        .unwrap();
    assert_eq!(
        missing.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/x.npy"));
    let preset = bin().args(["train", "--preset", "nope"]).output().unwrap();
    assert_eq!(preset.status.code(), Some(2));
    let threads = bin().args(["train", "--threads", "0"]).output().unwrap();
    assert_eq!(threads.status.code(), Some(2));
    let resume = bin()
        .args(["train", "--resume", "/nonexistent/run"])
        .output()
        .unwrap();
    assert_eq!(resume.status.code(), Some(2));
    let binarize = bin()
        .args(["train", "--binarize", "sometimes", "--epochs", "1"])
        .output()
        .unwrap();
    assert_eq!(binarize.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&binarize.stderr).contains("binarize 'sometimes'"));
    let cosine = bin()
        .args(["train", "--lr", "0.001", "--cosine-epochs", "5"])
        .output()
        .unwrap();
    assert_eq!(cosine.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cosine.stderr).contains("--cosine-epochs"));
}

/// `--epochs` leaves a preset's cosine horizon alone; `--cosine-epochs` moves it, and
/// the first epoch's learning rate follows (in config.json and metrics.jsonl).
#[test]
fn cosine_epochs_sets_the_schedule_horizon() {
    let out = dir("cosine");
    train_tiny(
        &[
            "--preset",
            "kingma-m2-mnist100",
            "--cosine-epochs",
            "4",
            "--epochs",
            "2",
            "--steps-per-epoch",
            "2",
        ],
        &out,
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["epochs"], 2);
    assert_eq!(config["schedule"]["kind"], "cosine");
    assert_eq!(config["schedule"]["total"], 4);
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let lrs: Vec<f64> = metrics
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["lr"]
                .as_f64()
                .unwrap()
        })
        .collect();
    // Epoch e (1-based) trains at the rate of schedule epoch e − 1: 1e-3, then
    // 1e-5 + ½(1e-3 − 1e-5)(1 + cos(π/4)).
    let second = 1e-5 + 0.5 * (1e-3 - 1e-5) * (1.0 + (std::f64::consts::PI / 4.0).cos());
    assert!(
        (lrs[0] - 1e-3).abs() < 1e-9 && (lrs[1] - second).abs() < 1e-8,
        "{lrs:?}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn sigint_saves_a_checkpoint_and_resume_finishes() {
    use std::io::{BufRead, BufReader};
    let out = dir("sigint");
    let mut child = bin()
        .args([
            "train",
            "--model",
            "m2",
            "--epochs",
            "400",
            "--steps-per-epoch",
            "3",
        ])
        .args(TINY)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // Wait for the first finished epoch, then press Ctrl-C.
    loop {
        let line = lines.next().expect("train ended early").unwrap();
        if line.starts_with("epoch") {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "a Ctrl-C exits with 130 after saving"
    );
    let ck = checkpoint::load(&out.join("checkpoint.safetensors")).unwrap();
    let epoch = ck.counters["epoch"];
    assert!((1..400).contains(&epoch), "checkpoint at epoch {epoch}");
    // Resume, shortened: the config says 400 epochs; finish two epochs on.
    let resumed = succeed(
        bin()
            .args(["train", "--epochs", &(epoch + 2).to_string(), "--resume"])
            .arg(&out),
    );
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("test accuracy"));
    let _ = std::fs::remove_dir_all(&out);
}

/// A finished 1-epoch run resumed with `--epochs 2 --threads 2` ends with the
/// weights of a 2-epoch run on 1 thread, and its config.json says 2 epochs;
/// resuming with fewer epochs than it has done is refused with status 2.
#[test]
fn resume_extends_a_finished_run_with_more_epochs_and_threads() {
    let args = ["--model", "m2", "--steps-per-epoch", "3", "--epochs"];
    let straight = dir("extend-straight");
    train_tiny(&[&args[..], &["2"]].concat(), &straight);
    let extended = dir("extend-resumed");
    train_tiny(&[&args[..], &["1"]].concat(), &extended);
    succeed(
        bin()
            .args(["train", "--epochs", "2", "--threads", "2", "--resume"])
            .arg(&extended),
    );
    let ck = |d: &Path| params(&d.join("checkpoint.safetensors"));
    assert_eq!(ck(&straight), ck(&extended));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(extended.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["epochs"], 2);
    let shorter = bin()
        .args(["train", "--epochs", "1", "--resume"])
        .arg(&extended)
        .output()
        .unwrap();
    assert_eq!(shorter.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&shorter.stderr).contains("--epochs 1"));
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&extended);
}
