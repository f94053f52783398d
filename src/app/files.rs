//! Commands about files and messages: dismissing messages and showing a folder in the desktop's file manager.

use std::path::{Path, PathBuf};

use super::{Command, LrpApp};

impl LrpApp {
    /// Applies the message and file commands.
    pub(super) fn run_file_command(&mut self, command: Command) {
        match command {
            Command::DismissMessage(index) => {
                if index < self.session.messages.len() {
                    self.session.messages.remove(index);
                }
            }
            Command::OpenFolder(folder) => {
                if let Err(e) = open_folder(&folder) {
                    self.session.error(format!(
                        "could not open the folder {} in a file manager ({e}); the file is there",
                        folder.display()
                    ));
                }
            }
            _ => {}
        }
    }
}

/// The program that shows a folder in the desktop's file manager.
const OPENER: &str = if cfg!(target_os = "macos") {
    "open"
} else if cfg!(target_os = "windows") {
    "explorer"
} else {
    "xdg-open"
};

/// Starts the file manager on `folder` without waiting for it (a named thread reaps the process).
pub fn open_folder(folder: &Path) -> std::io::Result<()> {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    if !folder.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"));
    }
    let mut child = std::process::Command::new(OPENER)
        .arg(folder)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| std::io::Error::new(e.kind(), format!("{OPENER}: {e}")))?;
    std::thread::Builder::new()
        .name("lrp-open-folder".into())
        .spawn(move || child.wait())?;
    Ok(())
}

/// What opening `path` means: a model by its extension, a label file by its name, else samples (with the label
/// file next to them).
pub fn open_command_for(path: PathBuf) -> Command {
    let lower = |s: Option<&std::ffi::OsStr>| s.map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let name = lower(path.file_name());
    let ext = lower(path.extension());
    if super::logic::MODEL_EXTENSIONS.contains(&ext.as_str()) && !name.contains("images") {
        Command::OpenModel(path)
    } else if name.contains("labels") || name.contains("idx1") {
        Command::OpenLabels(path)
    } else {
        let labels = super::labels_next_to(&path);
        Command::OpenData { path, labels }
    }
}
