//! Labels from a file of their own (IDX1, `.npy`, `.npz`, `.mat`, text) and from numeric arrays (integers or one-hot).

use std::path::{Path, PathBuf};

use super::{Format, bytes, idx, mat, npy};
use crate::error::LoadError;

/// Reads a labels file: IDX1 (raw or gzip), `.npy`, `.npz` (key `y_test`, `y`, `labels`, …), `.mat` (first numeric
/// variable) or text with one integer per line. Integers or one-hot rows; each label must fit in 0..=255.
pub fn load_labels(path: &Path) -> Result<Vec<u8>, LoadError> {
    let (file, split) = npy::split_npz_selector(path);
    match Format::of(&file)? {
        Format::Idx => idx::read_labels(&file),
        Format::Npy => npy::read_labels_npy(&file),
        Format::Npz => npy::read_labels_npz(&file, split.as_deref()),
        Format::Mat => mat::read_labels(&file),
        Format::Csv => read_text(&file),
        Format::Image => Err(LoadError::format(&file, "an image is not a labels file")),
    }
}

/// One integer per line (blank lines skipped).
fn read_text(path: &Path) -> Result<Vec<u8>, LoadError> {
    let data = bytes::read_all(path)?;
    let text = String::from_utf8(data).map_err(|_| LoadError::format(path, "labels text is not UTF-8"))?;
    let mut labels = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let cell = line.trim();
        if cell.is_empty() {
            continue;
        }
        let value: u8 = cell
            .parse()
            .map_err(|_| LoadError::format(path, format!("line {}: {cell:?} is not a label in 0..=255", k + 1)))?;
        labels.push(value);
    }
    Ok(labels)
}

/// The label file that usually sits next to an MNIST image file (`…images-idx3…` → `…labels-idx1…`).
pub fn labels_next_to(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_string_lossy().into_owned();
    let guess = name.replace("images-idx3", "labels-idx1").replace("images", "labels");
    let path = images.with_file_name(guess);
    (path != images && path.is_file()).then_some(path)
}
