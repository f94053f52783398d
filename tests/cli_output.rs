//! `--output NAME` on `info`, `explain`, `export` and `eval`, through the binary: another tensor of the graph is
//! explained, and a name the graph does not have gives one error line that lists the outputs.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
}

fn exporters() -> PathBuf {
    fixtures().join("onnx_exporters")
}

/// skl2onnx without ZipMap: outputs `label` (ArgMax → ArrayFeatureExtractor) and `probabilities` (Softmax of
/// `add_result1`, the scores).
fn sklearn() -> PathBuf {
    exporters().join("sklearn_nozipmap.onnx")
}

fn digits() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/test-images-idx3-ubyte.gz")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn stdout_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command fails with exactly one line on stderr, which is returned.
fn one_error_line(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(!out.status.success(), "{cmd:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{cmd:?}: {err}");
    errors[0].to_string()
}

fn assert_lists_the_outputs(line: &str) {
    assert!(line.contains("\"nope\""), "{line}");
    assert!(
        line.contains("\"label\"") && line.contains("\"probabilities\""),
        "{line}"
    );
    assert!(line.contains("sklearn_nozipmap.onnx"), "{line}");
}

fn read_f64(path: PathBuf) -> ArrayD<f64> {
    ArrayD::<f64>::read_npy(std::fs::File::open(&path).unwrap()).unwrap()
}

fn max_abs(a: &ArrayD<f32>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (&x, &y)| m.max((f64::from(x) - y).abs()))
}

#[test]
fn info_says_which_output_is_explained() {
    let default = stdout_ok(bin().args(["info", "--model"]).arg(sklearn()));
    assert!(
        default.contains("explaining output \"probabilities\" before its Softmax"),
        "{default}"
    );
    assert!(default.contains("ignored output [\"label\"]"), "{default}");
    let chosen = stdout_ok(
        bin()
            .args(["info", "--model"])
            .arg(sklearn())
            .args(["--output", "add_result1"]),
    );
    assert!(chosen.contains("explaining output \"add_result1\""), "{chosen}");
    assert!(!chosen.contains("before its Softmax"), "{chosen}");
    assert!(chosen.contains("outputs: 10"), "{chosen}");
    let line = one_error_line(
        bin()
            .args(["info", "--model"])
            .arg(sklearn())
            .args(["--output", "nope"]),
    );
    assert_lists_the_outputs(&line);
}

#[test]
fn explain_with_another_output_matches_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let input = exporters().join("sklearn_nozipmap.input.npy");
    let (out, logits) = (tmp.path().join("r.npy"), tmp.path().join("logits.npy"));
    stdout_ok(
        bin()
            .args(["explain", "--model"])
            .arg(sklearn())
            .args(["--output", "add_result1", "--rule", "epsilon:0.25", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .arg("--logits-out")
            .arg(&logits),
    );
    // `add_result1` is what the Softmax reads: the same scores and relevance as the default choice.
    let logit_err = max_abs(
        &read_f32(&logits),
        &read_f64(exporters().join("sklearn_nozipmap.logits.npy")),
    );
    assert!(logit_err <= 1e-4, "logits differ by {logit_err}");
    let r = read_f32(&out);
    let expected = read_f64(exporters().join("sklearn_nozipmap.epsilon.npy"));
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let err = max_abs(&r, &expected) / scale;
    assert!(err <= 1e-4, "relevance differs by {err:.3e} of its maximum");

    let line = one_error_line(
        bin()
            .args(["explain", "--model"])
            .arg(sklearn())
            .args(["--output", "nope", "--rule", "epsilon:0.25", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(tmp.path().join("never.npy")),
    );
    assert_lists_the_outputs(&line);
    assert!(!tmp.path().join("never.npy").exists());
}

#[test]
fn export_with_another_output_writes_its_pictures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("maps");
    stdout_ok(
        bin()
            .args(["export", "--model"])
            .arg(sklearn())
            .args([
                "--output",
                "add_result1",
                "--rule",
                "epsilon:0.25",
                "--samples",
                "0..3",
                "--data",
            ])
            .arg(digits())
            .arg("--out")
            .arg(&dir),
    );
    let pngs = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(pngs, 3);
    let bad = tmp.path().join("bad");
    let line = one_error_line(
        bin()
            .args(["export", "--model"])
            .arg(sklearn())
            .args([
                "--output",
                "nope",
                "--rule",
                "epsilon:0.25",
                "--samples",
                "0..3",
                "--data",
            ])
            .arg(digits())
            .arg("--out")
            .arg(&bad),
    );
    assert_lists_the_outputs(&line);
}

/// The `accuracy …` line of `eval`.
fn accuracy_line(text: &str) -> String {
    text.lines()
        .find(|l| l.to_lowercase().contains("accuracy"))
        .unwrap_or_else(|| panic!("no accuracy in {text}"))
        .to_string()
}

#[test]
fn eval_with_another_output_gives_the_same_accuracy() {
    let eval = |output: Option<&str>| {
        let mut cmd = bin();
        cmd.args(["eval", "--model"])
            .arg(sklearn())
            .arg("--data")
            .arg(digits())
            .args(["--samples", "0..500"]);
        if let Some(o) = output {
            cmd.args(["--output", o]);
        }
        cmd
    };
    let default = accuracy_line(&stdout_ok(&mut eval(None)));
    let chosen = accuracy_line(&stdout_ok(&mut eval(Some("add_result1"))));
    assert_eq!(
        default, chosen,
        "the scores before the Softmax rank the classes the same"
    );
    // `accuracy: 0.9180 (459/500)`: the small skl2onnx MLP is a real classifier.
    assert!(default.contains("/500)"), "{default}");
    let value: f64 = default
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{default}"));
    assert!(value > 0.8, "{default}");
    let line = one_error_line(&mut eval(Some("nope")));
    assert_lists_the_outputs(&line);
}

#[test]
fn output_on_a_model_with_one_output_is_refused() {
    let line = one_error_line(
        bin()
            .args(["info", "--model"])
            .arg(fixtures().join("models/mlp.npz"))
            .args(["--output", "probabilities"]),
    );
    assert!(line.contains("--output \"probabilities\""), "{line}");
    assert!(line.contains("ONNX"), "{line}");
}
