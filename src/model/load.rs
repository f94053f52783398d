//! Opening a model file of any supported format, by extension.

use std::collections::BTreeMap;
use std::path::Path;

use super::onnx::{ImportOptions, ImportReport};
use super::{Activation, Model};
use crate::error::LoadError;

/// A model with notes on how its file was interpreted.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    pub model: Model,
    pub notes: Vec<String>,
    /// Key/value metadata stored in the file (ONNX `metadata_props`), e.g. the preprocessing spec.
    pub metadata: BTreeMap<String, String>,
    /// For ONNX files: what the import did (producer, input layout, explained output, …).
    pub import: Option<Box<ImportReport>>,
}

/// Opens `path` by its extension.
pub fn load(path: &Path) -> Result<LoadedModel, LoadError> {
    load_with(path, &ImportOptions::default())
}

/// Opens `path` by its extension, with the user's choices for ONNX files (which output to explain).
pub fn load_with(path: &Path, options: &ImportOptions) -> Result<LoadedModel, LoadError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if let (Some(output), false) = (&options.output, ext == "onnx") {
        return Err(LoadError::format(
            path,
            format!("--output {output:?} chooses among the outputs of an ONNX graph; a .{ext} model has one output"),
        ));
    }
    match ext.as_str() {
        "onnx" => {
            let m = super::onnx::read_with(path, options)?;
            Ok(LoadedModel {
                notes: m.report.lines(),
                model: m.model,
                metadata: m.metadata,
                import: Some(Box::new(m.report)),
            })
        }
        "txt" => {
            let m = super::toolbox_txt::load(path, None)?;
            // The LRP Toolbox's own MNIST code scales pixels to [-1, 1] (and pads to 32×32 for its CNNs).
            let metadata = BTreeMap::from([(crate::data::RANGE_CONVENTION_KEY.to_string(), "-1,1".to_string())]);
            Ok(LoadedModel {
                model: m.model,
                notes: m.notes,
                metadata,
                import: None,
            })
        }
        "npz" | "mat" => {
            let m = if ext == "npz" {
                super::weights_npz::load(path, Activation::Relu)?
            } else {
                super::weights_mat::load(path, Activation::Relu)?
            };
            Ok(LoadedModel {
                model: m.model,
                notes: m.notes,
                metadata: BTreeMap::new(),
                import: None,
            })
        }
        _ => Err(LoadError::format(
            path,
            format!("unknown model format {ext:?}; supported: .onnx, .txt (LRP Toolbox), .npz, .mat (weights)"),
        )),
    }
}
