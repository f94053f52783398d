//! `lrp-explorer export` as a user runs it: the fixture CNN on the eight fixture digits written as IDX, checking
//! file names, picture sizes, the index, raw relevance against the library, folder safety, shards and errors.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use lrp_explorer::data::{idx, load_dataset};
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use ndarray::{ArrayD, Axis, IxDyn};

/// What the fixture CNN predicts for the eight fixture digits (their labels too).
const PREDICTIONS: [usize; 8] = [7, 2, 1, 0, 4, 1, 4, 9];

fn cnn() -> PathBuf {
    fixtures().join("models/cnn.onnx")
}

/// The fixture digits as IDX in `dir` (`t10k-images-idx3-ubyte`), with the labels next to them if `labels`.
fn write_digits(dir: &Path, labels: bool) -> PathBuf {
    let x = read_f32(fixtures().join("inputs/images_nchw.npy"));
    let pixels: Vec<u8> = x.iter().map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8).collect();
    std::fs::create_dir_all(dir).unwrap();
    let images = dir.join("t10k-images-idx3-ubyte");
    idx::write_idx_images(&images, &pixels, 8, 28, 28).unwrap();
    if labels {
        let l = read_i64(fixtures().join("inputs/labels.npy"));
        let l: Vec<u8> = l.iter().map(|&v| v as u8).collect();
        idx::write_idx_labels(&dir.join("t10k-labels-idx1-ubyte"), &l).unwrap();
    }
    images
}

fn export(data: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
        .args(["export", "--rule", "epsilon_plus_flat", "--model"])
        .arg(cnn())
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "export failed: {stderr}");
    stderr
}

fn failure(out: Output) -> String {
    assert!(!out.status.success(), "export should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(dir: &Path, ext: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect()
}

/// The index's rows, split into fields, header dropped.
fn index_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("index,label,prediction,target,target_logit,relevance_sum,file")
    );
    lines.map(|l| l.split(',').map(String::from).collect()).collect()
}

#[test]
fn writes_named_pictures_index_and_raw_relevance_equal_to_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), true);
    let out = tmp.path().join("out");
    let stderr = ok(export(
        &data,
        &out,
        &["--layout", "side-by-side", "--scale", "3", "--raw", "npy"],
    ));
    assert!(
        stderr.contains("preprocessing: range=0,1 (implied by the model's input size)"),
        "{stderr}"
    );

    let expected: BTreeSet<String> = PREDICTIONS
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{i:05}_label{p}_pred{p}.png"))
        .collect();
    assert_eq!(names(&out, ".png"), expected);
    assert_eq!(names(&out, ".npy").len(), 8);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        17,
        "8 PNG + 8 npy + index, no temporary files"
    );
    let img = image::open(out.join("00000_label7_pred7.png")).unwrap();
    // Digit and heatmap, 28·3 each, 2·3 pixels apart.
    assert_eq!((img.width(), img.height()), (2 * 84 + 6, 84));

    // The same input through the library.
    let ds = load_dataset(&data, None).unwrap();
    let x = ArrayD::from_shape_vec(IxDyn(&[8, 1, 28, 28]), ds.images.clone()).unwrap();
    let method: Method = "epsilon_plus_flat".parse().unwrap();
    let e = explain(
        &lrp_explorer::model::load(&cnn()).unwrap().model,
        &x,
        &method,
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    let rows = index_rows(&out.join("index.csv"));
    assert_eq!(rows.len(), 8);
    for (i, row) in rows.iter().enumerate() {
        let p = PREDICTIONS[i];
        let file = format!("{i:05}_label{p}_pred{p}.png");
        assert_eq!(row[..3], [i.to_string(), p.to_string(), p.to_string()]);
        assert_eq!(
            (row[3].as_str(), row[6].as_str()),
            (p.to_string().as_str(), file.as_str())
        );
        let logit: f32 = row[4].parse().unwrap();
        assert!(
            (logit - e.logits[[i, p]]).abs() < 1e-4,
            "logit {logit} vs {}",
            e.logits[[i, p]]
        );

        let raw = read_f32(out.join(file.replace(".png", ".npy")));
        assert_eq!(raw.shape(), &[1, 28, 28], "shaped like one model input");
        let want = e.input_relevance().index_axis(Axis(0), i).to_owned();
        let err = raw.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(
            err < 1e-6,
            "sample {i}: raw relevance differs from lrp::explain by {err}"
        );
        let sum: f32 = row[5].parse().unwrap();
        let raw_sum = raw.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
        assert!(
            (sum - raw_sum).abs() < 1e-4 * raw_sum.abs().max(1.0),
            "sum {sum} vs {raw_sum}"
        );
    }
}

#[test]
fn picture_sizes_per_layout_and_names_without_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), false);
    let heat = tmp.path().join("heat");
    ok(export(
        &data,
        &heat,
        &["--scale", "2", "--samples", "2..5", "--raw", "csv"],
    ));
    assert_eq!(
        names(&heat, ".png"),
        ["00002_pred1.png", "00003_pred0.png", "00004_pred4.png"]
            .map(String::from)
            .into()
    );
    assert_eq!(image::open(heat.join("00002_pred1.png")).unwrap().width(), 56);
    let csv = std::fs::read_to_string(heat.join("00002_pred1.csv")).unwrap();
    assert_eq!(csv.lines().count(), 28);
    assert!(csv.lines().all(|l| l.split(',').count() == 28));
    let rows = index_rows(&heat.join("index.csv"));
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["2", "3", "4"]);
    assert!(
        rows.iter().all(|r| r[1].is_empty()),
        "no label column values without labels"
    );

    let overlay = tmp.path().join("overlay");
    ok(export(
        &data,
        &overlay,
        &["--layout", "overlay", "--scale", "1", "--samples", "7.."],
    ));
    assert_eq!(names(&overlay, ".png"), ["00007_pred9.png".to_string()].into());
    let img = image::open(overlay.join("00007_pred9.png")).unwrap();
    assert_eq!((img.width(), img.height()), (28, 28));

    // An explicit class is explained for every sample.
    let class3 = tmp.path().join("class3");
    ok(export(
        &data,
        &class3,
        &["--target", "3", "--samples", "0..2", "--scale", "1"],
    ));
    let rows = index_rows(&class3.join("index.csv"));
    assert_eq!(rows.iter().map(|r| r[3].as_str()).collect::<Vec<_>>(), ["3", "3"]);
    assert_eq!(rows.iter().map(|r| r[2].as_str()).collect::<Vec<_>>(), ["7", "2"]);
}

#[test]
fn refuses_a_non_empty_folder_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), true);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "keep me").unwrap();
    let err = failure(export(&data, &out, &["--scale", "1"]));
    assert!(err.contains("not empty") && err.contains("--force"), "{err}");
    assert_eq!(names(&out, ""), ["notes.txt".to_string()].into(), "nothing written");
    ok(export(&data, &out, &["--scale", "1", "--force"]));
    // Forced again over its own files: they are replaced, not duplicated.
    ok(export(&data, &out, &["--scale", "2", "--force"]));
    assert_eq!(names(&out, ".png").len(), 8);
    assert_eq!(image::open(out.join("00000_label7_pred7.png")).unwrap().width(), 56);
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "keep me");
}

#[test]
fn shards_cover_every_sample_once_with_separate_indices() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), true);
    let out = tmp.path().join("out");
    ok(export(&data, &out, &["--scale", "1", "--shard", "0/2"]));
    ok(export(&data, &out, &["--scale", "1", "--shard", "1/2", "--force"]));
    assert_eq!(
        names(&out, ".csv"),
        ["index_0of2.csv", "index_1of2.csv"].map(String::from).into()
    );
    let first: Vec<usize> = index_rows(&out.join("index_0of2.csv"))
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    let second: Vec<usize> = index_rows(&out.join("index_1of2.csv"))
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert_eq!(first, [0, 2, 4, 6]);
    assert_eq!(second, [1, 3, 5, 7]);
    assert_eq!(names(&out, ".png").len(), 8);
    let err = failure(export(&data, &tmp.path().join("x"), &["--shard", "2/2"]));
    assert!(err.contains("--shard must be `i/n` with 0 <= i < n"), "{err}");
}

#[test]
fn clear_errors_for_bad_target_and_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), false);
    let out = tmp.path().join("out");
    let err = failure(export(&data, &out, &["--target", "true"]));
    assert!(
        err.contains("target `true` needs labels") && err.contains("--labels"),
        "{err}"
    );
    let err = failure(export(&data, &out, &["--target", "10"]));
    assert!(
        err.contains("target class 10 is out of range: the model has 10 outputs"),
        "{err}"
    );
    let err = failure(export(&data, &out, &["--samples", "5..20"]));
    assert!(err.contains("the dataset has 8 samples (indices 0..8)"), "{err}");
    let err = failure(export(&data, &out, &["--samples", "4..4"]));
    assert!(err.contains("out of range or empty"), "{err}");
    let err = failure(export(&data, &out, &["--samples", "first"]));
    assert!(err.contains("--samples must be `all`, `a..b` or `a..`"), "{err}");
    assert!(!out.exists(), "no folder is created for a job that cannot run");
    assert!(
        err.lines().count() == 1 && err.starts_with("error: "),
        "one error line: {err}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_leaves_complete_files_and_a_matching_index() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/test-images-idx3-ubyte.gz");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
        .args(["export", "--rule", "epsilon_plus_flat", "--scale", "4", "--model"])
        .arg(cnn())
        .arg("--data")
        .arg(&assets)
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("preprocessing:"), "{line}");
    // The handler is installed before that line is printed; interrupt once the first picture is written, so the
    // signal lands inside the export (before it, the command says "nothing written", checked elsewhere).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let has_png = || {
        std::fs::read_dir(&out).is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".png")))
    };
    while !has_png() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert!(!exit.success(), "an interrupted export fails: {rest}");
    assert!(rest.contains("interrupted: wrote"), "{rest}");
    let rows = index_rows(&out.join("index.csv"));
    let pngs = names(&out, ".png");
    assert!(rows.len() < 2000, "stopped early");
    assert_eq!(rows.len(), pngs.len(), "the index lists exactly the pictures written");
    assert!(rows.iter().all(|r| pngs.contains(&r[6])));
    assert!(names(&out, ".tmp").is_empty(), "no temporary files left");
    for name in &pngs {
        assert_eq!(image::open(out.join(name)).unwrap().width(), 112, "{name} is complete");
    }
}

#[test]
fn library_reports_progress_per_chunk_and_stops_when_cancelled() {
    use lrp_explorer::export::{ExportJob, export_batch};
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;
    let tmp = tempfile::tempdir().unwrap();
    let data = write_digits(&tmp.path().join("data"), true);
    let model = lrp_explorer::model::load(&cnn()).unwrap().model;
    let ds = load_dataset(&data, None).unwrap();
    let method: Method = "epsilon_plus_flat".parse().unwrap();
    let mut job = ExportJob::new(model, ds, Default::default(), method, tmp.path().join("out"));
    job.chunk_size = 3;
    let calls = Mutex::new(Vec::new());
    let progress = |done: usize, total: usize| calls.lock().unwrap().push((done, total));
    let summary = export_batch(&job, &progress, &AtomicBool::new(false)).unwrap();
    assert_eq!((summary.selected, summary.written, summary.cancelled), (8, 8, false));
    assert_eq!(*calls.lock().unwrap(), [(0, 8), (3, 8), (6, 8), (8, 8)]);

    job.out_dir = tmp.path().join("cancelled");
    let summary = export_batch(&job, &|_, _| {}, &AtomicBool::new(true)).unwrap();
    assert_eq!((summary.written, summary.cancelled), (0, true));
    assert!(index_rows(&summary.index_path).is_empty());
    assert!(names(&job.out_dir, ".png").is_empty());
}
