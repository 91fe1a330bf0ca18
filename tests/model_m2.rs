//! M2: its whole loss (labelled bound, enumerated unlabelled bound, weighted
//! cross-entropy) passes a finite-difference check against every parameter,
//! and a short training run on real MNIST makes the loss fall and the
//! accuracy beat chance by far.

use sparselabel::autograd::gradcheck::{check, Tolerance};
use sparselabel::autograd::ParamStore;
use sparselabel::models::m2::{Likelihood, M2Config, M2};
use sparselabel::models::{Batch, Model};
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::{Outcome, TrainConfig, Trainer};

#[test]
fn full_loss_gradient_matches_finite_differences() {
    for likelihood in [
        Likelihood::Bernoulli,
        Likelihood::Gaussian,
        Likelihood::GaussianFixed { sigma: 0.5 },
    ] {
        full_loss_gradient_for(likelihood);
    }
}

fn full_loss_gradient_for(likelihood: Likelihood) {
    let mut store = ParamStore::new();
    let config = M2Config {
        input_dim: 5,
        classes: 3,
        z_dim: 2,
        hidden: vec![4, 3],
        activation: "softplus".into(),
        alpha: 2.0,
        labelled_weight: 1.0,
        likelihood,
    };
    let model = M2::new(&mut store, config, &mut stream(1, "init")).unwrap();
    let x = |seed: u64, rows: usize| {
        let mut r = stream(seed, "x");
        Tensor::new(
            &[rows, 5],
            (0..rows * 5)
                .map(|_| rand::RngExt::random::<f32>(&mut r))
                .collect(),
        )
    };
    let batch = Batch {
        kl_weight: 0.7,
        labelled: x(2, 2),
        labels: vec![2, 0],
        unlabelled: x(3, 3),
        unlabelled_index: Vec::new(),
    };
    let report = check(&store, &[], Tolerance::default(), &|tape, _| {
        let mut rng = stream(4, "sampling");
        model.loss(tape, &batch, &mut rng).total
    });
    assert!(report.checked > 100, "checked {}", report.checked);
    assert!(
        report.passed(),
        "M2 ({likelihood:?}) loss gradient mismatch at {}: {} vs {}",
        report.worst_at,
        report.analytic,
        report.numeric
    );
}

/// `labelled_weight` scales the labelled bound and nothing else: the totals
/// with weights 1 and 0.25 differ by 0.75 times that term.
#[test]
fn labelled_weight_scales_only_the_labelled_bound() {
    let total_and_bound = |w: f32| {
        let mut store = ParamStore::new();
        let config = M2Config {
            input_dim: 5,
            classes: 3,
            z_dim: 2,
            hidden: vec![4],
            activation: "softplus".into(),
            alpha: 2.0,
            labelled_weight: w,
            likelihood: Likelihood::Bernoulli,
        };
        let model = M2::new(&mut store, config, &mut stream(1, "init")).unwrap();
        let mut r = stream(2, "x");
        let mut x = |rows: usize| {
            let v = (0..rows * 5)
                .map(|_| rand::RngExt::random::<f32>(&mut r))
                .collect();
            Tensor::new(&[rows, 5], v)
        };
        let batch = Batch {
            kl_weight: 1.0,
            labelled: x(2),
            labels: vec![1, 0],
            unlabelled: x(3),
            unlabelled_index: Vec::new(),
        };
        let mut tape = sparselabel::autograd::Tape::no_grad(&store);
        let loss = model.loss(&mut tape, &batch, &mut stream(4, "sampling"));
        let term = |name: &str| {
            let (_, v) = loss.terms.iter().find(|(n, _)| *n == name).unwrap();
            tape.value(*v).data()[0] as f64
        };
        (
            tape.value(loss.total).data()[0] as f64,
            term("labelled_bound"),
        )
    };
    let (full, bound) = total_and_bound(1.0);
    let (quarter, bound_q) = total_and_bound(0.25);
    assert_eq!(bound, bound_q, "the term itself is reported unweighted");
    let want = full - 0.75 * bound;
    assert!(
        (quarter - want).abs() <= 1e-5 * full.abs().max(1.0),
        "total {quarter} with weight 0.25, expected {want}"
    );
}

#[test]
fn short_training_on_mnist_learns() {
    let out = std::env::temp_dir().join(format!("sparselabel-m2-learns-{}", std::process::id()));
    let config = TrainConfig {
        train_limit: Some(5000),
        epochs: 3,
        hidden: vec![256],
        schedule: sparselabel::optim::Schedule::Constant { lr: 1e-3 },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config, &out).unwrap();
    trainer.set_quiet(true);
    let Outcome::Finished(test) = trainer.run().unwrap() else {
        panic!("not interrupted")
    };
    let losses = sparselabel::train::RunDir::open(&out)
        .unwrap()
        .epoch_losses();
    assert!(losses[2] < losses[0], "loss should fall: {losses:?}");
    // 100 labels, 5,000 unlabelled, 3 short epochs: far above chance (10 %).
    assert!(test.accuracy > 0.6, "test accuracy {}", test.accuracy);
    let _ = std::fs::remove_dir_all(&out);
}

/// The two weighting rules: per batch (α = 0.1·N/N_l, labelled bound 1) and
/// Kingma's sum over the data set divided by N_u (α = 0.1·N·N_l/N_u, labelled
/// bound N_l/N_u); explicit values win over either.
#[test]
fn weighting_rules_give_the_documented_weights() {
    use sparselabel::models::{labelled_weights, ModelSpec};
    let spec = ModelSpec {
        input_dim: 784,
        classes: 10,
        labelled: 100,
        unlabelled: 49_900,
        image_shape: None,
    };
    let mut c = TrainConfig::default();
    assert_eq!(labelled_weights(&c, &spec), (50.0, 1.0));
    c.weighting = "dataset".into();
    let (alpha, bound) = labelled_weights(&c, &spec);
    assert!(
        (alpha - 0.1 * 50_000.0 * 100.0 / 49_900.0).abs() < 1e-4,
        "{alpha}"
    );
    assert!((bound - 100.0 / 49_900.0).abs() < 1e-9, "{bound}");
    c.alpha = Some(3.0);
    c.labelled_weight = Some(0.5);
    assert_eq!(labelled_weights(&c, &spec), (3.0, 0.5));
    let bad = TrainConfig {
        weighting: "sum".into(),
        ..TrainConfig::default()
    };
    assert!(bad.validate().is_err(), "an unknown rule is a usage error");
}
