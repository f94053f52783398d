//! Labels from a file of their own (IDX1, `.npy`, `.npz`, `.mat`, text) and from numeric arrays (integers or one-hot).

use std::path::Path;

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

/// Labels from a numeric array of `rows`×`cols` values, row-major: a vector (`[N]`, `[N,1]`, `[1,N]`) of integers, or
/// one-hot rows (`[N,K]`, exactly one 1 per row).
pub(crate) fn labels_from_values(path: &Path, values: &[f64], rows: usize, cols: usize) -> Result<Vec<u8>, LoadError> {
    if rows == 1 || cols == 1 {
        return values
            .iter()
            .enumerate()
            .map(|(i, &v)| label_value(path, i, v))
            .collect();
    }
    let mut labels = Vec::with_capacity(rows);
    for (i, row) in values.chunks_exact(cols).enumerate() {
        let ones = row.iter().filter(|&&v| v == 1.0).count();
        let zeros = row.iter().filter(|&&v| v == 0.0).count();
        if ones != 1 || ones + zeros != cols {
            return Err(LoadError::format(
                path,
                format!("labels are a {rows}x{cols} matrix but row {i} is not one-hot"),
            ));
        }
        let hot = row.iter().position(|&v| v == 1.0).unwrap_or(0);
        labels.push(label_value(path, i, hot as f64)?);
    }
    Ok(labels)
}

fn label_value(path: &Path, index: usize, v: f64) -> Result<u8, LoadError> {
    if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
        Ok(v as u8)
    } else {
        Err(LoadError::format(
            path,
            format!("label {index} is {v}, not an integer in 0..=255"),
        ))
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
