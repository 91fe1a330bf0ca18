//! Every model's whole loss, at the widths the presets use, against a
//! directional derivative: the autodiff gradient · v must match a central
//! difference of the loss along random unit directions v over all trainable
//! parameters. The per-element checks in model_m1.rs / model_m2.rs cover tiny
//! widths; this covers the real ones, with the papers' smooth softplus (a
//! step along v crosses thousands of ReLU kinks at these widths).

use sparselabel::autograd::gradcheck::directional;
use sparselabel::autograd::ParamStore;
use sparselabel::models::{build, Batch, Model, ModelSpec};
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::TrainConfig;

fn uniform(seed: u64, rows: usize, cols: usize) -> Tensor {
    let mut r = stream(seed, "x");
    Tensor::new(
        &[rows, cols],
        (0..rows * cols)
            .map(|_| rand::RngExt::random::<f32>(&mut r))
            .collect(),
    )
}

fn batch(dim: usize) -> Batch {
    Batch {
        kl_weight: 1.0,
        labelled: uniform(2, 3, dim),
        labels: vec![4, 0, 9],
        unlabelled: uniform(3, 4, dim),
        unlabelled_index: Vec::new(),
    }
}

fn model(config: &TrainConfig, store: &mut ParamStore) -> Box<dyn Model> {
    let spec = ModelSpec {
        input_dim: 784,
        classes: 10,
        labelled: 100,
        unlabelled: 49_900,
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

#[test]
fn m2_full_loss_along_random_directions() {
    for likelihood in ["bernoulli", "gaussian"] {
        let config = TrainConfig {
            model: "m2".into(),
            hidden: vec![500],
            likelihood: likelihood.into(),
            activation: "softplus".into(),
            ..TrainConfig::default()
        };
        let mut store = ParamStore::new();
        let m = model(&config, &mut store);
        assert_directional(&format!("m2 {likelihood}"), &store, m.as_ref(), &batch(784));
    }
}

#[test]
fn m1_loss_along_random_directions() {
    let config = TrainConfig {
        model: "m1".into(),
        hidden: vec![500, 500],
        activation: "softplus".into(),
        ..TrainConfig::default()
    };
    let mut store = ParamStore::new();
    let m = model(&config, &mut store);
    assert_directional("m1", &store, m.as_ref(), &batch(784));
}

#[test]
fn m1m2_loss_in_both_phases_along_random_directions() {
    let config = TrainConfig {
        model: "m1m2".into(),
        hidden: vec![500, 500],
        m2_hidden: vec![300],
        activation: "softplus".into(),
        ..TrainConfig::default()
    };
    let mut store = ParamStore::new();
    let m = model(&config, &mut store);
    assert_directional("m1m2 phase 1", &store, m.as_ref(), &batch(784));
    // Phase 2 as the trainer leaves it: M1 frozen, M2 on its latent codes.
    let phase = store.id("m1m2.phase").unwrap();
    store.get_mut(phase).value = Tensor::new(&[1], vec![1.0]);
    let m1_params: Vec<_> = store
        .iter()
        .filter(|(_, p)| p.name.starts_with("m1."))
        .map(|(id, _)| id)
        .collect();
    for id in m1_params {
        store.get_mut(id).trainable = false;
    }
    assert_directional("m1m2 phase 2", &store, m.as_ref(), &batch(784));
}
