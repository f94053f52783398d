//! MLP weights from a NumPy `.npz` (a PyTorch `state_dict` or Keras-style kernels saved with `np.savez`).
//!
//! Names are `<layer><sep><role>` with `<sep>` `.` or `/` and role `weight` (PyTorch, `[out, in]`), `kernel`
//! (Keras, `[in, out]`) or `bias`; layers are ordered by the natural order of `<layer>` (`0 < 2 < 10`,
//! `dense < dense_1`). The orientation is decided from the shape chain (see `weights_chain`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

use super::weights_chain::{
    Activation, ImportedModel, Matrix, Orientation, RawLayer, build_mlp, natural_cmp, vector_len,
};
use crate::error::LoadError;

/// Largest `.npy` entry read (decompressed), so a small zip bomb cannot exhaust memory.
const MAX_ENTRY_BYTES: u64 = 1 << 31;

/// Reads an MLP from the `.npz` at `path`, with `activation` between its layers.
pub fn load(path: &Path, activation: Activation) -> Result<ImportedModel, LoadError> {
    let tensors = read_npz(path)?;
    let mut weights: BTreeMap<String, (String, ArrayD<f32>)> = BTreeMap::new();
    let mut biases: BTreeMap<String, (String, ArrayD<f32>)> = BTreeMap::new();
    let mut kernels = 0;
    for (name, array) in tensors {
        let (layer, role) = split_name(&name);
        match role {
            "weight" | "kernel" | "W" => {
                if array.ndim() > 2 {
                    return Err(LoadError::format(
                        path,
                        format!(
                            "{name} has shape {:?}: this is a convolutional state_dict; its architecture (strides, \
                             padding, pooling, flatten order) cannot be inferred from weights alone — export the \
                             model to ONNX instead",
                            array.shape()
                        ),
                    ));
                }
                if array.ndim() != 2 {
                    return Err(LoadError::format(
                        path,
                        format!("{name} has shape {:?}, not a matrix", array.shape()),
                    ));
                }
                kernels += usize::from(role == "kernel");
                weights.insert(layer.to_string(), (name, array));
            }
            "bias" | "b" => {
                biases.insert(layer.to_string(), (name, array));
            }
            "running_mean"
            | "running_var"
            | "num_batches_tracked"
            | "moving_mean"
            | "moving_variance"
            | "gamma"
            | "beta" => {
                return Err(LoadError::format(
                    path,
                    format!("{name} belongs to a batch-normalisation layer, which weight-only import does not support"),
                ));
            }
            _ => {
                return Err(LoadError::format(
                    path,
                    format!(
                        "{name}: not a weight or bias (expected names like `0.weight`, `fc1.bias`, `dense/kernel`)"
                    ),
                ));
            }
        }
    }
    if let Some((layer, (name, _))) = biases.iter().find(|(layer, _)| !weights.contains_key(*layer)) {
        return Err(LoadError::format(
            path,
            format!("{name} has no matching weight for layer {layer:?}"),
        ));
    }
    let mut names: Vec<String> = weights.keys().cloned().collect();
    names.sort_by(|a, b| natural_cmp(a, b));
    let mut layers = vec![];
    for layer in &names {
        let Some((weight_name, w)) = weights.remove(layer) else {
            continue;
        };
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        let data = w.as_standard_layout().iter().copied().collect();
        let bias = match biases.remove(layer) {
            Some((name, b)) => {
                if vector_len(b.shape()).is_none() {
                    return Err(LoadError::format(
                        path,
                        format!("{name} has shape {:?}, not a vector", b.shape()),
                    ));
                }
                Some((name, b.iter().copied().collect()))
            }
            None => None,
        };
        layers.push(RawLayer {
            weight_name,
            weight: Matrix { rows, cols, data },
            bias,
        });
    }
    let convention = if kernels > 0 {
        Orientation::InOut
    } else {
        Orientation::OutIn
    };
    let notes = vec![format!(
        "weights-only .npz: {} layers ordered by name ({})",
        layers.len(),
        names.join(", ")
    )];
    build_mlp(path, layers, convention, activation, notes)
}

/// `fc1.weight` → (`fc1`, `weight`); `dense_1/kernel:0` → (`dense_1`, `kernel`).
fn split_name(name: &str) -> (&str, &str) {
    let name = name.strip_suffix(":0").unwrap_or(name);
    match name.rfind(['.', '/']) {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => ("", name),
    }
}

/// Every array of the archive as `f32` (from `f4` or `f8` data), in file order.
fn read_npz(path: &Path) -> Result<Vec<(String, ArrayD<f32>)>, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| LoadError::format(path, format!("not a .npz (zip) archive: {e}")))?;
    let mut out = vec![];
    for index in 0..zip.len() {
        let entry = zip
            .by_index(index)
            .map_err(|e| LoadError::format(path, format!("zip entry {index}: {e}")))?;
        let name = entry.name().strip_suffix(".npy").unwrap_or(entry.name()).to_string();
        let mut bytes = vec![];
        entry
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| LoadError::format(path, format!("{name}: cannot decompress: {e}")))?;
        if bytes.len() as u64 > MAX_ENTRY_BYTES {
            return Err(LoadError::format(
                path,
                format!("{name}: larger than {MAX_ENTRY_BYTES} bytes"),
            ));
        }
        check_npy_header(&bytes).map_err(|m| LoadError::format(path, format!("{name}: {m}")))?;
        let array = match ArrayD::<f32>::read_npy(bytes.as_slice()) {
            Ok(a) => a,
            Err(_) => ArrayD::<f64>::read_npy(bytes.as_slice())
                .map_err(|e| LoadError::format(path, format!("{name}: not a float32/float64 .npy array: {e}")))?
                .mapv(|v| v as f32),
        };
        if let Some(bad) = array.iter().position(|v| !v.is_finite()) {
            return Err(LoadError::format(
                path,
                format!("{name}: value {bad} is NaN or infinite"),
            ));
        }
        out.push((name, array));
    }
    if out.is_empty() {
        return Err(LoadError::format(path, "the archive holds no arrays"));
    }
    Ok(out)
}

/// Checks that the element count announced in a `.npy` header is no more than the bytes that follow it, so that
/// reading cannot allocate more than a small multiple of the data actually present.
fn check_npy_header(bytes: &[u8]) -> Result<(), String> {
    let bad = || "not a .npy array (bad header)".to_string();
    if bytes.get(..6) != Some(b"\x93NUMPY".as_slice()) {
        return Err(bad());
    }
    let (len, start): (Option<usize>, usize) = match bytes.get(6) {
        Some(1) => (bytes.get(8..10).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize), 10),
        Some(2 | 3) => (
            bytes
                .get(8..12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
            12,
        ),
        _ => (None, 0),
    };
    let len = len.ok_or_else(bad)?;
    let header = bytes.get(start..start.saturating_add(len)).ok_or_else(bad)?;
    let header = std::str::from_utf8(header).map_err(|_| bad())?;
    let shape = header
        .split_once("'shape'")
        .and_then(|(_, rest)| rest.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside)
        .ok_or_else(bad)?;
    let mut count: u128 = 1;
    for dim in shape.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let dim: u128 = dim.parse().map_err(|_| bad())?;
        count = count.saturating_mul(dim);
    }
    let available = (bytes.len() - start - len) as u128;
    if count > available {
        return Err(format!(
            "the header announces {count} values but only {available} bytes follow"
        ));
    }
    Ok(())
}
