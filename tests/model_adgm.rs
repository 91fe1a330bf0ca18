//! ADGM (Maaløe et al. 2016): its whole loss (labelled bound, enumerated
//! unlabelled bound with one shared a, weighted cross-entropy, several
//! a-samples) passes a finite-difference check at tiny widths and a
//! directional-derivative check at the preset's widths; a short run on real
//! MNIST makes the loss fall and the accuracy beat chance; classification
//! averaging several draws of a returns probabilities.

use sparselabel::autograd::gradcheck::{check, directional, Tolerance};
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::models::adgm::{Adgm, AdgmConfig};
use sparselabel::models::likelihood::Likelihood;
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

fn tiny(skip: bool, mc_samples: usize) -> AdgmConfig {
    AdgmConfig {
        input_dim: 5,
        classes: 3,
        a_dim: 2,
        z_dim: 2,
        hidden: vec![4, 3],
        activation: "softplus".into(),
        alpha: 2.0,
        labelled_weight: 1.0,
        likelihood: Likelihood::Bernoulli,
        mc_samples,
        skip,
        batch_norm: skip,
        eval_seed: 7,
    }
}

/// Checks every parameter of `config`'s model against central differences.
fn full_loss_gradient_for(config: AdgmConfig) {
    let mut store = ParamStore::new();
    let name = format!("{config:?}");
    let model = Adgm::new(&mut store, config, &mut stream(1, "init")).unwrap();
    let batch = Batch {
        kl_weight: 0.7,
        labelled: uniform(2, 2, 5),
        labels: vec![2, 0],
        unlabelled: uniform(3, 3, 5),
        unlabelled_index: Vec::new(),
    };
    let report = check(&store, &[], Tolerance::default(), &|tape, _| {
        let mut rng = stream(4, "sampling");
        model.loss(tape, &batch, &mut rng).total
    });
    assert!(report.checked > 200, "checked {}", report.checked);
    assert!(
        report.passed(),
        "{name}: loss gradient mismatch at {}: {} vs {}",
        report.worst_at,
        report.analytic,
        report.numeric
    );
}

#[test]
fn full_loss_gradient_matches_finite_differences() {
    full_loss_gradient_for(tiny(false, 1));
    full_loss_gradient_for(tiny(false, 2));
}

#[test]
fn loss_along_random_directions_at_preset_widths() {
    // The maaloe-adgm-mnist100 networks (a = z = 100, 500-500) with the
    // papers' ReLU swapped for softplus: a step along v must not cross
    // ReLU kinks.
    let config = TrainConfig {
        model: "adgm".into(),
        activation: "softplus".into(),
        z_dim: 100,
        ..TrainConfig::default()
    };
    let spec = ModelSpec {
        input_dim: 784,
        classes: 10,
        labelled: 100,
        unlabelled: 49_900,
        image_shape: None,
    };
    let mut store = ParamStore::new();
    let model = build(&config, &spec, &mut store, &mut stream(1, "init")).unwrap();
    let batch = Batch {
        kl_weight: 1.0,
        labelled: uniform(2, 3, 784),
        labels: vec![4, 0, 9],
        unlabelled: uniform(3, 4, 784),
        unlabelled_index: Vec::new(),
    };
    let report = directional(&store, 3, 3e-2, &|tape| {
        model.loss(tape, &batch, &mut stream(5, "sampling")).total
    });
    // The loss is ~10³ in f32, so a central difference over ±3·10⁻² resolves
    // derivatives to ~1.2·10⁻³ (one ULP of the loss / 2ε): an absolute
    // allowance of 3·10⁻³ on top of the 2 % relative one.
    report.assert_within_abs("adgm", 2e-2, 3e-3);
    report.assert_informative("adgm");
}

#[test]
fn classification_averages_draws_into_probabilities() {
    let mut store = ParamStore::new();
    let model = Adgm::new(&mut store, tiny(false, 4), &mut stream(1, "init")).unwrap();
    let x = uniform(9, 6, 5);
    let predict = || {
        let mut tape = Tape::no_grad(&store);
        let xv = tape.constant(x.clone());
        let lp = model.class_log_probs(&mut tape, xv);
        tape.value(lp).clone()
    };
    let lp = predict();
    assert_eq!(lp.shape(), &[6, 3]);
    for row in lp.data().chunks_exact(3) {
        let total: f32 = row.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5, "probabilities sum to {total}");
    }
    assert_eq!(lp.data(), predict().data(), "repeatable predictions");
}

#[test]
fn short_training_on_mnist_learns() {
    let out = std::env::temp_dir().join(format!("sparselabel-adgm-learns-{}", std::process::id()));
    let config = TrainConfig {
        model: "adgm".into(),
        train_limit: Some(3000),
        epochs: 3,
        hidden: vec![128, 128],
        z_dim: 32,
        a_dim: 32,
        clip_norm: Some(5.0),
        clip_value: Some(1.0),
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
    // 100 labels, 3,000 examples, 3 short epochs: far above chance (10 %).
    assert!(test.accuracy > 0.5, "test accuracy {}", test.accuracy);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn figures_see_latent_means_reconstructions_and_class_samples() {
    for skip in [false, true] {
        let mut store = ParamStore::new();
        let model = Adgm::new(&mut store, tiny(skip, 1), &mut stream(1, "init")).unwrap();
        let mut tape = Tape::no_grad(&store);
        let x = tape.constant(uniform(9, 4, 5));
        let z = model.latent_means(&mut tape, x).unwrap();
        assert_eq!(tape.shape(z), &[4, 2]);
        let rec = model.reconstruct(&mut tape, x).unwrap();
        let noise = tape.constant(Tensor::new(&[3, 2], [0.3, -0.5].repeat(3)));
        let samples = model.sample(&mut tape, noise, &[0, 1, 2]).unwrap();
        assert!(model.class_conditional());
        for (v, rows) in [(rec, 4), (samples, 3)] {
            assert_eq!(tape.shape(v), &[rows, 5]);
            assert!(
                tape.value(v).data().iter().all(|p| (0.0..=1.0).contains(p)),
                "Bernoulli means lie in [0, 1]"
            );
        }
        // Different classes decode the same noise differently.
        let d = tape.value(samples).data();
        assert_ne!(&d[0..5], &d[5..10], "skip {skip}");
    }
}
