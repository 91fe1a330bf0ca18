//! M1 and stacked M1+M2: the VAE loss against finite differences, and short
//! runs on real MNIST that beat chance, with M1+M2 switching phases (M1
//! frozen, latent dimensions selected) and surviving a resume.

use sparselabel::autograd::gradcheck::{check, Tolerance};
use sparselabel::autograd::ParamStore;
use sparselabel::models::head::HeadKind;
use sparselabel::models::m1::{M1Config, M1};
use sparselabel::models::{Batch, Model};
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::{Outcome, TrainConfig, Trainer};

#[test]
fn m1_loss_gradient_matches_finite_differences() {
    let mut store = ParamStore::new();
    let config = M1Config {
        input_dim: 6,
        classes: 3,
        z_dim: 2,
        hidden: vec![4],
        activation: "softplus".into(),
        head: HeadKind::Softmax,
        likelihood: sparselabel::models::likelihood::Likelihood::Bernoulli,
        train_examples: 3,
    };
    let model = M1::new(&mut store, "m1", config, &mut stream(1, "init")).unwrap();
    let mut r = stream(2, "x");
    let x = Tensor::new(
        &[3, 6],
        (0..18)
            .map(|_| rand::RngExt::random::<f32>(&mut r))
            .collect(),
    );
    let batch = Batch {
        kl_weight: 1.0,
        labelled: Tensor::zeros(&[0, 6]),
        labels: vec![],
        unlabelled: x,
        unlabelled_index: Vec::new(),
    };
    let report = check(&store, &[], Tolerance::default(), &|tape, _| {
        model.loss(tape, &batch, &mut stream(3, "sampling")).total
    });
    assert!(report.checked > 50);
    assert!(
        report.passed(),
        "M1 gradient mismatch at {}: {} vs {}",
        report.worst_at,
        report.analytic,
        report.numeric
    );
}

fn short(model: &str, head: &str, epochs: usize, pretrain: usize) -> TrainConfig {
    TrainConfig {
        model: model.into(),
        head: head.into(),
        train_limit: Some(4000),
        epochs,
        pretrain_epochs: pretrain,
        hidden: vec![200],
        z_dim: 20,
        m2_hidden: vec![100],
        m2_z_dim: 10,
        schedule: sparselabel::optim::Schedule::Constant { lr: 1e-3 },
        alpha: Some(50.0),
        ..TrainConfig::default()
    }
}

fn run(config: TrainConfig, tag: &str) -> f64 {
    let out = std::env::temp_dir().join(format!("sparselabel-{tag}-{}", std::process::id()));
    let mut t = Trainer::new(config, &out).unwrap();
    t.set_quiet(true);
    let Outcome::Finished(test) = t.run().unwrap() else {
        panic!("interrupted")
    };
    let _ = std::fs::remove_dir_all(&out);
    test.accuracy
}

#[test]
fn m1_with_either_head_beats_chance() {
    for head in ["softmax", "svm"] {
        let acc = run(short("m1", head, 3, 0), &format!("m1-{head}"));
        assert!(acc > 0.5, "m1 {head}: test accuracy {acc}");
    }
}

/// The transductive head uses the unlabelled examples: on the same short
/// run it must beat the labelled-only softmax head clearly, and survive a
/// checkpoint round trip (its graph distributions are buffers).
#[test]
fn m1_spreading_head_beats_the_labelled_only_head() {
    let softmax = run(short("m1", "softmax", 3, 0), "m1-softmax-vs");
    let out = std::env::temp_dir().join(format!("sparselabel-m1-spread-{}", std::process::id()));
    let mut t = Trainer::new(short("m1", "spreading", 3, 0), &out).unwrap();
    t.set_quiet(true);
    let Outcome::Finished(test) = t.run().unwrap() else {
        panic!("interrupted")
    };
    assert!(
        test.accuracy > softmax + 0.04,
        "spreading {} vs softmax {softmax}",
        test.accuracy
    );
    let resumed = Trainer::resume(&out).unwrap();
    let again =
        sparselabel::train::evaluate(resumed.model(), resumed.store(), resumed.test_split())
            .unwrap();
    assert_eq!(
        again.accuracy, test.accuracy,
        "eval from the checkpoint differs"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn m1m2_switches_phase_freezes_m1_and_beats_chance() {
    let out = std::env::temp_dir().join(format!("sparselabel-m1m2-{}", std::process::id()));
    let mut t = Trainer::new(short("m1m2", "softmax", 6, 3), &out).unwrap();
    t.set_quiet(true);
    let Outcome::Finished(test) = t.run().unwrap() else {
        panic!("interrupted")
    };
    let store = t.store();
    let kept = sparselabel::models::m1m2::kept_dimensions(store).unwrap();
    assert!(
        test.accuracy > 0.5,
        "m1m2 test accuracy {} ({kept} dimensions kept)",
        test.accuracy
    );
    assert!(
        kept > 0 && kept <= 20,
        "kept {kept} of 20 latent dimensions"
    );
    let (_, p) = store
        .iter()
        .find(|(_, p)| p.name == "m1.enc.0.weight")
        .unwrap();
    assert!(!p.trainable, "M1 is frozen in phase 2");
    // Resuming a finished phase-2 run rebuilds the same state from the checkpoint.
    let again = Trainer::resume(&out).unwrap();
    let e1 = sparselabel::train::evaluate(t.model(), t.store(), t.test_split()).unwrap();
    let e2 =
        sparselabel::train::evaluate(again.model(), again.store(), again.test_split()).unwrap();
    assert_eq!(e1.accuracy, e2.accuracy);
    let _ = std::fs::remove_dir_all(&out);
}
