//! MLP weights from a MATLAB Level 5 `.mat` file (compressed or not) with variables `W1, b1, W2, b2, …`.
//!
//! The usual layout is that of a hand-written MATLAB net (`nn.layers{l}.W`): rows are the neurons of the next
//! layer, columns those of the current one, i.e. `[out, in]`. The transposed layout is accepted too; which one a
//! file uses is decided from the shape chain. Biases may be row or column vectors. MATLAB stores arrays
//! column-major: element `(i, j)` of an `r × c` matrix is at `i + j·r`.

use std::path::Path;

use matfile::NumericData;

use super::weights_chain::{Activation, ImportedModel, Matrix, Orientation, RawLayer, build_mlp, vector_len};
use crate::error::LoadError;

/// Reads an MLP from the `.mat` at `path`, with `activation` between its layers.
pub fn load(path: &Path, activation: Activation) -> Result<ImportedModel, LoadError> {
    // The same bounded, sanitised parse as the data reader: `matfile` alone can overflow or inflate without limit.
    let mat = crate::data::mat::parse(path)?;
    let mut weights: Vec<(usize, &matfile::Array)> = vec![];
    let mut biases: Vec<(usize, &matfile::Array)> = vec![];
    let mut ignored = vec![];
    for array in mat.arrays() {
        match numbered(array.name()) {
            Some(('W', k)) => weights.push((k, array)),
            Some(('b', k)) => biases.push((k, array)),
            _ => ignored.push(array.name().to_string()),
        }
    }
    if weights.is_empty() {
        let found: Vec<&str> = mat.arrays().iter().map(|a| a.name()).collect();
        return Err(LoadError::format(
            path,
            format!("no weight matrices W1, W2, … found (variables: {})", found.join(", ")),
        ));
    }
    weights.sort_by_key(|(k, _)| *k);
    if let Some(pair) = weights.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(LoadError::format(
            path,
            format!(
                "{} and {} are both weight {}",
                pair[0].1.name(),
                pair[1].1.name(),
                pair[0].0
            ),
        ));
    }
    if let Some((k, _)) = biases.iter().find(|(k, _)| !weights.iter().any(|(j, _)| j == k)) {
        return Err(LoadError::format(path, format!("b{k} has no matching W{k}")));
    }
    let mut notes = vec![format!(
        "weights-only .mat: variables {}",
        weights
            .iter()
            .map(|(k, _)| format!("W{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if !ignored.is_empty() {
        notes.push(format!("ignored variables: {}", ignored.join(", ")));
    }
    let mut layers = vec![];
    for (k, w) in &weights {
        let weight = matrix(path, w)?;
        let bias = match biases.iter().find(|(j, _)| j == k) {
            Some((_, b)) => {
                let len = vector_len(b.size())
                    .ok_or_else(|| LoadError::format(path, format!("{} is {:?}, not a vector", b.name(), b.size())))?;
                let values = values(path, b)?;
                if values.len() != len {
                    return Err(LoadError::format(
                        path,
                        format!("{} holds the wrong number of values", b.name()),
                    ));
                }
                Some((b.name().to_string(), values))
            }
            None => None,
        };
        layers.push(RawLayer {
            weight_name: w.name().to_string(),
            weight,
            bias,
        });
    }
    build_mlp(path, layers, Orientation::OutIn, activation, notes)
}

/// `W12` → `('W', 12)`, `b3` → `('b', 3)` (also lower-case `w` and upper-case `B`).
fn numbered(name: &str) -> Option<(char, usize)> {
    let mut chars = name.chars();
    let kind = match chars.next()? {
        'W' | 'w' => 'W',
        'b' | 'B' => 'b',
        _ => return None,
    };
    let k: usize = chars.as_str().parse().ok()?;
    Some((kind, k))
}

/// A 2-D MATLAB array converted from column-major to a row-major [`Matrix`].
fn matrix(path: &Path, array: &matfile::Array) -> Result<Matrix, LoadError> {
    let size = array.size();
    let (rows, cols) = match size.as_slice() {
        [r, c] => (*r, *c),
        [r, c, rest @ ..] if rest.iter().all(|&d| d == 1) => (*r, *c),
        _ => {
            return Err(LoadError::format(
                path,
                format!(
                    "{} is {size:?}, not a matrix (convolutional weights are not supported)",
                    array.name()
                ),
            ));
        }
    };
    let column_major = values(path, array)?;
    if rows.checked_mul(cols) != Some(column_major.len()) {
        return Err(LoadError::format(
            path,
            format!(
                "{} claims {rows}×{cols} but holds {} values",
                array.name(),
                column_major.len()
            ),
        ));
    }
    let mut data = Vec::with_capacity(column_major.len());
    for i in 0..rows {
        data.extend((0..cols).map(|j| column_major[i + j * rows]));
    }
    Ok(Matrix { rows, cols, data })
}

/// The real values of a numeric array as `f32`, in storage (column-major) order; refuses complex or non-finite data.
fn values(path: &Path, array: &matfile::Array) -> Result<Vec<f32>, LoadError> {
    fn real<T: Copy>(real: &[T], imag: &Option<Vec<T>>, f: impl Fn(T) -> f32) -> Option<Vec<f32>> {
        imag.is_none().then(|| real.iter().map(|&v| f(v)).collect())
    }
    let out = match array.data() {
        NumericData::Double { real: r, imag } => real(r, imag, |v| v as f32),
        NumericData::Single { real: r, imag } => real(r, imag, |v| v),
        NumericData::Int8 { real: r, imag } => real(r, imag, f32::from),
        NumericData::UInt8 { real: r, imag } => real(r, imag, f32::from),
        NumericData::Int16 { real: r, imag } => real(r, imag, f32::from),
        NumericData::UInt16 { real: r, imag } => real(r, imag, f32::from),
        NumericData::Int32 { real: r, imag } => real(r, imag, |v| v as f32),
        NumericData::UInt32 { real: r, imag } => real(r, imag, |v| v as f32),
        NumericData::Int64 { real: r, imag } => real(r, imag, |v| v as f32),
        NumericData::UInt64 { real: r, imag } => real(r, imag, |v| v as f32),
    };
    let out = out.ok_or_else(|| LoadError::format(path, format!("{} is complex", array.name())))?;
    if let Some(bad) = out.iter().position(|v| !v.is_finite()) {
        return Err(LoadError::format(
            path,
            format!("{}: value {bad} is NaN or infinite", array.name()),
        ));
    }
    Ok(out)
}
