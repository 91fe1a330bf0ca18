//! Continuous features (sensor-like data in a .npy file, not in [0, 1]):
//! M1 and M2 with a Gaussian likelihood (learnt variance, and M2 with a fixed
//! σ) learn three separated clusters from 5 labels per class, and a Bernoulli likelihood with binarisation is
//! refused for such a configuration only when asked for a Gaussian one.

use rand::RngExt;
use sparselabel::data::npy::write_npy;
use sparselabel::train::{Outcome, TrainConfig, Trainer};

fn blobs(dir: &std::path::Path) -> String {
    let mut rng = sparselabel::rng::stream(5, "blobs");
    let (n, d) = (1500, 12);
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 3;
        for j in 0..d {
            let centre = if j % 3 == c { 6.0 } else { -2.0 };
            let noise: f32 = rng.random::<f32>() * 2.0 - 1.0;
            x.push(centre + 1.5 * noise + 10.0 * (j as f32 / d as f32));
        }
        y.push(c as i64);
    }
    std::fs::create_dir_all(dir).unwrap();
    write_npy(&dir.join("x.npy"), &[n, d], &x).unwrap();
    write_npy(&dir.join("y.npy"), &[n], &y).unwrap();
    format!(
        "npy:{},{}",
        dir.join("x.npy").display(),
        dir.join("y.npy").display()
    )
}

#[test]
fn gaussian_likelihood_models_learn_continuous_clusters() {
    let dir = std::env::temp_dir().join(format!("sparselabel-continuous-{}", std::process::id()));
    let spec = blobs(&dir);
    for (model, likelihood) in [
        ("m2", "gaussian"),
        ("m1", "gaussian"),
        ("m2", "gaussian:0.5"),
    ] {
        let config = TrainConfig {
            model: model.into(),
            dataset: spec.clone(),
            likelihood: likelihood.into(),
            binarize: "none".into(),
            labels_per_class: Some(5),
            epochs: 6,
            batch_labelled: 15,
            batch_unlabelled: 50,
            hidden: vec![32],
            z_dim: 4,
            schedule: sparselabel::optim::Schedule::Constant { lr: 3e-3 },
            ..TrainConfig::default()
        };
        let mut t = Trainer::new(config, &dir.join(format!("{model}-{likelihood}"))).unwrap();
        t.set_quiet(true);
        let Outcome::Finished(test) = t.run().unwrap() else {
            panic!("interrupted")
        };
        assert!(
            test.accuracy > 0.8,
            "{model} {likelihood}: test accuracy {}",
            test.accuracy
        );
    }
    // A Gaussian likelihood on binarised data is a configuration error.
    let bad = TrainConfig {
        likelihood: "gaussian".into(),
        ..TrainConfig::default()
    };
    assert_eq!(bad.validate().unwrap_err().exit_code(), 2);
    for nonsense in ["gaussian:0", "gaussian:-1", "gaussian:x", "poisson"] {
        let bad = TrainConfig {
            likelihood: nonsense.into(),
            binarize: "none".into(),
            ..TrainConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().exit_code(), 2, "{nonsense}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
