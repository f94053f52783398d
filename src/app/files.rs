//! Asking for files: the desktop portal's dialog where one answers, else the in-window browser; what a chosen path
//! means (open a model, samples, labels, a relevance file; save an export; set the export folder); the export
//! folder, asked for at the first export and remembered; dismissing messages and showing a folder in the desktop's
//! file manager.

use std::path::{Path, PathBuf};

use super::file_kind::{BrowseRequest, DialogKind, DialogMode, PendingExport};
use super::jobs::Job;
use super::{Command, LrpApp};
use crate::heatmap::export::unique_path;

/// A dialog that closes faster than this never showed: no portal or dialog service is running.
const NO_DIALOG_MS: f64 = 150.0;

impl LrpApp {
    /// Applies the file and message commands.
    pub(super) fn run_file_command(&mut self, command: Command) {
        match command {
            Command::DismissMessage(index) if index < self.session.messages.len() => {
                self.session.messages.remove(index);
            }
            Command::OpenFolder(folder) => {
                if let Err(e) = open_folder(&folder) {
                    self.session.error(format!(
                        "could not open the folder {} in a file manager ({e}); the file is there",
                        folder.display()
                    ));
                }
            }
            Command::FileChosen { kind, path } => {
                self.session.browse = None;
                let folder = if path.is_dir() {
                    Some(path.as_path())
                } else {
                    path.parent()
                };
                self.settings.browse_folder = folder.map(Path::to_path_buf);
                self.file_chosen(kind, path);
            }
            Command::CloseBrowser => {
                self.session.browse = None;
                self.session.after_folder = None;
            }
            _ => {}
        }
    }

    /// Asks for a file of `kind`: the portal's dialog, or the in-window browser once no portal answered.
    pub(super) fn ask_for_file(&mut self, kind: DialogKind) {
        let file_name = match kind {
            DialogKind::Save(k) => self.export_name(k),
            _ => String::new(),
        };
        let folder = self.start_folder(kind);
        if self.session.portal == Some(false) {
            self.show_browser(kind, folder, file_name);
        } else {
            self.submit(Job::Dialog {
                kind,
                suggested_name: file_name,
                folder: Some(folder),
            });
        }
    }

    /// A portal dialog closed: with a path, or cancelled, or (closing at once) because no portal is running.
    pub(super) fn dialog_closed(&mut self, kind: DialogKind, path: Option<PathBuf>, duration_ms: f64) {
        match path {
            Some(path) => {
                self.session.portal = Some(true);
                self.file_chosen(kind, path);
            }
            None if duration_ms < NO_DIALOG_MS && self.session.portal != Some(true) => {
                self.session.portal = Some(false);
                let file_name = match kind {
                    DialogKind::Save(k) => self.export_name(k),
                    _ => String::new(),
                };
                let folder = self.start_folder(kind);
                self.show_browser(kind, folder, file_name);
            }
            None => self.session.after_folder = None,
        }
    }

    fn show_browser(&mut self, kind: DialogKind, folder: PathBuf, file_name: String) {
        let id = self.session.browse.as_ref().map_or(0, |b| b.id + 1);
        self.session.browse = Some(BrowseRequest {
            kind,
            folder,
            file_name,
            id,
        });
    }

    /// Where a dialog opens: the export folder for exports, else the folder last browsed, else the folder of the
    /// current model or samples, else the home folder, else the working directory.
    fn start_folder(&self, kind: DialogKind) -> PathBuf {
        let export = (kind.mode() != DialogMode::Open)
            .then(|| self.settings.export_folder.clone())
            .flatten();
        let current = match kind {
            DialogKind::OpenModel => self.session.model_path.as_deref(),
            _ => self.session.data_path.as_deref(),
        }
        .and_then(Path::parent)
        .map(Path::to_path_buf);
        export
            .into_iter()
            .chain(self.settings.browse_folder.clone())
            .chain(current)
            .chain(super::file_kind::home_folder())
            .chain(std::env::current_dir().ok())
            .find(|p| p.is_dir())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Does what a chosen path of `kind` means.
    fn file_chosen(&mut self, kind: DialogKind, path: PathBuf) {
        match kind {
            DialogKind::OpenModel => self.run_command(Command::OpenModel(path)),
            DialogKind::OpenData => {
                let labels = super::labels_next_to(&path);
                self.run_command(Command::OpenData { path, labels });
            }
            DialogKind::OpenLabels => self.run_command(Command::OpenLabels(path)),
            DialogKind::OpenRelevance => self.relevance_chosen(path),
            DialogKind::Save(k) => {
                self.settings.export_folder = path.parent().map(Path::to_path_buf);
                let fresh = unique_path(&path);
                if fresh != path {
                    self.session.info(format!(
                        "{} exists; saving as {} instead",
                        path.display(),
                        fresh.display()
                    ));
                }
                self.export_to(k, fresh);
            }
            DialogKind::ChooseExportFolder => {
                self.session
                    .info(format!("exports go to {} from now on", path.display()));
                self.settings.export_folder = Some(path);
                if let Some(pending) = self.session.after_folder.take() {
                    self.run_command(pending_command(pending));
                }
            }
        }
    }

    /// A fresh path named `name` in the export folder; `None` (asking for the folder, then exporting) before the
    /// first export.
    pub(super) fn export_path(&mut self, pending: PendingExport, name: &str) -> Option<PathBuf> {
        match self.settings.export_folder.clone().filter(|f| f.is_dir()) {
            Some(folder) => Some(unique_path(&folder.join(name))),
            None => {
                self.session.after_folder = Some(pending);
                self.ask_for_file(DialogKind::ChooseExportFolder);
                None
            }
        }
    }
}

/// The command that runs a pending export again.
fn pending_command(pending: PendingExport) -> Command {
    match pending {
        PendingExport::Quick(kind) => Command::Export(kind),
        PendingExport::Compare => Command::ExportCompare,
        PendingExport::FaithfulnessCsv => Command::ExportFaithfulness,
        PendingExport::FaithfulnessPng => Command::ExportFaithfulnessPlot,
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
    if super::file_kind::MODEL_EXTENSIONS.contains(&ext.as_str()) && !name.contains("images") {
        Command::OpenModel(path)
    } else if name.contains("labels") || name.contains("idx1") {
        Command::OpenLabels(path)
    } else {
        let labels = super::labels_next_to(&path);
        Command::OpenData { path, labels }
    }
}
