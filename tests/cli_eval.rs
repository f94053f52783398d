//! `lrp-explorer eval` and `info --data` on real files: the fixture CNN and the LRP Toolbox's LeNet-5 on the
//! Toolbox's 10,000 MNIST test digits (`../shared/lrp-toolbox`, skipped when absent), and the bundled defaults.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::fixtures;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
}

fn toolbox() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/lrp-toolbox");
    if dir.join("test_images.mat").is_file() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found", dir.display());
        None
    }
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fixture_cnn_on_the_toolbox_test_set() {
    let Some(dir) = toolbox() else { return };
    let out = stdout_of(
        bin()
            .args(["eval", "--model"])
            .arg(fixtures().join("models/cnn.onnx"))
            .arg("--data")
            .arg(dir.join("test_images.mat")),
    );
    assert!(out.starts_with("accuracy: 0.9803 (9803/10000)\n"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("class ")).count(), 10, "{out}");
}

#[test]
fn toolbox_lenet5_with_its_own_preprocessing() {
    let Some(dir) = toolbox() else { return };
    let out = stdout_of(
        bin()
            .args(["eval", "--model"])
            .arg(dir.join("LeNet-5.txt"))
            .arg("--data")
            .arg(dir.join("test_images.mat"))
            .args(["--preprocess", "range=-1,1;pad=2"]),
    );
    assert!(out.starts_with("accuracy: 0.9924 (9924/10000)\n"), "{out}");
    // Without --preprocess, the LRP Toolbox's own [-1, 1] convention and the padding of its 32×32 input.
    let output = bin()
        .args(["eval", "--model"])
        .arg(dir.join("LeNet-5.txt"))
        .arg("--data")
        .arg(dir.join("test_images.mat"))
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(out.starts_with("accuracy: 0.9924 (9924/10000)\n"), "{out}{err}");
}

#[test]
fn a_wrong_preprocessing_is_refused_clearly() {
    let Some(dir) = toolbox() else { return };
    let out = bin()
        .args(["eval", "--model"])
        .arg(dir.join("LeNet-5.txt"))
        .arg("--data")
        .arg(dir.join("test_images.mat"))
        .args(["--preprocess", "pad=1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("30x30 = 900 values, but the model takes 1024"), "{err}");
}

#[test]
fn info_data_prints_count_shape_and_labels() {
    let out = stdout_of(
        bin()
            .args(["info", "--data"])
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/test-images-idx3-ubyte.gz")),
    );
    assert!(out.contains("samples: 2000"), "{out}");
    assert!(out.contains("shape: 28x28"), "{out}");
    assert!(out.contains("0:200"), "{out}");
}

#[test]
fn faithfulness_rules_beat_the_random_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("curves.csv");
    let png = tmp.path().join("curves.png");
    let out = stdout_of(
        bin()
            .args(["eval", "--faithfulness", "--model"])
            .arg(fixtures().join("models/cnn.onnx"))
            .arg("--data")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/test-images-idx3-ubyte.gz"))
            .args([
                "--samples",
                "0..40",
                "--rule",
                "epsilon_plus_flat",
                "--rule",
                "gradient",
                "--csv",
            ])
            .arg(&csv)
            .arg("--plot")
            .arg(&png),
    );
    let aopc = |name: &str| -> f32 {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{out}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(aopc("epsilon_plus_flat") > aopc("random"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    // One row per point (21), one column per curve: the window's format.
    assert!(
        text.starts_with("removed,epsilon_plus_flat,gradient,random\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1 + 21, "{text}");
    // The plot: one colour per rule and the grey baseline.
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), lrp_explorer::heatmap::plot::PLOT_SIZE);
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == [c[0], c[1], c[2], 255]).count();
    use lrp_explorer::heatmap::plot::{BASELINE_COLOR, PALETTE};
    assert!(count(PALETTE[0]) > 100 && count(PALETTE[1]) > 100 && count(BASELINE_COLOR) > 50);
    // The same command again refuses to overwrite the curves.
    let again = bin()
        .args(["eval", "--faithfulness", "--model"])
        .arg(fixtures().join("models/cnn.onnx"))
        .args(["--samples", "0..2", "--rule", "lrp0", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[test]
fn bundled_defaults_reach_their_stated_accuracy() {
    let out = stdout_of(bin().arg("eval"));
    let acc: f64 = out
        .strip_prefix("accuracy: ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(acc >= 0.97, "bundled CNN: {out}");
    assert!(out.starts_with("accuracy: 0.9745 (1949/2000)"), "{out}");
}
