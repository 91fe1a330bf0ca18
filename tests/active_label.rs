//! Cluster-based active labelling (clustervae): the answer parser, the
//! iteration's questions, splits and propagation on synthetic latent codes,
//! the model's loss against directional derivatives, and the interactive
//! loop driven through piped stdin — label, skip, undo, quit, resume — with
//! the resumed run ending exactly where an uninterrupted one does.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sparselabel::active::terminal::{parse_answer, render};
use sparselabel::active::{
    run_iteration, ActiveConfig, DatasetOracle, IterationInput, IterationOutcome, Oracle, Query,
    Reply, Style,
};
use sparselabel::autograd::gradcheck::directional;
use sparselabel::autograd::ParamStore;
use sparselabel::data::Dataset;
use sparselabel::models::{build, Batch, ModelSpec};
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::{preset, TrainConfig};

/// An empty scratch directory for this test process.
fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-active-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn names() -> Vec<String> {
    (0..10).map(|i| i.to_string()).collect()
}

#[test]
fn answers_parse_as_a_person_types_them() {
    let n = names();
    let label = |class, confidence| Some(Reply::Label { class, confidence });
    assert_eq!(parse_answer("7\n", &n), Ok(label(7, 1.0)));
    assert_eq!(parse_answer(" 3 0.5 ", &n), Ok(label(3, 0.5)));
    assert_eq!(parse_answer("3 80%", &n), Ok(label(3, 0.8)));
    assert_eq!(parse_answer("s", &n), Ok(Some(Reply::Invalid)));
    assert_eq!(parse_answer("skip", &n), Ok(Some(Reply::Invalid)));
    assert_eq!(parse_answer("U", &n), Ok(Some(Reply::Undo)));
    assert_eq!(parse_answer("q", &n), Ok(Some(Reply::Quit)));
    assert_eq!(parse_answer("   \n", &n), Ok(None));
    let shirts = vec!["T-shirt".to_string(), "Trouser".to_string()];
    assert_eq!(parse_answer("trouser 0.9", &shirts), Ok(label(1, 0.9)));
    for bad in ["10", "seven", "3 1.5", "3 -0.1", "3 abc", "3 0.5 x"] {
        assert!(parse_answer(bad, &n).is_err(), "{bad} should be refused");
    }
}

#[test]
fn pictures_are_legible_in_both_styles() {
    // A 4×4 image: a bright vertical bar in column 1.
    let img: Vec<f32> = (0..16)
        .map(|i| if i % 4 == 1 { 1.0 } else { 0.0 })
        .collect();
    let ascii = render(&[&img, &img], [1, 4, 4], Style::Ascii);
    let lines: Vec<&str> = ascii.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], "  @@        @@      ");
    let blocks = render(&[&img], [1, 4, 4], Style::HalfBlocks);
    assert_eq!(blocks.lines().count(), 2, "two pixel rows per text row");
    assert!(blocks.contains("\x1b[38;5;255m\x1b[48;5;255m\u{2580}"));
}

/// Three well-separated blobs in 2-D, labelled 0, 1, 2, plus a fourth
/// blob that mixes classes 1 and 2 half and half.
fn blobs() -> (Vec<f32>, Dataset) {
    let mut rng = stream(3, "blobs");
    let centres = [(-10.0, 0.0), (10.0, 0.0), (0.0, 10.0), (0.0, -10.0)];
    let (mut z, mut labels) = (Vec::new(), Vec::new());
    for (b, (cx, cy)) in centres.iter().enumerate() {
        for i in 0..100 {
            let dx: f32 = rand::RngExt::random::<f32>(&mut rng) - 0.5;
            let dy: f32 = rand::RngExt::random::<f32>(&mut rng) - 0.5;
            z.extend([cx + dx, cy + dy]);
            labels.push(if b < 3 { b as u32 } else { 1 + (i % 2) as u32 });
        }
    }
    let n = labels.len();
    let ds = Dataset {
        name: "blobs".into(),
        x: vec![0.5; n * 4],
        n,
        dim: 4,
        image_shape: Some([1, 2, 2]),
        labels: Some(labels),
        num_classes: 3,
        class_names: vec!["a".into(), "b".into(), "c".into()],
        coarse: None,
    };
    (z, ds)
}

fn loop_config(clustering: &str, budget: usize) -> ActiveConfig {
    ActiveConfig {
        clustering: clustering.into(),
        k: 4,
        split_k: 2,
        budget,
        split_below: 0.9,
        oracle_neighbours: 50,
        decay: "exponential".into(),
        ..ActiveConfig::default()
    }
}

fn iterate(cfg: &ActiveConfig, dir: &Path, oracle: &mut dyn Oracle) -> IterationOutcome {
    let (z, ds) = blobs();
    let decode = |c: &[f32]| Ok(vec![c[0].abs() / 10.0, c[1].abs() / 10.0, 0.0, 1.0]);
    let input = IterationInput {
        iteration: 1,
        z: &z,
        dim: 2,
        train: &ds,
        cfg,
        seed: 7,
        decode: &decode,
        run_dir: dir,
    };
    run_iteration(&input, oracle).unwrap()
}

#[test]
fn clean_clusters_are_labelled_and_a_mixed_one_is_split() {
    for clustering in ["kmeans", "gmm"] {
        let dir = scratch(clustering);
        let (_, ds) = blobs();
        let labels = ds.labels.clone().unwrap();
        let mut oracle = DatasetOracle {
            labels: &labels,
            classes: 3,
            neighbours: 50,
        };
        let cfg = loop_config(clustering, 12);
        let IterationOutcome::Done(p) = iterate(&cfg, &dir, &mut oracle) else {
            panic!("the simulated oracle never quits");
        };
        // Four top-level questions; the mixed blob (confidence ≈ 0.5) is
        // split, its halves are still mixed and split again, … until the
        // budget is spent.
        assert_eq!(p.asked, 12, "{clustering}");
        assert_eq!(p.answers.iter().filter(|a| !a.0.contains('.')).count(), 4);
        let uncertain: Vec<_> = p
            .answers
            .iter()
            .filter(|a| !a.0.contains('.'))
            .filter(|a| matches!(a.2, Reply::Label { confidence, .. } if confidence < 0.7))
            .collect();
        assert_eq!(uncertain.len(), 1, "{clustering}: {:?}", p.answers);
        let mixed_id = format!("{}.", uncertain[0].0);
        assert!(p
            .answers
            .iter()
            .all(|a| !a.0.contains('.') || a.0.starts_with(&mixed_id)));
        // The clean blobs are labelled correctly with weight ≤ 1.
        for (i, lw) in p.labels.iter().enumerate().take(300) {
            let (c, w) = lw.expect("every clean sample gets a label");
            assert_eq!(c as u32, labels[i], "{clustering}: sample {i}");
            assert!(w > 0.0 && w <= 1.0, "{clustering}: weight {w}");
        }
        // Pictures of every question and a summary figure.
        assert!(&dir.join("centres/iter-1-1.png").exists());
        assert!(&dir.join("figures/centres.png").exists());
        // Every reply was logged, in order.
        let log = std::fs::read_to_string(dir.join("answers.jsonl")).unwrap();
        assert_eq!(log.lines().count(), p.asked, "{clustering}");
    }
}

/// Answers from a script; `Quit` when it runs out.
struct Scripted(Vec<Reply>, Vec<String>);

impl Oracle for Scripted {
    fn ask(&mut self, q: &Query<'_>) -> sparselabel::Result<Reply> {
        self.1.push(q.id.to_string());
        Ok(if self.0.is_empty() {
            Reply::Quit
        } else {
            self.0.remove(0)
        })
    }
}

#[test]
fn budget_undo_and_replay_after_a_quit() {
    let cfg = loop_config("kmeans", 3);
    let label = |class| Reply::Label {
        class,
        confidence: 1.0,
    };
    // Uninterrupted: skip, undo (the skip), then three labels.
    let whole = scratch("whole");
    let script = vec![Reply::Invalid, Reply::Undo, label(0), label(1), label(2)];
    let mut o = Scripted(script, Vec::new());
    let IterationOutcome::Done(a) = iterate(&cfg, &whole, &mut o) else {
        panic!("finished script")
    };
    assert_eq!(
        a.asked, 3,
        "the budget counts answers, an undone one is given back"
    );
    assert_eq!(
        o.1[0], o.1[2],
        "after an undo the same cluster is asked again"
    );
    assert_eq!(
        a.answers.iter().map(|x| x.2.clone()).collect::<Vec<_>>(),
        vec![label(0), label(1), label(2)]
    );
    // Interrupted after two replies, then resumed: the logged replies are
    // replayed, the oracle is asked only for the rest, the result is equal.
    let split = scratch("split");
    let mut first = Scripted(vec![Reply::Invalid, Reply::Undo], Vec::new());
    assert!(matches!(
        iterate(&cfg, &split, &mut first),
        IterationOutcome::Quit
    ));
    let mut rest = Scripted(vec![label(0), label(1), label(2)], Vec::new());
    let IterationOutcome::Done(b) = iterate(&cfg, &split, &mut rest) else {
        panic!("finished script")
    };
    assert_eq!(rest.1.len(), 3, "only the unanswered questions are asked");
    assert_eq!(a, b);
    assert_eq!(
        std::fs::read(whole.join("answers.jsonl")).unwrap(),
        std::fs::read(split.join("answers.jsonl")).unwrap()
    );
}

#[test]
fn a_log_that_does_not_match_the_run_is_a_clear_error() {
    let dir = scratch("mismatch");
    std::fs::write(
        dir.join("answers.jsonl"),
        "{\"iteration\":1,\"query\":\"9.9\",\"reply\":\"invalid\"}\n",
    )
    .unwrap();
    let (z, ds) = blobs();
    let decode = |c: &[f32]| Ok(vec![c[0], c[1], 0.0, 1.0]);
    let cfg = loop_config("kmeans", 3);
    let input = IterationInput {
        iteration: 1,
        z: &z,
        dim: 2,
        train: &ds,
        cfg: &cfg,
        seed: 7,
        decode: &decode,
        run_dir: &dir,
    };
    let err = run_iteration(&input, &mut Scripted(Vec::new(), Vec::new())).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("answers.jsonl"), "{err}");
}

#[test]
fn clustervae_loss_along_random_directions() {
    let config = TrainConfig {
        model: "clustervae".into(),
        hidden: vec![32],
        z_dim: 4,
        activation: "softplus".into(),
        active: Some(ActiveConfig::default()),
        ..TrainConfig::default()
    };
    let spec = ModelSpec {
        input_dim: 64,
        classes: 3,
        labelled: 0,
        unlabelled: 10,
        image_shape: Some([1, 8, 8]),
    };
    let mut store = ParamStore::new();
    let model = build(&config, &spec, &mut store, &mut stream(1, "init")).unwrap();
    // Propagated labels on rows 2 and 5 of the training set.
    let label = store.id("clustervae.active.label").unwrap();
    let weight = store.id("clustervae.active.weight").unwrap();
    let mut l = vec![-1.0; 10];
    let mut w = vec![0.0; 10];
    (l[2], w[2], l[5], w[5]) = (1.0, 0.7, 2.0, 0.3);
    store.set_value(label, Tensor::new(&[10], l)).unwrap();
    store.set_value(weight, Tensor::new(&[10], w)).unwrap();
    let mut r = stream(4, "x");
    let x: Vec<f32> = (0..4 * 64)
        .map(|_| rand::RngExt::random::<f32>(&mut r))
        .collect();
    let batch = Batch {
        kl_weight: 1.0,
        labelled: Tensor::zeros(&[0, 64]),
        labels: Vec::new(),
        unlabelled: Tensor::new(&[4, 64], x),
        unlabelled_index: vec![2, 3, 5, 9],
    };
    let report = directional(&store, 3, 1e-2, &|tape| {
        model.loss(tape, &batch, &mut stream(5, "sampling")).total
    });
    report.assert_within("clustervae", 2e-2);
    // The weighted cross-entropy is part of the loss.
    let mut tape = sparselabel::autograd::Tape::new(&store);
    let loss = model.loss(&mut tape, &batch, &mut stream(5, "sampling"));
    assert!(loss
        .terms
        .iter()
        .any(|(n, _)| *n == "weighted_cross_entropy"));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparselabel"))
}

/// A tiny clustervae run: 600 training images, one warm-up epoch of 3
/// steps, one labelling iteration of at most 4 questions, one epoch after.
const TINY: &[&str] = &[
    "--model",
    "clustervae",
    "--train-limit",
    "600",
    "--steps-per-epoch",
    "3",
    "--warmup-epochs",
    "1",
    "--iterations",
    "1",
    "--iteration-epochs",
    "1",
    "--clusters",
    "3",
    "--split-k",
    "2",
    "--budget",
    "4",
    "--oracle",
    "interactive",
    "--threads",
    "1",
];

/// Runs `sparselabel args…` with `input` on stdin; returns (status, stdout).
fn run_with_input(args: &[&str], input: &str) -> (Option<i32>, String) {
    let mut child = bin()
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_person_labels_quits_and_resumes_without_losing_an_answer() {
    let tmp = scratch("person");
    let whole = tmp.join("whole");
    let parted = tmp.join("parted");
    let with_out = |dir: &Path| {
        let mut a = vec!["train"];
        a.extend(TINY);
        a.extend(["--out", dir.to_str().unwrap()]);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let answers = "3\ns\nu\n5 0.8\nbogus\n1 70%\n8\n";
    let args = with_out(&whole);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (code, out) = run_with_input(&args, answers);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("question 1 of at most 4"), "{out}");
    assert!(out.contains("@"), "the centre is drawn: {out}");
    assert!(out.contains("'bogus' is not a class"), "{out}");
    assert_eq!(summary(&whole)["labels_spent"], 4.0);

    // The same answers, with a quit after the undo and a resume.
    let args = with_out(&parted);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (code, _) = run_with_input(&args, "3\ns\nu\nq\n");
    assert_eq!(code, Some(130), "a quit stops the run with a checkpoint");
    let log = std::fs::read_to_string(parted.join("answers.jsonl")).unwrap();
    assert_eq!(
        log.lines().count(),
        3,
        "label, skip and undo are kept: {log}"
    );
    let (code, out) = run_with_input(
        &["label", "--run", parted.to_str().unwrap()],
        "5 0.8\n1 70%\n8\n",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("question 2 of at most 4"),
        "resumes at the undone question: {out}"
    );
    assert_eq!(
        std::fs::read(whole.join("answers.jsonl")).unwrap(),
        std::fs::read(parted.join("answers.jsonl")).unwrap()
    );
    let (a, b) = (summary(&whole), summary(&parted));
    for key in [
        "test_accuracy",
        "test_nmi",
        "labels_spent",
        "propagated_samples",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
}

#[test]
fn bad_loop_flags_exit_2_and_the_preset_is_valid() {
    for (args, flag) in [
        (vec!["--clustering", "dbscan"], "--clustering"),
        (vec!["--distance", "cosine"], "--distance"),
        (vec!["--decay", "linear"], "--decay"),
        (vec!["--oracle", "crowd"], "--oracle"),
        (vec!["--split-below", "1.5"], "--split-below"),
        (vec!["--budget", "0"], "--budget"),
        (vec!["--epochs", "3"], "--epochs"),
    ] {
        let mut a = vec!["train", "--model", "clustervae"];
        a.extend(&args);
        let out = bin().args(&a).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
    }
    let out = bin()
        .args(["label", "--run", "/nonexistent/run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let c = preset("vengalil-clustervae-mnist").unwrap();
    assert_eq!(c.epochs, c.active.as_ref().unwrap().total_epochs());
}

#[test]
fn odd_image_sides_decode_to_the_input_size_and_mixed_ones_are_refused() {
    let config = TrainConfig {
        model: "clustervae".into(),
        hidden: vec![16],
        z_dim: 3,
        active: Some(ActiveConfig::default()),
        ..TrainConfig::default()
    };
    let spec = |image: [usize; 3]| ModelSpec {
        input_dim: image.iter().product(),
        classes: 3,
        labelled: 0,
        unlabelled: 4,
        image_shape: Some(image),
    };
    for image in [[1, 7, 7], [3, 9, 5]] {
        let mut store = ParamStore::new();
        let model = build(&config, &spec(image), &mut store, &mut stream(1, "init")).unwrap();
        let d: usize = image.iter().product();
        let mut tape = sparselabel::autograd::Tape::new(&store);
        let x = tape.constant(Tensor::full(&[2, d], 0.5));
        let rec = model.reconstruct(&mut tape, x).unwrap();
        assert_eq!(tape.shape(rec), &[2, d], "{image:?}");
    }
    let mut store = ParamStore::new();
    let err = build(
        &config,
        &spec([1, 7, 8]),
        &mut store,
        &mut stream(1, "init"),
    )
    .err()
    .expect("7×8 is refused");
    assert_eq!(err.exit_code(), 2);
}
