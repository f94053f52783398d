//! Opening a model file of any supported format, by extension.

use std::path::Path;

use super::Model;
use crate::error::LoadError;

/// A model with notes on how its file was interpreted.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    pub model: Model,
    pub notes: Vec<String>,
}

/// Opens `path` by its extension.
pub fn load(path: &Path) -> Result<LoadedModel, LoadError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    #[allow(clippy::match_single_binding)] // one arm per format is added as readers land
    match ext.as_str() {
        _ => Err(LoadError::format(
            path,
            format!("unknown model format {ext:?}; supported: .onnx, .txt (LRP Toolbox), .npz, .mat (weights)"),
        )),
    }
}
