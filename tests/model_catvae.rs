//! Figueroa & Ramírez Rivera's categorical VAE (`catvae`): the whole loss
//! against directional derivatives at the preset's widths, the auxiliary
//! tasks (k-NN assignment, assignment loss, feature loss) against values
//! worked out by hand, a short run on real MNIST (loss falls, accuracy
//! beats chance, features.npy written), and bad flags.

use std::path::PathBuf;
use std::process::Command;

use sparselabel::autograd::gradcheck::directional;
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::models::catvae::CatVaeOptions;
use sparselabel::models::catvae_losses::{
    assignment_loss, feature_loss, feature_weights, knn_assign,
};
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

fn model(config: &TrainConfig, store: &mut ParamStore) -> Box<dyn Model> {
    let spec = ModelSpec {
        input_dim: 784,
        classes: 10,
        labelled: 100,
        unlabelled: 49_900,
        image_shape: Some([1, 28, 28]),
    };
    build(config, &spec, store, &mut stream(1, "init")).unwrap()
}

/// The preset's model with softplus instead of ReLU (a step along v would
/// cross ReLU kinks) and every loss term switched on.
#[test]
fn full_loss_along_random_directions() {
    for recon in ["mse", "bce"] {
        let config = TrainConfig {
            activation: "softplus".into(),
            catvae: CatVaeOptions {
                recon: recon.into(),
                w_ce: 0.5,
                ..TrainConfig::default().catvae
            },
            ..sparselabel::train::preset("figueroa-catvae-mnist100").unwrap()
        };
        let mut store = ParamStore::new();
        let m = model(&config, &mut store);
        // Two labelled examples of class 4 so that labelled rows have
        // partners in the feature loss.
        let batch = Batch {
            kl_weight: 1.0,
            labelled: uniform(2, 4, 784),
            labels: vec![4, 0, 4, 9],
            unlabelled: uniform(3, 5, 784),
            unlabelled_index: Vec::new(),
        };
        let report = directional(&store, 3, 3e-2, &|tape| {
            m.loss(tape, &batch, &mut stream(5, "sampling")).total
        });
        report.assert_within(recon, 2e-2);
        report.assert_informative(recon);
        let mut tape = Tape::new(&store);
        let loss = m.loss(&mut tape, &batch, &mut stream(5, "sampling"));
        let names: Vec<&str> = loss.terms.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "reconstruction",
                "categorical_kl",
                "assignment",
                "feature",
                "cross_entropy"
            ]
        );
    }
}

#[test]
fn nearest_neighbour_and_majority_assignment_by_hand() {
    // Labelled points on a line: 0 (class 2), 1 (class 0), 3 (class 0),
    // 10 (class 1). Unlabelled: 0.4 → nearest 0 → class 2; 2.2 → nearest 3
    // → class 0; 9 → class 1.
    let lab = [0.0, 1.0, 3.0, 10.0];
    let labels = [2, 0, 0, 1];
    let unl = [0.4, 2.2, 9.0];
    assert_eq!(knn_assign(&unl, &lab, &labels, 1, 1), vec![2, 0, 1]);
    // k = 3: 0.4 → {0:2, 1:0, 3:0} → class 0 by majority; 9 → {10:1, 3:0,
    // 1:0} → class 0.
    assert_eq!(knn_assign(&unl, &lab, &labels, 1, 3), vec![0, 0, 0]);
    // k = 2 ties one vote each: the class of the nearer neighbour wins.
    assert_eq!(knn_assign(&unl, &lab, &labels, 1, 2), vec![2, 0, 1]);
    // Two dimensions, equal distances: the lower labelled index wins.
    let lab2 = [1.0, 0.0, 0.0, 1.0];
    assert_eq!(knn_assign(&[0.0, 0.0], &lab2, &[5, 3], 2, 1), vec![5]);
}

#[test]
fn assignment_loss_by_hand() {
    // One row, K = 3, target 1, logits (0, 1, −2):
    // ¼·[(1 − tanh 1) + ½((1 + tanh 0) + (1 + tanh(−2)))].
    let want = 0.25 * ((1.0 - 1f64.tanh()) + 0.5 * ((1.0 + 0f64.tanh()) + (1.0 + (-2f64).tanh())));
    let store = ParamStore::new();
    let mut tape = Tape::no_grad(&store);
    let l = tape.constant(Tensor::new(&[1, 3], vec![0.0, 1.0, -2.0]));
    let v = assignment_loss(&mut tape, l, &[1]);
    assert!((tape.value(v).item() as f64 - want).abs() < 1e-6);
    // Confident and right: near 0; confident and wrong: near 1.
    let l = tape.constant(Tensor::new(&[2, 2], vec![9.0, -9.0, -9.0, 9.0]));
    let right = assignment_loss(&mut tape, l, &[0, 1]);
    let wrong = assignment_loss(&mut tape, l, &[1, 0]);
    assert!(tape.value(right).item() < 1e-6);
    assert!((tape.value(wrong).item() - 1.0).abs() < 1e-6);
}

#[test]
fn feature_loss_by_hand() {
    // Rows: labelled a = (1, 0) class 0, b = (0, 1) class 1, c = (0.6, 0.8)
    // class 0; unlabelled u = (0.8, 0.6) assigned 0, v = (1, 0) assigned 1.
    // d = ‖·‖²/4. Labelled rows with partners: a ↔ c and c ↔ a (b has none),
    // each d(a, c) = (0.16 + 0.64)/4 = 0.2; their mean 0.2.
    // Unlabelled: u to {a, c}: (0.04 + 0.36)/4 = 0.1 and (0.04 + 0.04)/4 =
    // 0.02 → 0.06; v to {b}: 2/4 = 0.5; mean 0.28.
    // L_F = α·0.2 + (1 − α)·0.28 with α = 0.6 → 0.232.
    let f = vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8, 0.8, 0.6, 1.0, 0.0];
    let targets = [0, 1, 0, 0, 1];
    let labels = [0, 1, 0];
    let store = ParamStore::new();
    let mut tape = Tape::no_grad(&store);
    let fv = tape.constant(Tensor::new(&[5, 2], f));
    let v = feature_loss(&mut tape, fv, &targets, &labels, 0.6);
    assert!(
        (tape.value(v).item() - 0.232).abs() < 1e-6,
        "{}",
        tape.value(v).item()
    );
    // No partner anywhere: no weights, a zero loss.
    assert!(feature_weights(&[0, 1], &[0, 1], 0.6).is_none());
    let fv = tape.constant(Tensor::new(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]));
    let z = feature_loss(&mut tape, fv, &[0, 1], &[0, 1], 0.6);
    assert_eq!(tape.value(z).item(), 0.0);
}

fn out_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sparselabel-catvae-{tag}-{}", std::process::id()))
}

/// Two short epochs on the first 3,000 MNIST training examples, the test
/// images of classes 0–4 scored: loss falls, accuracy and cluster accuracy
/// beat chance (10 clusters), and features.npy holds one L2-normalised 50-d
/// row per test example.
#[test]
fn short_mnist_run_learns_and_writes_features() {
    let config = TrainConfig {
        train_limit: Some(3000),
        epochs: 2,
        steps_per_epoch: Some(15),
        batch_unlabelled: 50,
        batch_labelled: 50,
        // Scoring 10k validation and test images a few times dominates the
        // run: classes 0–4 only in validation and test halve it.
        eval_classes: Some("0-4".into()),
        ..sparselabel::train::preset("figueroa-catvae-mnist100").unwrap()
    };
    let out = out_dir("short");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut t = Trainer::new(config, &out).unwrap();
    t.set_quiet(true);
    let test = match pool.install(|| t.run()).unwrap() {
        Outcome::Finished(m) => m,
        Outcome::Interrupted => panic!("interrupted"),
    };
    let losses = t.run.epoch_losses();
    assert!(losses[1] < losses[0], "loss did not fall: {losses:?}");
    assert!(test.accuracy > 0.4, "{test:?}");
    assert!(test.cluster_accuracy > 0.3, "{test:?}");
    let map = t.model().class_map_in(t.store()).expect("clusters named");
    assert_eq!(map.len(), 10);
    let arr = sparselabel::data::npy::read_npy(&out.join("features.npy")).unwrap();
    assert_eq!(arr.shape, vec![t.test_split().n, 50]);
    assert!(t.test_split().n > 4000);
    let x = arr.to_f32(&out.join("features.npy")).unwrap();
    for row in x.chunks_exact(50).take(100) {
        let n: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-4, "feature norm {n}");
    }
    // A cluster model draws its decoded cluster centres.
    let centres = std::fs::read(out.join("figures/centres.png")).unwrap();
    assert!(centres.starts_with(b"\x89PNG"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn old_configs_load_and_bad_flags_exit_2() {
    let mut v = serde_json::to_value(TrainConfig::default()).unwrap();
    v.as_object_mut().unwrap().remove("catvae");
    let c: TrainConfig = serde_json::from_value(v).unwrap();
    assert_eq!(c.catvae, CatVaeOptions::default());

    let refused = |args: &[&str], says: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
            .args(["train", "--train-limit", "100", "--epochs", "1"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let cat = ["--preset", "figueroa-catvae-mnist100"];
    refused(&[&cat[..], &["--tau", "0"]].concat(), "--tau");
    refused(&[&cat[..], &["--tau-min=-1"]].concat(), "--tau-min");
    refused(&[&cat[..], &["--recon", "l1"]].concat(), "--recon");
    refused(&[&cat[..], &["--assign-k", "0"]].concat(), "--assign-k");
    refused(
        &[&cat[..], &["--feature-alpha", "1.5"]].concat(),
        "--feature-alpha",
    );
    refused(&[&cat[..], &["--w-assign=-2"]].concat(), "--w-assign");
    refused(
        &[&cat[..], &["--clusters", "5", "--labels", "1"]].concat(),
        "--clusters",
    );
    refused(&["--model", "m2", "--w-feature", "1"], "catvae flags");
    refused(
        &[&cat[..], &["--feature-dim", "0"]].concat(),
        "--feature-dim",
    );
}

/// Same seed, same batch: the loss and every gradient are bit-identical on
/// 1 and 2 threads (the batch is large enough for the parallel paths of
/// the convolutions and batch-norm).
#[test]
fn loss_and_gradients_do_not_depend_on_the_thread_count() {
    let config = sparselabel::train::preset("figueroa-catvae-mnist100").unwrap();
    let mut store = ParamStore::new();
    let m = model(&config, &mut store);
    let batch = Batch {
        kl_weight: 1.0,
        labelled: uniform(2, 12, 784),
        labels: (0..12).map(|i| i % 10).collect(),
        unlabelled: uniform(3, 12, 784),
        unlabelled_index: Vec::new(),
    };
    let run = |threads: usize| -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut tape = Tape::new(&store);
            let loss = m.loss(&mut tape, &batch, &mut stream(5, "sampling"));
            let mut bits = vec![tape.value(loss.total).item().to_bits()];
            let grads = tape.backward(loss.total).unwrap();
            for (_, g) in grads.params() {
                bits.extend(g.data().iter().map(|v| v.to_bits()));
            }
            bits
        })
    };
    let one = run(1);
    assert!(one.len() > 100_000, "{} values compared", one.len());
    assert_eq!(one, run(2));
}
