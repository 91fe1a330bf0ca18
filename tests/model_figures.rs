//! Every run writes the model's pictures (reconstructions, samples, latent
//! map, entropy of q(y|x), most confident images); two runs with the same
//! seed write byte-identical figures, and `plot` redraws them identically
//! from the checkpoint.

use std::path::{Path, PathBuf};
use std::process::Command;

use sparselabel::train::{Outcome, TrainConfig, Trainer};

fn tiny(model: &str) -> TrainConfig {
    TrainConfig {
        model: model.into(),
        train_limit: Some(600),
        labels_per_class: Some(3),
        epochs: 1,
        batch_labelled: 10,
        batch_unlabelled: 20,
        steps_per_epoch: Some(3),
        hidden: vec![32],
        z_dim: 4,
        head: "softmax".into(),
        ..TrainConfig::default()
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-figs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn train(model: &str, out: &Path) {
    let mut t = Trainer::new(tiny(model), out).unwrap();
    t.set_quiet(true);
    assert!(matches!(t.run().unwrap(), Outcome::Finished(_)));
}

const FIGURES: &[&str] = &[
    "confusion.png",
    "curves.png",
    "loss.png",
    "reconstructions.png",
    "samples.png",
    "latent.png",
    "entropy.png",
    "confident.png",
];

fn figure_bytes(run: &Path) -> Vec<(String, Vec<u8>)> {
    FIGURES
        .iter()
        .map(|f| {
            let p = run.join("figures").join(f);
            let bytes = std::fs::read(&p).unwrap_or_else(|_| panic!("{} missing", p.display()));
            assert!(
                bytes.starts_with(b"\x89PNG"),
                "{} is not a PNG",
                p.display()
            );
            (f.to_string(), bytes)
        })
        .collect()
}

#[test]
fn m1_and_m2_runs_write_every_figure_byte_identically() {
    for model in ["m1", "m2"] {
        let (a, b) = (dir(&format!("{model}-a")), dir(&format!("{model}-b")));
        train(model, &a);
        train(model, &b);
        assert_eq!(figure_bytes(&a), figure_bytes(&b), "{model}");

        // `plot --embed pca` redraws the same pictures from the checkpoint.
        let before = figure_bytes(&a);
        for f in FIGURES {
            std::fs::remove_file(a.join("figures").join(f)).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
            .env(
                "SPARSELABEL_DATA",
                concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
            )
            .args(["plot", "--embed", "pca", "--run"])
            .arg(&a)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            FIGURES.len()
        );
        assert_eq!(
            figure_bytes(&a),
            before,
            "{model}: plot differs from training"
        );
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}

#[test]
fn semi_unsupervised_models_draw_their_figures_with_extra_classes() {
    for model in ["ssvae", "gmdgm"] {
        let out = dir(&format!("{model}-sus"));
        let config = TrainConfig {
            labelled_classes: Some("0-4".into()),
            extra_classes: 5,
            ..tiny(model)
        };
        let mut t = Trainer::new(config, &out).unwrap();
        t.set_quiet(true);
        assert!(matches!(t.run().unwrap(), Outcome::Finished(_)));
        let figures = figure_bytes(&out);
        assert_eq!(figures.len(), FIGURES.len(), "{model}");
        // A cluster model also draws its decoded cluster centres.
        let centres = std::fs::read(out.join("figures/centres.png")).unwrap();
        assert!(centres.starts_with(b"\x89PNG"), "{model}: centres.png");
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn plot_rejects_a_bad_embedding_and_a_missing_run() {
    for args in [
        vec!["plot", "--embed", "umap", "--run", "/tmp"],
        vec!["plot", "--run", "/nonexistent/run"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sparselabel"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
