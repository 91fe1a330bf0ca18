//! SDGM (Maaløe et al. 2016, skip variant with batch-norm): the whole loss
//! against finite differences (tiny widths) and along random directions
//! (preset widths); the batch-norm statistics of a class-enumerated batch
//! are those of its distinct inputs; 200 short epochs stay finite.

use sparselabel::autograd::gradcheck::{check, directional, Tolerance};
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::models::adgm::{enumerated_row_weights, AdgmConfig};
use sparselabel::models::enumerate::stack_rows;
use sparselabel::models::likelihood::Likelihood;
use sparselabel::models::{build, sdgm, Batch, Model, ModelSpec};
use sparselabel::nn::BatchNorm;
use sparselabel::ops;
use sparselabel::rng::stream;
use sparselabel::tensor::Tensor;
use sparselabel::train::{Outcome, RunDir, TrainConfig, Trainer};

fn uniform(seed: u64, rows: usize, cols: usize) -> Tensor {
    let mut r = stream(seed, "x");
    Tensor::new(
        &[rows, cols],
        (0..rows * cols)
            .map(|_| rand::RngExt::random::<f32>(&mut r))
            .collect(),
    )
}

#[test]
fn full_loss_gradient_matches_finite_differences() {
    let config = AdgmConfig {
        input_dim: 5,
        classes: 3,
        a_dim: 2,
        z_dim: 2,
        hidden: vec![4, 3],
        activation: "softplus".into(),
        alpha: 2.0,
        labelled_weight: 1.0,
        likelihood: Likelihood::Bernoulli,
        mc_samples: 1,
        skip: true,
        batch_norm: true,
        eval_seed: 7,
    };
    let mut store = ParamStore::new();
    let model = sdgm::new(&mut store, config, &mut stream(1, "init")).unwrap();
    let batch = Batch {
        kl_weight: 0.7,
        labelled: uniform(2, 2, 5),
        labels: vec![2, 0],
        unlabelled: uniform(3, 3, 5),
        unlabelled_index: Vec::new(),
    };
    let report = check(&store, &[], Tolerance::default(), &|tape, _| {
        model.loss(tape, &batch, &mut stream(4, "sampling")).total
    });
    assert!(report.checked > 200, "checked {}", report.checked);
    assert!(
        report.passed(),
        "SDGM loss gradient mismatch at {}: {} vs {}",
        report.worst_at,
        report.analytic,
        report.numeric
    );
}

#[test]
fn loss_along_random_directions_at_preset_widths() {
    let config = TrainConfig {
        model: "sdgm".into(),
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
    // One ULP of the f32 loss (~10³) over 2ε is ~1.2·10⁻³: an absolute
    // allowance of 3·10⁻³ on top of the 2 % relative one.
    report.assert_within_abs("sdgm", 2e-2, 3e-3);
    report.assert_informative("sdgm");
}

/// Batch-norm outputs and running statistics for `x`, with `weights`.
fn bn_pass(x: &Tensor, weights: Option<&[f32]>) -> (Tensor, Vec<f32>, Vec<f32>) {
    let mut store = ParamStore::new();
    let bn = BatchNorm::new(&mut store, "bn", x.shape()[1]);
    store.get_mut(bn.params.gamma).value = uniform(11, 1, 4).reshape(&[4]);
    let mut tape = Tape::new(&store);
    let xv = tape.input(x.clone());
    let y = bn.forward_weighted(&mut tape, xv, weights);
    let out = tape.value(y).clone();
    let total = ops::sum_all(&mut tape, y);
    let grads = tape.backward(total).unwrap();
    let mut running = std::collections::HashMap::new();
    for (id, v) in grads.buffer_updates() {
        running.insert(id, v.data().to_vec());
    }
    (
        out,
        running[&bn.params.running_mean].clone(),
        running[&bn.params.running_var].clone(),
    )
}

#[test]
fn enumerated_batch_norm_statistics_are_those_of_the_distinct_inputs() {
    // 3 labelled and 5 unlabelled inputs; the enumerated batch holds the
    // labelled ones once and the unlabelled ones K = 4 times.
    let (bl, bu, k) = (3, 5, 4);
    let lab = uniform(20, bl, 4);
    let unl = uniform(21, bu, 4);
    let distinct = stack_rows(&[(&lab, 1), (&unl, 1)], 4);
    let tiled = stack_rows(&[(&lab, 1), (&unl, k)], 4);
    let (y_d, mean_d, var_d) = bn_pass(&distinct, None);
    let w = enumerated_row_weights(bl, bu, k);
    let (y_t, mean_t, var_t) = bn_pass(&tiled, Some(&w));
    let close = |a: &[f32], b: &[f32], what: &str| {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{what}: {a:?} vs {b:?}");
        }
    };
    close(&mean_t, &mean_d, "running mean");
    close(&var_t, &var_d, "running variance");
    // Every enumerated copy is normalised as its distinct input.
    let yt = y_t.data();
    let yd = y_d.data();
    close(&yt[..bl * 4], &yd[..bl * 4], "labelled rows");
    for t in 0..k {
        let copy = &yt[(bl + t * bu) * 4..(bl + (t + 1) * bu) * 4];
        close(copy, &yd[bl * 4..], "unlabelled copy");
    }
    // Unweighted statistics over the tiled rows differ: the trap we avoid.
    let (_, mean_naive, _) = bn_pass(&tiled, None);
    assert!(
        mean_naive
            .iter()
            .zip(&mean_d)
            .any(|(a, b)| (a - b).abs() > 1e-4),
        "the test batch should tell weighted from unweighted statistics"
    );
}

#[test]
fn two_hundred_short_epochs_stay_finite() {
    let out = std::env::temp_dir().join(format!("sparselabel-sdgm-finite-{}", std::process::id()));
    let config = TrainConfig {
        model: "sdgm".into(),
        train_limit: Some(300),
        epochs: 200,
        steps_per_epoch: Some(2),
        batch_labelled: 20,
        batch_unlabelled: 20,
        hidden: vec![16, 16],
        z_dim: 4,
        a_dim: 4,
        clip_norm: Some(5.0),
        clip_value: Some(1.0),
        // A high rate makes trouble come sooner than the paper's 3e-4.
        schedule: sparselabel::optim::Schedule::Constant { lr: 3e-3 },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config, &out).unwrap();
    trainer.set_quiet(true);
    let Outcome::Finished(test) = trainer.run().unwrap() else {
        panic!("not interrupted")
    };
    let losses = RunDir::open(&out).unwrap().epoch_losses();
    assert_eq!(losses.len(), 200);
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "non-finite epoch loss: {losses:?}"
    );
    assert!(losses[199] < losses[0], "loss should fall: {losses:?}");
    assert!(test.accuracy.is_finite() && test.accuracy > 0.1);
    let _ = std::fs::remove_dir_all(&out);
}
