//! Training on a user's image folder whose classes nest sub-classes: the
//! model learns the fine classes and the run also reports accuracy on the
//! coarse ones ("cats/tabby", "cats/siamese", "dogs/…" → cats, dogs).

use std::fs;
use std::path::Path;

use sparselabel::train::{Outcome, TrainConfig, Trainer};

/// An 8×8 greyscale image: a bright bar whose position encodes the fine class.
fn write_png(path: &Path, class: usize, variant: usize) {
    let (w, h) = (8u32, 8u32);
    let mut data = vec![0u8; 64];
    for y in 0..8 {
        data[y * 8 + class * 2] = 255;
        data[y * 8 + (class * 2 + 1) % 8] = 200;
    }
    data[(variant * 7) % 64] = 90; // a little variation
    let file = fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

#[test]
fn fine_classes_train_and_coarse_accuracy_is_reported() {
    let root = std::env::temp_dir().join(format!("sparselabel-images-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let classes = ["cats/tabby", "cats/siamese", "dogs/beagle", "dogs/poodle"];
    for (c, name) in classes.iter().enumerate() {
        for split in ["train", "test"] {
            let dir = root.join(split).join(name);
            fs::create_dir_all(&dir).unwrap();
            let count = if split == "train" { 30 } else { 10 };
            for v in 0..count {
                write_png(&dir.join(format!("{v}.png")), c, v);
            }
        }
    }
    let out = root.join("run");
    let config = TrainConfig {
        model: "m2".into(),
        dataset: format!("images:{}", root.display()),
        labels_per_class: Some(3),
        epochs: 8,
        batch_labelled: 12,
        batch_unlabelled: 20,
        hidden: vec![32],
        z_dim: 4,
        schedule: sparselabel::optim::Schedule::Constant { lr: 3e-3 },
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(config, &out).unwrap();
    t.set_quiet(true);
    let Outcome::Finished(test) = t.run().unwrap() else {
        panic!("interrupted")
    };
    let coarse = test
        .coarse_accuracy
        .expect("coarse accuracy for nested classes");
    assert!(
        coarse >= test.accuracy,
        "coarse {coarse} < fine {}",
        test.accuracy
    );
    assert!(test.accuracy > 0.5, "fine accuracy {}", test.accuracy);
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary["test_coarse_accuracy"].as_f64().is_some());
    let _ = fs::remove_dir_all(&root);
}
