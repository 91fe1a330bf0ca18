//! The ADGM/SDGM training flags on the command line: bad values exit with
//! status 2 and a message naming the flag; good ones reach config.json;
//! config.json files written before the flags existed still load.

use std::process::Command;

use sparselabel::train::TrainConfig;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparselabel"))
}

/// Runs `train` with `args` and returns (status, stderr).
fn train(args: &[&str]) -> (Option<i32>, String) {
    let out = bin().arg("train").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--model", "adgm", "--mc-samples", "0"], "--mc-samples"),
        (&["--model", "adgm", "--clip-value", "0"], "--clip-value"),
        (&["--model", "sdgm", "--clip-value=-1"], "--clip-value"),
        (&["--model", "adgm", "--clip-value", "NaN"], "--clip-value"),
        (&["--model", "adgm", "--clip-norm", "0"], "--clip-norm"),
        (&["--model", "adgm", "--mc-samples", "two"], "--mc-samples"),
        (&["--model", "sdgm", "--arch", "conv"], "--arch conv"),
        (&["--model", "adgn"], "--model adgn"),
    ];
    for (args, flag) in cases {
        let (code, err) = train(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn flags_reach_the_config_and_a_tiny_run_finishes() {
    let out = std::env::temp_dir().join(format!("sparselabel-cli-aux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let args = [
        "--preset",
        "maaloe-sdgm-mnist100",
        "--train-limit",
        "300",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--batch",
        "10",
        "--batch-labelled",
        "10",
        "--mc-samples",
        "2",
        "--clip-value",
        "0.5",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, err) = train(&args);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(out.join("config.json")).unwrap();
    let c: TrainConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(c.model, "sdgm");
    assert_eq!(c.mc_samples, 2);
    assert_eq!(c.clip_value, Some(0.5));
    assert_eq!(c.clip_norm, Some(5.0), "the preset's norm clip stays");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn old_configs_without_the_new_fields_load_with_defaults() {
    let mut v = serde_json::to_value(TrainConfig::default()).unwrap();
    for key in ["clip_value", "mc_samples", "a_dim"] {
        v.as_object_mut().unwrap().remove(key).unwrap();
    }
    let c: TrainConfig = serde_json::from_value(v).unwrap();
    assert_eq!(c.clip_value, None);
    assert_eq!(c.mc_samples, 1);
    assert_eq!(c.a_dim, 100);
}
