//! The faithfulness curves are one computation with one CSV: the window's export and
//! `lrp-explorer eval --faithfulness --csv` write the same bytes for the same model, samples, rules and settings;
//! without `--csv` the command only prints its table (and can run again in the same folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command as Process;

use egui_kittest::Harness;
use lrp_explorer::app::state::CentralTab;
use lrp_explorer::app::{Command, JobRunner, LrpApp, Settings};

/// The CSV the window exports for the first 4 fixture digits, `epsilon_plus` against `gradient`, 10 steps.
fn window_csv(model: &Path, images: &Path, labels: &Path, export_dir: &Path) -> String {
    let settings = Settings {
        export_folder: Some(export_dir.to_path_buf()),
        faith_samples: 4,
        faith_steps: 10,
        faith_fraction: 0.2,
        faith_rule: "gradient".parse().expect("a registry spec"),
        tab: CentralTab::Faithfulness,
        ..Settings::default()
    };
    let mut app = LrpApp::with_runner(settings, JobRunner::inline());
    app.run_command(Command::OpenModel(model.to_path_buf()));
    app.run_command(Command::OpenData {
        path: images.to_path_buf(),
        labels: Some(labels.to_path_buf()),
    });
    let mut harness = Harness::builder()
        .with_size([1400.0, 1200.0])
        .build_ui_state(|ui, app: &mut LrpApp| app.frame_ui(ui), app);
    harness.run();
    harness.state_mut().run_command(Command::RunFaithfulness);
    harness.run();
    let faith = harness.state().session.faith.result.clone().expect("curves computed");
    let labels: Vec<&str> = faith.curves.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["epsilon_plus", "gradient", "random"]);
    harness.state_mut().run_command(Command::ExportFaithfulness);
    let path = std::fs::read_dir(export_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_faithfulness.csv"))
        .expect("the window exported the curves");
    std::fs::read_to_string(path).unwrap()
}

fn eval_faithfulness(model: &Path, images: &Path, cwd: &Path, extra: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_lrp-explorer"))
        .current_dir(cwd)
        .args(["eval", "--faithfulness", "--model"])
        .arg(model)
        .arg("--data")
        .arg(images)
        .args([
            "--samples",
            "0..4",
            "--rule",
            "epsilon_plus",
            "--rule",
            "gradient",
            "--steps",
            "10",
            "--fraction",
            "0.2",
            // The window's seed for the random order.
            "--seed",
            "7",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_cli_and_the_window_write_the_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = common::write_idx(dir.path());
    let model = common::fixtures().join("models/mlp.onnx");
    let exports = dir.path().join("window");
    std::fs::create_dir(&exports).unwrap();
    let from_window = window_csv(&model, &images, &labels, &exports);

    let cwd = dir.path().join("cli");
    std::fs::create_dir(&cwd).unwrap();
    let csv = cwd.join("curves.csv");
    let out = eval_faithfulness(&model, &images, &cwd, &["--csv", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let from_cli = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(from_cli, from_window);
    assert!(
        from_cli.starts_with("removed,epsilon_plus,gradient,random\n0,"),
        "{from_cli}"
    );
    assert_eq!(from_cli.lines().count(), 1 + 11);
    // The printed table carries the same AOPC as the window's curves.
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().any(|l| l.starts_with("epsilon_plus ")), "{table}");
    // Asked again with the same --csv, the file is not overwritten without --force.
    let again = eval_faithfulness(&model, &images, &cwd, &["--csv", csv.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("pass --force"));
}

#[test]
fn without_csv_the_table_is_printed_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (images, _) = common::write_idx(dir.path());
    let model = common::fixtures().join("models/mlp.onnx");
    let cwd = dir.path().join("run");
    std::fs::create_dir(&cwd).unwrap();
    for _ in 0..2 {
        let out = eval_faithfulness(&model, &images, &cwd, &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(table.starts_with("rule "), "{table}");
        assert_eq!(table.lines().count(), 1 + 3, "{table}");
    }
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "nothing written into the working directory"
    );
}
