//! ONNX files ↔ [`Model`]: the only module that sees ONNX protobuf types.
//!
//! Reading is three steps: bytes → protobuf ([`parse`]), a short pipeline of graph rewrites ([`passes`]: output
//! selection, constant folding, identity removal, layout), then graph → [`Model`] ([`convert`], with one small
//! builder per op family in [`ops`]); [`report`] says what the passes did. Writing ([`writer`]) produces classic-exporter-style files (opset 17,
//! IR version 8) that onnxruntime and `onnx.checker` accept.

mod attr;
mod constants;
mod convert;
mod graph;
mod ops;
mod parse;
mod passes;
mod proto;
mod report;
mod tensor;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;

use super::Model;
use crate::error::LoadError;

pub use convert::ImportOptions;
pub use report::{ImportReport, InputLayout};
pub use writer::{to_bytes, write};

/// A model read from an ONNX file, with what the file says about itself.
#[derive(Clone, Debug)]
pub struct OnnxModel {
    /// The network, named after the file stem.
    pub model: Model,
    /// The file's `metadata_props` (key → value).
    pub metadata: BTreeMap<String, String>,
    /// Version of the default (`ai.onnx`) operator set the file imports.
    pub opset: i64,
    /// What the import did: folded, removed and absorbed nodes, the input layout, the explained output.
    pub report: ImportReport,
}

/// Reads the ONNX model at `path` (external weight files are resolved next to it).
pub fn load(path: &Path) -> Result<Model, LoadError> {
    read(path).map(|onnx| onnx.model)
}

/// Reads the ONNX model at `path`, keeping its metadata and opset.
pub fn read(path: &Path) -> Result<OnnxModel, LoadError> {
    read_with(path, &ImportOptions::default())
}

/// Reads the ONNX model at `path` with the user's choices (e.g. which output to explain).
pub fn read_with(path: &Path, options: &ImportOptions) -> Result<OnnxModel, LoadError> {
    let bytes = parse::read_file(path)?;
    from_bytes_with(&bytes, path, options)
}

/// Converts the bytes of an ONNX file. `path` names the model in errors, gives the model its name (the file stem)
/// and is the place next to which external weight files are looked for; it is not read itself.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<OnnxModel, LoadError> {
    from_bytes_with(bytes, path, &ImportOptions::default())
}

/// [`from_bytes`] with the user's choices.
pub fn from_bytes_with(bytes: &[u8], path: &Path, options: &ImportOptions) -> Result<OnnxModel, LoadError> {
    let proto = parse::decode(bytes, path)?;
    convert::convert(&proto, path, options)
}

/// The op types the reader understands, comma-separated (also part of [`LoadError::UnsupportedOp`]).
pub fn supported_ops() -> String {
    ops::supported().to_string()
}
