//! The window opened on a fixture model and the 8 fixture digits, driven by egui_kittest with inline jobs.
//! Included by the GUI test files next to `mod common;`.

use std::path::PathBuf;

use egui_kittest::Harness;
use lrp_explorer::app::state::ExplainResult;
use lrp_explorer::app::{Command, JobRunner, LrpApp, Settings};

pub struct Fixture {
    pub harness: Harness<'static, LrpApp>,
    pub dir: tempfile::TempDir,
}

/// The app with fixture model `model` and the 8 digits, opened through the same commands as the menu, exporting
/// into a temporary folder at `export_scale`, in a window of `size` points.
pub fn open_fixture_with(model: &str, export_scale: u32, size: [f32; 2]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = crate::common::write_idx(dir.path());
    let settings = Settings {
        export_folder: Some(dir.path().to_path_buf()),
        browse_folder: Some(dir.path().to_path_buf()),
        export_scale,
        ..Settings::default()
    };
    let mut app = LrpApp::with_runner(settings, JobRunner::inline());
    app.set_model(crate::common::npz_model(model), PathBuf::from(format!("{model}.npz")));
    app.run_command(Command::OpenData {
        path: images,
        labels: Some(labels),
    });
    let mut harness = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut LrpApp| app.frame_ui(ui), app);
    harness.run();
    Fixture { harness, dir }
}

/// The explanation the window currently shows.
pub fn result(h: &Harness<'_, LrpApp>) -> ExplainResult {
    (**h.state().session.result.as_ref().expect("an explanation is shown")).clone()
}
