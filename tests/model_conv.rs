//! `--arch conv`: M1 and M2 with convolutional networks.
//!
//! * forward and backward at the default widths on 1×28×28, 3×32×32 and an
//!   odd 3×20×17 (the decoder's ×8 upsampling overshoots and is cropped);
//! * the whole loss of each model against finite differences of every
//!   parameter on tiny images (batch-norm in training mode, dropout on with
//!   the fixed sampling stream, softplus so no ReLU kink sits within ε);
//! * short runs on real MNIST whose loss falls and whose accuracy beats
//!   chance clearly, and on a folder of 20×17 RGB pictures;
//! * `--arch conv` on non-image data exits with status 2 and says why.

use sparselabel::autograd::gradcheck::{check, Tolerance};
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::models::conv_arch::{Arch, ConvArch};
use sparselabel::models::head::HeadKind;
use sparselabel::models::likelihood::Likelihood;
use sparselabel::models::m1::{M1Config, M1};
use sparselabel::models::m2::M2Config;
use sparselabel::models::m2_conv::ConvM2;
use sparselabel::models::{build, Batch, Model, ModelSpec};
use sparselabel::nn::Activation;
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

fn batch(dim: usize, labels: Vec<usize>, unlabelled: usize) -> Batch {
    Batch {
        kl_weight: 1.0,
        labelled: uniform(2, labels.len(), dim),
        labels,
        unlabelled: uniform(3, unlabelled, dim),
        unlabelled_index: Vec::new(),
    }
}

#[test]
fn default_conv_models_run_forward_and_backward_on_any_image_shape() {
    for image in [[1, 28, 28], [3, 32, 32], [3, 20, 17]] {
        let dim: usize = image.iter().product();
        for model in ["m1", "m2"] {
            let config = TrainConfig {
                model: model.into(),
                arch: "conv".into(),
                hidden: vec![64],
                z_dim: 8,
                ..TrainConfig::default()
            };
            let spec = ModelSpec {
                input_dim: dim,
                classes: 4,
                labelled: 40,
                unlabelled: 400,
                image_shape: Some(image),
            };
            let mut store = ParamStore::new();
            let m = build(&config, &spec, &mut store, &mut stream(1, "init")).unwrap();
            let b = batch(dim, vec![3, 0, 1], 4);
            let mut tape = Tape::new(&store);
            let loss = m.loss(&mut tape, &b, &mut stream(2, "sampling"));
            let value = tape.value(loss.total).item();
            assert!(value.is_finite(), "{model} {image:?}: loss {value}");
            let grads = tape.backward(loss.total).unwrap();
            // Every trainable tensor gets a finite gradient; the classifier
            // and both networks of the bound get a non-zero one.
            for (id, p) in store.iter().filter(|(_, p)| p.trainable) {
                let g = grads
                    .param(id)
                    .unwrap_or_else(|| panic!("{model} {image:?}: no gradient for {}", p.name));
                assert!(g.all_finite(), "{model} {image:?}: {}", p.name);
            }
            let nonzero = |prefix: &str| {
                store
                    .iter()
                    .filter(|(_, p)| p.trainable && p.name.starts_with(prefix))
                    .any(|(id, _)| grads.param(id).unwrap().data().iter().any(|&v| v != 0.0))
            };
            let prefixes: &[&str] = if model == "m1" {
                &["m1.enc.conv", "m1.enc.dense", "m1.dec.up"]
            } else {
                &["qy.conv", "qz.conv", "qz.dense", "px.in", "px.up"]
            };
            for p in prefixes {
                assert!(nonzero(p), "{model} {image:?}: zero gradient for {p}*");
            }
            drop(tape);
            // Evaluation mode: running statistics, no dropout, (B, K) out.
            let mut eval = Tape::no_grad(&store);
            let x = eval.constant(uniform(4, 5, dim));
            let lp = m.class_log_probs(&mut eval, x);
            assert_eq!(eval.shape(lp), &[5, 4], "{model} {image:?}");
            assert!(eval.value(lp).all_finite());
        }
    }
}

/// A tiny conv architecture: few channels, so every parameter can be
/// perturbed in turn; softplus, so no ReLU kink sits within a step ε.
fn tiny(image: [usize; 3]) -> ConvArch {
    ConvArch {
        image,
        channels: [2, 3, 2],
        decoder_channels: [3, 2, 2, 2],
        dropout: 0.3,
        activation: Activation::Softplus,
    }
}

/// ε = 3e-3 rather than the default 1e-3: these losses sum 30–64 pixels
/// per example, so with f32 losses of ≈ 50 a step of 1e-3 moves L by a few
/// ulps only (observed worst ratio 0.93 of the tolerance, and exact zeros);
/// at 3e-3 the worst ratio is ≈ 0.4, while the truncation error of the
/// central difference stays far smaller. A 10 % error in the max-pool
/// backward fails this check by a ratio of ≈ 6.
fn assert_gradient(name: &str, store: &ParamStore, model: &dyn Model, batch: &Batch) {
    let tol = Tolerance {
        eps: 3e-3,
        ..Tolerance::default()
    };
    let report = check(store, &[], tol, &|tape, _| {
        model.loss(tape, batch, &mut stream(4, "sampling")).total
    });
    assert!(report.checked > 300, "{name}: checked {}", report.checked);
    assert!(
        report.passed(),
        "{name}: loss gradient mismatch at {}: {} vs {}",
        report.worst_at,
        report.analytic,
        report.numeric
    );
}

#[test]
fn conv_m2_loss_gradient_matches_finite_differences() {
    for (image, likelihood) in [
        ([1, 8, 8], Likelihood::Bernoulli),
        ([2, 5, 3], Likelihood::Gaussian),
    ] {
        let dim: usize = image.iter().product();
        let config = M2Config {
            input_dim: dim,
            classes: 3,
            z_dim: 2,
            hidden: vec![4],
            activation: "softplus".into(),
            alpha: 2.0,
            labelled_weight: 1.0,
            likelihood,
        };
        let mut store = ParamStore::new();
        let model = ConvM2::new(&mut store, config, tiny(image), &mut stream(1, "init")).unwrap();
        let b = Batch {
            kl_weight: 0.7,
            ..batch(dim, vec![2, 0], 3)
        };
        assert_gradient(
            &format!("conv m2 {image:?} {likelihood:?}"),
            &store,
            &model,
            &b,
        );
    }
}

#[test]
fn conv_m1_loss_gradient_matches_finite_differences() {
    let image = [2, 7, 5];
    let dim: usize = image.iter().product();
    let config = M1Config {
        input_dim: dim,
        classes: 3,
        z_dim: 2,
        hidden: vec![4],
        activation: "softplus".into(),
        head: HeadKind::Softmax,
        likelihood: Likelihood::Bernoulli,
        train_examples: 0,
    };
    let mut store = ParamStore::new();
    let arch = Arch::Conv(tiny(image));
    let model = M1::with_arch(&mut store, "m1", config, &arch, &mut stream(1, "init")).unwrap();
    assert_gradient("conv m1", &store, &model, &batch(dim, vec![], 4));
}

/// Trains `config` on the first 3,000 MNIST training examples for two
/// short epochs; the per-epoch losses and the test accuracy.
fn short_mnist_run(tag: &str, config: TrainConfig) -> (Vec<f64>, f64) {
    let out = std::env::temp_dir().join(format!("sparselabel-conv-{tag}-{}", std::process::id()));
    let config = TrainConfig {
        arch: "conv".into(),
        train_limit: Some(3000),
        epochs: 2,
        steps_per_epoch: Some(15),
        hidden: vec![128],
        z_dim: 16,
        schedule: sparselabel::optim::Schedule::Constant { lr: 1e-3 },
        ..config
    };
    let mut trainer = Trainer::new(config, &out).unwrap();
    trainer.set_quiet(true);
    let Outcome::Finished(test) = trainer.run().unwrap() else {
        panic!("not interrupted")
    };
    let losses = sparselabel::train::RunDir::open(&out)
        .unwrap()
        .epoch_losses();
    let _ = std::fs::remove_dir_all(&out);
    (losses, test.accuracy)
}

#[test]
fn short_conv_m2_training_on_mnist_learns() {
    let (losses, accuracy) = short_mnist_run(
        "m2",
        TrainConfig {
            model: "m2".into(),
            batch_labelled: 50,
            batch_unlabelled: 50,
            ..TrainConfig::default()
        },
    );
    assert!(losses[1] < losses[0], "loss should fall: {losses:?}");
    // 100 labels, 30 steps of 50 + 50 examples: well above chance (10 %).
    assert!(accuracy > 0.5, "test accuracy {accuracy}");
}

#[test]
fn short_conv_m1_training_on_mnist_learns() {
    let (losses, accuracy) = short_mnist_run(
        "m1",
        TrainConfig {
            model: "m1".into(),
            batch_labelled: 0,
            batch_unlabelled: 100,
            ..TrainConfig::default()
        },
    );
    assert!(losses[1] < losses[0], "loss should fall: {losses:?}");
    // A softmax head on the means of a VAE trained for 30 steps.
    assert!(accuracy > 0.3, "test accuracy {accuracy}");
}

/// A 17-wide, 20-high RGB picture: class c lights channel c in a band
/// whose place also depends on c, over seeded noise.
fn write_rgb_png(path: &std::path::Path, class: usize, seed: u64) {
    let (w, h) = (17usize, 20usize);
    let mut r = stream(seed, "rgb");
    let mut data = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..3 {
                let noise = (rand::RngExt::random::<f32>(&mut r) * 90.0) as u8;
                let band = ch == class && (y / 5 == class || x / 5 == class);
                data[(y * w + x) * 3 + ch] = if band { 255 - noise / 2 } else { noise };
            }
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

#[test]
fn conv_m2_trains_on_an_rgb_image_folder_of_odd_size() {
    let root = std::env::temp_dir().join(format!("sparselabel-conv-rgb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (c, name) in ["red", "green", "blue"].iter().enumerate() {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for v in 0..60 {
            write_rgb_png(&dir.join(format!("{v}.png")), c, (c * 1000 + v) as u64);
        }
    }
    let config = TrainConfig {
        model: "m2".into(),
        arch: "conv".into(),
        dataset: format!("images:{}", root.display()),
        labels_per_class: Some(3),
        epochs: 4,
        batch_labelled: 9,
        batch_unlabelled: 20,
        hidden: vec![32],
        z_dim: 4,
        schedule: sparselabel::optim::Schedule::Constant { lr: 1e-3 },
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(config, &root.join("run")).unwrap();
    t.set_quiet(true);
    let Outcome::Finished(test) = t.run().unwrap() else {
        panic!("interrupted")
    };
    // Three classes (chance 1/3), told apart by colour.
    assert!(test.accuracy > 0.8, "test accuracy {}", test.accuracy);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn conv_on_plain_feature_rows_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("sparselabel-conv-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("rows.csv");
    let mut text = String::from("a,b,c,label\n");
    for i in 0..60 {
        text.push_str(&format!("{},{},{},{}\n", i % 7, i % 5, i % 3, i % 2));
    }
    std::fs::write(&csv, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sparselabel"))
        .args(["train", "--model", "m2", "--arch", "conv", "--epochs", "1"])
        .arg("--dataset")
        .arg(format!("csv:{}", csv.display()))
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("--arch conv needs image data"),
        "stderr: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
