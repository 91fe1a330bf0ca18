//! Willetts et al.'s models: GM-DGM and SSVAE (M2 with extra classes and
//! the split prior). Their whole losses against directional derivatives at
//! the presets' widths, the split prior's masses, a short GM-DGM run on real
//! MNIST in the semi-unsupervised regime, a zero-label run through the CLI,
//! and bad flags.

use std::path::PathBuf;
use std::process::Command;

use sparselabel::autograd::gradcheck::directional;
use sparselabel::autograd::ParamStore;
use sparselabel::data::{self, LabelRegime};
use sparselabel::models::class_layout::ClassLayout;
use sparselabel::models::{build, Batch, Model, ModelSpec};
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::{Outcome, TrainConfig, Trainer};

fn uniform(seed: u64, rows: usize, cols: usize) -> Tensor {
    let mut r = stream(seed, "x");
    Tensor::new(
        &[rows, cols],
        (0..rows * cols)
            .map(|_| rand::RngExt::random::<f32>(&mut r))
            .collect(),
    )
}

fn model(config: &TrainConfig, dim: usize, store: &mut ParamStore) -> Box<dyn Model> {
    let spec = ModelSpec {
        input_dim: dim,
        classes: 10,
        labelled: 2_500,
        unlabelled: 47_500,
        image_shape: None,
    };
    build(config, &spec, store, &mut stream(1, "init")).unwrap()
}

fn assert_directional(name: &str, store: &ParamStore, model: &dyn Model, batch: &Batch) {
    let report = directional(store, 3, 3e-2, &|tape| {
        model.loss(tape, batch, &mut stream(5, "sampling")).total
    });
    report.assert_within(name, 2e-2);
    report.assert_informative(name);
}

/// The semi-unsupervised setting of the presets: 20 % of classes 0–4
/// labelled, five extra classes (K = 10).
fn sus(model: &str) -> TrainConfig {
    TrainConfig {
        model: model.into(),
        labels_per_class: None,
        label_fraction: Some(0.2),
        labelled_classes: Some("0-4".into()),
        extra_classes: 5,
        hidden: vec![500, 500],
        activation: "softplus".into(),
        z_dim: 10,
        alpha: Some(1.1),
        ..TrainConfig::default()
    }
}

#[test]
fn gmdgm_and_ssvae_full_losses_along_random_directions() {
    // 618 inputs: about what MNIST keeps after dropping std ≤ 0.1 pixels.
    let dim = 618;
    let batch = Batch {
        kl_weight: 1.0,
        labelled: uniform(2, 3, dim),
        labels: vec![4, 0, 2],
        unlabelled: uniform(3, 4, dim),
        unlabelled_index: Vec::new(),
    };
    for name in ["gmdgm", "ssvae"] {
        let mut store = ParamStore::new();
        let m = model(&sus(name), dim, &mut store);
        assert_eq!(m.num_classes(), 10);
        assert_directional(&format!("{name} sus"), &store, m.as_ref(), &batch);
    }
    // Unsupervised GM-DGM: no labelled part at all, K = extra classes.
    let us = TrainConfig {
        labels_per_class: Some(0),
        label_fraction: None,
        labelled_classes: None,
        extra_classes: 10,
        ..sus("gmdgm")
    };
    let mut store = ParamStore::new();
    let m = model(&us, dim, &mut store);
    let unl = Batch {
        kl_weight: 0.5,
        labelled: Tensor::zeros(&[0, dim]),
        labels: vec![],
        unlabelled: uniform(4, 5, dim),
        unlabelled_index: Vec::new(),
    };
    assert_directional("gmdgm us", &store, m.as_ref(), &unl);
}

#[test]
fn split_prior_puts_half_its_mass_on_labelled_classes_by_frequency() {
    let layout = ClassLayout::new(vec![0, 1, 2, 3, 4], 5).unwrap();
    let counts = [100, 200, 300, 400, 1000, 0, 0, 0, 0, 0];
    let p = layout.split_prior(&counts);
    assert_eq!(p.len(), 10);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let labelled: f64 = p[..5].iter().sum();
    assert!((labelled - 0.5).abs() < 1e-12, "{p:?}");
    for (c, &n) in counts[..5].iter().enumerate() {
        assert!((p[c] - 0.5 * n as f64 / 2000.0).abs() < 1e-12, "{p:?}");
    }
    for &e in &p[5..] {
        assert!((e - 0.1).abs() < 1e-12, "{p:?}");
    }
    // Labelled classes need not be the first ones: model class i is the
    // i-th labelled dataset class.
    let odd = ClassLayout::new(vec![7, 3], 2).unwrap();
    let p = odd.split_prior(&[0, 0, 0, 30, 0, 0, 0, 10, 0, 0]);
    assert_eq!(odd.dataset_classes(), vec![Some(3), Some(7), None, None]);
    assert_eq!(odd.map_labels(&[7, 3, 3]), vec![1, 0, 0]);
    assert!((p[0] - 0.375).abs() < 1e-12 && (p[1] - 0.125).abs() < 1e-12);
    assert!((p[2] - 0.25).abs() < 1e-12 && (p[3] - 0.25).abs() < 1e-12);
    // No extra classes: all the mass on the labelled ones; no labels: uniform.
    let ss = ClassLayout::new((0..4).collect(), 0).unwrap();
    assert_eq!(ss.split_prior(&[1, 1, 2, 4]), vec![0.125, 0.125, 0.25, 0.5]);
    let us = ClassLayout::new(vec![], 4).unwrap();
    assert_eq!(us.split_prior(&[]), vec![0.25; 4]);
    assert!(ClassLayout::new(vec![], 0).is_err());
    // The table the models add to the bound is −log of it.
    let t = layout.neg_log_prior(&counts);
    assert_eq!(t.shape(), &[10, 1]);
    assert!((t.data()[9] - (10f32).ln()).abs() < 1e-6);
}

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-gmdgm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn gmdgm_on_real_mnist_semi_unsupervised_learns_and_never_labels_classes_5_to_9() {
    let config = TrainConfig {
        train_limit: Some(3000),
        epochs: 4,
        hidden: vec![200, 200],
        activation: "relu".into(),
        drop_std: Some(0.1),
        threads: 2,
        ..sus("gmdgm")
    };
    // The labelled subset the trainer draws: only classes 0–4, 20 % of each.
    let splits = data::load("mnist").unwrap();
    let labels = &splits.train.labels.as_ref().unwrap()[..3000];
    let regime = LabelRegime::FractionOfClasses {
        fraction: 0.2,
        classes: vec![0, 1, 2, 3, 4],
    };
    let chosen = data::select_labelled(labels, 10, &regime, config.label_seed).unwrap();
    assert!(chosen.iter().all(|&i| labels[i] <= 4));
    let per_class = |c: u32| labels.iter().filter(|&&l| l == c).count();
    let expected: usize = (0..5)
        .map(|c| (per_class(c) as f64 * 0.2).round() as usize)
        .sum();
    assert_eq!(chosen.len(), expected);

    let out = out_dir("sus");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut t = Trainer::new(config, &out).unwrap();
    t.set_quiet(true);
    assert_eq!(t.labelled_count(), expected);
    let test = match pool.install(|| t.run()).unwrap() {
        Outcome::Finished(m) => m,
        Outcome::Interrupted => panic!("interrupted"),
    };
    let losses = t.run.epoch_losses();
    assert!(
        losses.last().unwrap() < &losses[0],
        "loss did not fall: {losses:?}"
    );
    // Chance is 10 %; cluster accuracy counts one-to-one matches only.
    assert!(test.cluster_accuracy > 0.3, "{test:?}");
    assert!(test.purity >= test.cluster_accuracy);
    let labelled = test.labelled_accuracy.expect("labelled classes exist");
    assert!(labelled > 0.5, "{test:?}");
    let mask: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("feature_mask.json")).unwrap())
            .unwrap();
    let kept = mask["keep"].as_array().unwrap().len();
    assert!(kept > 400 && kept < 784, "kept {kept} pixels");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "test_accuracy",
        "test_labelled_accuracy",
        "test_cluster_accuracy",
        "test_purity",
        "test_nmi",
    ] {
        assert!(summary[key].as_f64().is_some(), "{key}: {summary}");
    }
    assert_eq!(summary["test_confusion"].as_array().unwrap().len(), 10);
    assert_eq!(
        summary["test_cluster_mapping"].as_array().unwrap().len(),
        10
    );
    let map = summary["model_class_to_dataset_class"].as_array().unwrap();
    assert_eq!(map[4], 4);
    assert!(map[5].is_null());
    let metrics = t.run.metrics();
    assert!(metrics[0]["validation_purity"].as_f64().is_some());
    let _ = std::fs::remove_dir_all(&out);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparselabel"))
}

#[test]
fn unsupervised_cli_run_and_bad_flags() {
    let out = out_dir("us");
    let st = bin()
        .args([
            "train",
            "--model",
            "gmdgm",
            "--labels",
            "0",
            "--extra-classes",
            "4",
        ])
        .args([
            "--train-limit",
            "400",
            "--epochs",
            "1",
            "--steps-per-epoch",
            "3",
        ])
        .args([
            "--batch",
            "20",
            "--threads",
            "1",
            "--drop-std",
            "0.1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["labelled_count"], 0);
    assert_eq!(summary["num_model_classes"], 4);
    assert!(summary["test_purity"].as_f64().is_some());
    assert!(summary["test_labelled_accuracy"].is_null());
    let _ = std::fs::remove_dir_all(&out);

    let refused = |args: &[&str], says: &str| {
        let o = bin()
            .args(["train", "--train-limit", "100", "--epochs", "1"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(
        &["--model", "m2", "--extra-classes", "3"],
        "--extra-classes",
    );
    refused(&["--model", "gmdgm", "--labels", "0"], "--extra-classes");
    refused(
        &["--model", "ssvae", "--extra-classes=-1"],
        "--extra-classes",
    );
    refused(&["--model", "gmdgm", "--drop-std=-0.5"], "--drop-std");
    refused(&["--model", "ssvae", "--classes", "0-x"], "--classes");
    refused(
        &[
            "--model",
            "gmdgm",
            "--label-fraction",
            "0.2",
            "--labelled-classes",
            "0-12",
        ],
        "class 10",
    );
}
