//! What a file dialog or the in-window browser is asked for: which files it offers, whether it opens, saves or picks
//! a folder, and what the app does with the answer.

use std::path::PathBuf;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    HeatmapPng,
    SideBySidePng,
    RelevanceNpy,
    RelevanceCsv,
}

impl ExportKind {
    pub fn extension(self) -> &'static str {
        match self {
            ExportKind::HeatmapPng | ExportKind::SideBySidePng => "png",
            ExportKind::RelevanceNpy => "npy",
            ExportKind::RelevanceCsv => "csv",
        }
    }
}

/// Which file a dialog asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    OpenModel,
    OpenData,
    OpenLabels,
    /// A relevance map to check (`.npy`, `.mat`, `.csv`).
    OpenRelevance,
    /// Save an export of this kind.
    Save(ExportKind),
    /// The folder quick exports go to.
    ChooseExportFolder,
}

/// Whether a dialog opens a file, saves one or picks a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogMode {
    Open,
    Save,
    Folder,
}

/// Extensions of the model formats (also how dropped files are told apart).
pub const MODEL_EXTENSIONS: [&str; 4] = ["onnx", "txt", "npz", "mat"];

impl DialogKind {
    /// The dialog's title.
    pub fn title(self) -> &'static str {
        match self {
            DialogKind::OpenModel => "Open model",
            DialogKind::OpenData => "Open samples",
            DialogKind::OpenLabels => "Open labels",
            DialogKind::OpenRelevance => "Open relevance",
            DialogKind::Save(_) => "Export as",
            DialogKind::ChooseExportFolder => "Choose the export folder",
        }
    }

    pub fn mode(self) -> DialogMode {
        match self {
            DialogKind::Save(_) => DialogMode::Save,
            DialogKind::ChooseExportFolder => DialogMode::Folder,
            _ => DialogMode::Open,
        }
    }

    /// The extensions offered (lower case, without the dot; `gz` covers `*-ubyte.gz`). Files named `*-ubyte` (IDX)
    /// are offered as samples and labels too.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            DialogKind::OpenModel => &MODEL_EXTENSIONS,
            DialogKind::OpenData => &["gz", "csv", "npy", "npz", "mat", "png", "jpg", "jpeg", "bmp"],
            DialogKind::OpenLabels => &["gz", "csv", "npy", "mat", "txt"],
            DialogKind::OpenRelevance => &["npy", "mat", "csv"],
            DialogKind::Save(k) => match k {
                ExportKind::HeatmapPng | ExportKind::SideBySidePng => &["png"],
                ExportKind::RelevanceNpy => &["npy"],
                ExportKind::RelevanceCsv => &["csv"],
            },
            DialogKind::ChooseExportFolder => &[],
        }
    }

    /// Whether a file of this name is offered (before "show all files").
    pub fn offers(self, file_name: &str) -> bool {
        let lower = file_name.to_ascii_lowercase();
        let idx = lower.ends_with("-ubyte") && matches!(self, DialogKind::OpenData | DialogKind::OpenLabels);
        let ext = lower.rsplit_once('.').map(|(_, e)| e);
        idx || ext.is_some_and(|e| self.extensions().contains(&e))
    }

    /// Whether a folder itself can be chosen (a folder of pictures is a sample set).
    pub fn takes_folders(self) -> bool {
        matches!(self, DialogKind::OpenData | DialogKind::ChooseExportFolder)
    }
}

/// Asks the desktop portal (rfd) for a file or folder; blocks until it closes. `None` when cancelled or when no
/// portal answered (then it returns within milliseconds).
pub fn ask_portal(kind: DialogKind, file_name: &str, folder: Option<&std::path::Path>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().set_title(kind.title());
    if let Some(folder) = folder {
        dialog = dialog.set_directory(folder);
    }
    let extensions = kind.extensions();
    if !extensions.is_empty() {
        dialog = dialog.add_filter(kind.title(), extensions);
    }
    match kind.mode() {
        DialogMode::Open => dialog.pick_file(),
        DialogMode::Save => dialog.set_file_name(file_name).save_file(),
        DialogMode::Folder => dialog.pick_folder(),
    }
}

/// The user's home folder, if known.
pub fn home_folder() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).filter(|p| p.is_dir())
}

/// A request for the in-window file browser (shown when no desktop portal answers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowseRequest {
    pub kind: DialogKind,
    /// The folder it opens in.
    pub folder: PathBuf,
    /// The file name proposed when saving.
    pub file_name: String,
    /// Tells a new request from the one already shown.
    pub id: u64,
}

/// An export that waits for the export folder to be chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingExport {
    Quick(ExportKind),
    Compare,
    FaithfulnessCsv,
    FaithfulnessPng,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_offers_its_formats() {
        assert!(DialogKind::OpenModel.offers("LeNet-5.txt"));
        assert!(DialogKind::OpenModel.offers("cnn.ONNX"));
        assert!(!DialogKind::OpenModel.offers("t10k-images-idx3-ubyte"));
        assert!(DialogKind::OpenData.offers("t10k-images-idx3-ubyte"));
        assert!(DialogKind::OpenData.offers("t10k-images-idx3-ubyte.gz"));
        assert!(DialogKind::OpenData.offers("test_images.mat"));
        assert!(!DialogKind::OpenData.offers("notes"));
        assert!(DialogKind::OpenLabels.offers("train-labels-idx1-ubyte"));
        assert!(DialogKind::OpenRelevance.offers("R.npy"));
        assert!(!DialogKind::OpenRelevance.offers("R.png"));
        assert!(DialogKind::Save(ExportKind::RelevanceCsv).offers("r.csv"));
        assert_eq!(DialogKind::ChooseExportFolder.mode(), DialogMode::Folder);
        assert!(!DialogKind::ChooseExportFolder.offers("x.png"));
    }
}
