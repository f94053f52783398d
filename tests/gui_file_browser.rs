//! With no desktop portal (the test runner has none, like a plain X session), every file is opened and every export
//! placed through the in-window browser: File › Open model… and Open samples…, the first export asking for its
//! folder, "as…" with a file name, and recent files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;

#[path = "common/app_fixture.rs"]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture() -> Fixture {
    app_fixture::open_fixture_with("cnn", 4, [1280.0, 800.0])
}

fn click(f: &mut Fixture, label: &str) {
    f.harness.get_by_label(label).click();
    f.harness.run();
}

/// File › `item`, as a user clicks it.
fn file_menu(f: &mut Fixture, item: &str) {
    click(f, "File");
    click(f, item);
}

/// A folder `lrp-toolbox` holding an LRP Toolbox text model and a MATLAB sample file (both committed fixtures),
/// and a folder `out`, next to the fixture's digits.
fn toolbox_folder(f: &Fixture) -> PathBuf {
    let toolbox = f.dir.path().join("lrp-toolbox");
    std::fs::create_dir(&toolbox).unwrap();
    std::fs::create_dir(f.dir.path().join("out")).unwrap();
    std::fs::copy(common::fixtures().join("models/mlp.txt"), toolbox.join("mlp.txt")).unwrap();
    std::fs::copy(
        common::fixtures().join("data/rows_onehot.mat"),
        toolbox.join("rows_onehot.mat"),
    )
    .unwrap();
    std::fs::write(toolbox.join("notes.md"), b"not a model").unwrap();
    toolbox
}

fn browser_folder(f: &Fixture) -> PathBuf {
    f.harness
        .state()
        .view
        .browser
        .as_ref()
        .expect("the browser is shown")
        .folder()
        .to_path_buf()
}

#[test]
fn without_a_portal_a_model_and_samples_open_from_the_window() {
    let mut f = open_fixture();
    let toolbox = toolbox_folder(&f);
    file_menu(&mut f, "Open model…");
    // No portal answered: the window's own browser shows the starting folder, folders first.
    assert_eq!(f.harness.state().session.portal, Some(false));
    f.harness.get_by_label("Open model");
    assert_eq!(browser_folder(&f), f.dir.path());
    click(&mut f, "folder lrp-toolbox");
    assert_eq!(browser_folder(&f), toolbox);
    // Only model formats are offered; "Show all files" shows the rest.
    assert!(f.harness.query_by_label("file notes.md").is_none());
    f.harness.get_by_label("file rows_onehot.mat"); // .mat holds weights too
    click(&mut f, "Show all files");
    f.harness.get_by_label("file notes.md");
    click(&mut f, "Show all files");
    click(&mut f, "file mlp.txt");
    click(&mut f, "Open");
    let h = &f.harness;
    assert!(h.state().session.browse.is_none());
    assert!(h.query_by_label("Open model").is_none(), "the browser closed");
    assert_eq!(
        h.state().session.model_path.as_deref(),
        Some(toolbox.join("mlp.txt").as_path())
    );
    assert_eq!(h.state().session.model.as_ref().unwrap().layers().len(), 5);
    assert_eq!(result(h).target, 7);
    assert_eq!(h.state().settings.recent_models[0], toolbox.join("mlp.txt"));
    // Samples: the browser opens straight away in the folder last used; up and back down.
    file_menu(&mut f, "Open samples…");
    assert_eq!(browser_folder(&f), toolbox);
    click(&mut f, "Up");
    assert_eq!(browser_folder(&f), f.dir.path());
    f.harness.get_by_label("file digits-images-idx3-ubyte");
    click(&mut f, "folder lrp-toolbox");
    assert!(f.harness.query_by_label("file mlp.txt").is_none());
    click(&mut f, "file rows_onehot.mat");
    click(&mut f, "Open");
    let h = &f.harness;
    assert_eq!(h.state().session.sample_count(), 4);
    assert_eq!(
        h.state().session.data_path.as_deref(),
        Some(toolbox.join("rows_onehot.mat").as_path())
    );
    assert!(h.state().session.predictions.as_ref().unwrap().accuracy.is_some());
    assert_eq!(h.state().settings.recent_data[0].0, toolbox.join("rows_onehot.mat"));
    assert!(h.state().session.last_error().is_none());
}

#[test]
fn the_browser_closes_with_escape_or_cancel_and_reports_unreadable_folders() {
    let mut f = open_fixture();
    file_menu(&mut f, "Open samples…");
    f.harness.get_by_label("Open samples");
    f.harness.key_press(egui::Key::Escape);
    f.harness.run();
    assert!(f.harness.state().session.browse.is_none());
    assert!(f.harness.query_by_label("Open samples").is_none());
    file_menu(&mut f, "Open samples…");
    // A typed folder that does not exist: an error line, nothing else changes.
    let field = f.harness.get_by_label("folder");
    field.click();
    f.harness.run();
    // The field holds the folder shown; typing appends to it.
    f.harness.get_by_label("folder").type_text("/missing");
    f.harness.run();
    f.harness.key_press(egui::Key::Enter);
    f.harness.run();
    f.harness.get_by_label_contains("cannot read");
    click(&mut f, "Cancel");
    assert!(f.harness.state().session.browse.is_none());
    assert_eq!(f.harness.state().session.sample_count(), 8);
}

/// The newest notice naming a saved file.
fn saved_notice(f: &Fixture) -> String {
    f.harness
        .get_all_by_label_contains("saved ")
        .filter_map(|n| n.value())
        .next_back()
        .expect("a saved notice")
}

fn png_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_first_export_asks_for_the_folder_and_later_ones_never_overwrite() {
    let mut f = open_fixture();
    f.harness.state_mut().settings.export_folder = None;
    let out = f.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    click(&mut f, "Export");
    f.harness.get_by_label_contains("not chosen yet");
    click(&mut f, "Save Heatmap PNG");
    // The folder is asked for first…
    f.harness.get_by_label("Choose the export folder");
    assert!(png_names(f.dir.path()).is_empty());
    click(&mut f, "folder out");
    click(&mut f, "Choose this folder");
    // …then the export runs there, and says so with a button to open the folder.
    let name = "cnn_s0_c7_epsilon_plus_heatmap";
    assert_eq!(png_names(&out), [format!("{name}.png")]);
    assert_eq!(f.harness.state().settings.export_folder.as_deref(), Some(out.as_path()));
    assert_eq!(
        saved_notice(&f),
        format!("saved {}", out.join(format!("{name}.png")).display())
    );
    f.harness.get_by_label("Open folder");
    // The second export does not ask and keeps the first file.
    click(&mut f, "Export");
    f.harness.get_by_label(&format!("Folder: {}", out.display()));
    click(&mut f, "Save Heatmap PNG");
    assert!(f.harness.state().session.browse.is_none());
    assert_eq!(png_names(&out), [format!("{name} (2).png"), format!("{name}.png")]);
    assert!(saved_notice(&f).ends_with(&format!("{name} (2).png")));
    let first = image::open(out.join(format!("{name}.png"))).unwrap().to_rgba8();
    assert_eq!(first.dimensions(), (28 * 4, 28 * 4));
}

#[test]
fn save_as_proposes_a_name_in_the_export_folder_and_keeps_existing_files() {
    let mut f = open_fixture();
    let name = "cnn_s0_c7_epsilon_plus_digit_heatmap.png";
    std::fs::write(f.dir.path().join(name), b"an older file").unwrap();
    click(&mut f, "Export");
    click(&mut f, "Save Digit + heatmap PNG as");
    f.harness.get_by_label("Export as");
    assert_eq!(browser_folder(&f), f.dir.path());
    assert_eq!(f.harness.get_by_label("file name").value().as_deref(), Some(name));
    click(&mut f, "Save");
    let kept = "cnn_s0_c7_epsilon_plus_digit_heatmap (2).png";
    assert_eq!(std::fs::read(f.dir.path().join(name)).unwrap(), b"an older file");
    let img = image::open(f.dir.path().join(kept)).unwrap().to_rgba8();
    // Digit and heatmap at 4 pixels per input pixel with an 8-pixel gap.
    assert_eq!(img.dimensions(), (28 * 4 * 2 + 8, 28 * 4));
    f.harness.get_by_label_contains("exists; saving as");
    assert!(saved_notice(&f).ends_with(kept));
}

#[test]
fn recent_files_reopen_from_the_file_menu() {
    let mut f = open_fixture();
    let toolbox = toolbox_folder(&f);
    let model = toolbox.join("mlp.txt");
    f.harness
        .state_mut()
        .run_command(lrp_explorer::app::Command::OpenModel(model.clone()));
    f.harness.run();
    let onnx = common::fixtures().join("models/cnn.onnx");
    f.harness
        .state_mut()
        .run_command(lrp_explorer::app::Command::OpenModel(onnx.clone()));
    f.harness.run();
    assert_eq!(f.harness.state().settings.recent_models[..2], [onnx, model.clone()]);
    click(&mut f, "File");
    click(&mut f, "Recent models");
    click(&mut f, "mlp.txt  (lrp-toolbox)");
    let h = &f.harness;
    assert_eq!(h.state().session.model_path.as_deref(), Some(model.as_path()));
    assert_eq!(h.state().settings.recent_models[0], model);
    assert!(h.query_by_label("Recent models").is_none(), "the menu closed");
}
