//! `lrp-explorer explain` and `info` as a user runs them: every Zennit fixture configuration through the binary,
//! with the ONNX fixture models, and one clear error line for bad input.

mod common;

use std::path::Path;
use std::process::Command;

use ndarray::ArrayD;

use common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn input_file(model: &str) -> std::path::PathBuf {
    match model {
        "mlp" => fixtures().join("inputs/images_flat.npy"),
        _ => fixtures().join("inputs/images_nchw.npy"),
    }
}

fn check_model(model: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = fixtures().join(format!("models/{model}.onnx"));
    let dir = fixtures().join("zennit").join(model);
    let mut failures = vec![];
    for config in zennit_configs(model) {
        let out = tmp.path().join(format!("{config}.npy"));
        let layers = tmp.path().join(format!("{config}_layers"));
        let logits = tmp.path().join(format!("{config}_logits.npy"));
        run_ok(
            bin()
                .args(["explain", "--model"])
                .arg(&onnx)
                .arg("--input")
                .arg(input_file(model))
                .args(["--rule", &spec_for_config(&config), "--init", "onehot", "--out"])
                .arg(&out)
                .arg("--layers-out")
                .arg(&layers)
                .arg("--logits-out")
                .arg(&logits),
        );
        let logit_err = max_norm_err(&read_f32(&logits), &read_f32(dir.join("logits.npy")));
        assert!(logit_err < 1e-4, "{config} logits {logit_err}");
        let r = read_f32(&out);
        assert_eq!(r.shape(), read_f32(input_file(model)).shape(), "R has the shape of X");
        for (k, path) in stored_layers(&dir.join(&config)) {
            let got = if k == 0 {
                r.clone()
            } else {
                read_f32(layers.join(format!("{k}.npy")))
            };
            let err = max_norm_err(&got, &read_f32(&path));
            if err > 1e-4 {
                failures.push(format!("{model}/{config} layer {k}: {err:.3e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explain_cli_matches_zennit_mlp() {
    check_model("mlp");
}

#[test]
fn explain_cli_matches_zennit_cnn() {
    check_model("cnn");
}

#[test]
fn explain_cli_logit_init_is_the_default_and_target_can_be_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = fixtures().join("models/mlp.onnx");
    let out = tmp.path().join("r.npy");
    run_ok(
        bin()
            .args(["explain", "--model"])
            .arg(&onnx)
            .arg("--input")
            .arg(input_file("mlp"))
            .args(["--rule", "epsilon:0.01", "--out"])
            .arg(&out),
    );
    let expected = read_f32(fixtures().join("toolbox/mlp/epsilon_0.01/R_input.npy"));
    assert!(max_norm_err(&read_f32(&out), &expected) < 1e-4);
    // Class 3 instead of the prediction: different relevance, still the input's shape.
    run_ok(
        bin()
            .args(["explain", "--model"])
            .arg(&onnx)
            .arg("--input")
            .arg(input_file("mlp"))
            .args(["--rule", "epsilon:0.01", "--target", "3", "--out"])
            .arg(&out),
    );
    assert!(max_norm_err(&read_f32(&out), &expected) > 0.1);
}

fn run_err(args: &[&str], cwd: &Path) -> String {
    let out = bin().args(args).current_dir(cwd).output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line expected, got {err}");
    err
}

#[test]
fn explain_cli_errors_are_one_clear_line() {
    let fx = fixtures();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("x.npy"), b"not an npy file").unwrap();
    let mlp = fx.join("models/mlp.onnx");
    let mlp = mlp.to_str().unwrap();
    let flat = fx.join("inputs/images_flat.npy");
    let flat = flat.to_str().unwrap();
    let nchw_model = fx.join("models/cnn.onnx");
    let labels = fx.join("inputs/labels.npy");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "explain", "--model", mlp, "--input", flat, "--rule", "bogus", "--out", "r.npy",
            ],
            "unknown rule",
        ),
        (
            vec![
                "explain",
                "--model",
                "missing.onnx",
                "--input",
                flat,
                "--rule",
                "lrp0",
                "--out",
                "r.npy",
            ],
            "missing.onnx",
        ),
        (
            vec![
                "explain", "--model", mlp, "--input", "x.npy", "--rule", "lrp0", "--out", "r.npy",
            ],
            "x.npy",
        ),
        (
            vec![
                "explain", "--model", mlp, "--input", flat, "--rule", "lrp0", "--target", "12", "--out", "r.npy",
            ],
            "out of range",
        ),
        (
            vec![
                "explain",
                "--model",
                nchw_model.to_str().unwrap(),
                "--input",
                labels.to_str().unwrap(),
                "--rule",
                "lrp0",
                "--out",
                "r.npy",
            ],
            "labels.npy",
        ),
    ];
    for (args, needle) in cases {
        let err = run_err(&args, tmp.path());
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn info_lists_layers() {
    let out = run_ok(bin().args(["info", "--model"]).arg(fixtures().join("models/cnn.onnx")));
    for needle in ["Conv2d", "MaxPool2d", "Flatten", "Dense", "[1, 28, 28]", "[16, 4, 4]"] {
        assert!(out.contains(needle), "{needle} missing in\n{out}");
    }
    assert_eq!(
        out.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count(),
        10,
        "{out}"
    );
}

/// More samples than one chunk of the batched engine: the chunks are explained on several threads and
/// joined in order, for the input relevance, every layer and the logits.
#[test]
fn explain_cli_joins_chunks_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let x = read_f32(input_file("cnn"));
    let rows = x.shape()[0];
    let copies = 9; // 72 samples: two full chunks and a partial one
    let views: Vec<_> = (0..copies).map(|_| x.view()).collect();
    let tiled = ndarray::concatenate(ndarray::Axis(0), &views).unwrap();
    let input = tmp.path().join("tiled.npy");
    ndarray_npy::write_npy(&input, &tiled).unwrap();
    let (out, layers, logits) = (
        tmp.path().join("r.npy"),
        tmp.path().join("layers"),
        tmp.path().join("l.npy"),
    );
    run_ok(
        bin()
            .args(["explain", "--model"])
            .arg(fixtures().join("models/cnn.onnx"))
            .arg("--input")
            .arg(&input)
            .args(["--rule", "epsilon_plus_flat", "--init", "onehot", "--out"])
            .arg(&out)
            .arg("--layers-out")
            .arg(&layers)
            .arg("--logits-out")
            .arg(&logits),
    );
    let dir = fixtures().join("zennit/cnn");
    let tile = |a: ArrayD<f32>| {
        let views: Vec<_> = (0..copies).map(|_| a.view()).collect();
        ndarray::concatenate(ndarray::Axis(0), &views).unwrap()
    };
    assert!(max_norm_err(&read_f32(&logits), &tile(read_f32(dir.join("logits.npy")))) < 1e-4);
    let r = read_f32(&out);
    assert_eq!(r.shape()[0], rows * copies);
    for (k, path) in stored_layers(&dir.join("epsilon_plus_flat")) {
        let got = if k == 0 {
            r.clone()
        } else {
            read_f32(layers.join(format!("{k}.npy")))
        };
        let err = max_norm_err(&got, &tile(read_f32(&path)));
        assert!(err < 1e-4, "layer {k}: {err:.3e}");
    }
}

/// `info --rule` counts the arithmetic of an explanation: for the MLP with ε, the forward pass and the relevance
/// pass each cost one multiply-add per weight.
#[test]
fn info_counts_the_multiply_adds_of_a_rule() {
    let out = run_ok(
        bin()
            .args(["info", "--model"])
            .arg(fixtures().join("models/mlp.onnx"))
            .args(["--rule", "epsilon:0.25"]),
    );
    assert!(
        out.contains("532400 multiply-adds per sample (forward 266200, relevance 266200), 1.065 MFLOP"),
        "{out}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let err = run_err(
        &[
            "info",
            "--model",
            fixtures().join("models/mlp.onnx").to_str().unwrap(),
            "--rule",
            "gradient",
        ],
        tmp.path(),
    );
    assert!(err.contains("LRP rules"), "{err}");
}
