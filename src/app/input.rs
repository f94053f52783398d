//! What the keyboard and dropped files ask of the window, as commands.

use super::Command;
use super::file_kind::MODEL_EXTENSIONS;
use std::path::PathBuf;

/// ←/→ step through samples, ↑/↓ through layers, unless a text field has the keyboard.
pub(super) fn keyboard_commands(ctx: &egui::Context) -> Vec<Command> {
    use egui::{Key, Modifiers};
    if ctx.egui_wants_keyboard_input() {
        return Vec::new();
    }
    let mut out = Vec::new();
    ctx.input_mut(|i| {
        for (key, command) in [
            (Key::ArrowLeft, Command::StepSample(-1)),
            (Key::ArrowRight, Command::StepSample(1)),
            (Key::ArrowUp, Command::StepLayer(1)),
            (Key::ArrowDown, Command::StepLayer(-1)),
        ] {
            while i.consume_key(Modifiers::NONE, key) {
                out.push(command.clone());
            }
        }
    });
    out
}

/// Files dropped on the window: models by extension, label files by name, anything else as samples.
pub(super) fn dropped_file_commands(ctx: &egui::Context) -> Vec<Command> {
    let dropped: Vec<PathBuf> = ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    });
    let mut data = None;
    let mut labels = None;
    let mut out = Vec::new();
    for path in dropped {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if MODEL_EXTENSIONS.contains(&ext.as_str()) {
            out.push(Command::OpenModel(path));
        } else if name.contains("labels") || name.contains("idx1") {
            labels = Some(path);
        } else {
            data = Some(path);
        }
    }
    match (data, labels) {
        (Some(path), labels) => {
            let labels = labels.or_else(|| crate::data::labels_next_to(&path));
            out.push(Command::OpenData { path, labels });
        }
        (None, Some(labels)) => out.push(Command::OpenLabels(labels)),
        (None, None) => {}
    }
    out
}
