//! Bytes → ONNX protobuf: reading the file and decoding it, with errors that say what went wrong.

use std::path::Path;

use prost::Message;

use super::proto::ModelProto;
use crate::error::LoadError;

/// Protobuf messages cannot exceed 2 GiB; a larger `.onnx` file is not a valid model (weights go in external files).
const MAX_MODEL_BYTES: u64 = 2 << 30;

/// Reads a whole model file, refusing files that cannot be a single protobuf message.
pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let len = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?.len();
    if len > MAX_MODEL_BYTES {
        return Err(LoadError::format(
            path,
            format!("{len} bytes is larger than the 2 GiB protobuf limit: not an ONNX model file"),
        ));
    }
    std::fs::read(path).map_err(|e| LoadError::io(path, e))
}

/// Decodes an ONNX `ModelProto`, telling "empty", "not protobuf" and "protobuf but not a model" apart.
pub(super) fn decode(bytes: &[u8], path: &Path) -> Result<ModelProto, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::format(path, "the file is empty"));
    }
    let model = ModelProto::decode(bytes).map_err(|e| {
        LoadError::format(
            path,
            format!("not an ONNX model, or truncated: the protobuf could not be decoded ({e})"),
        )
    })?;
    if model.graph.is_none() {
        return Err(LoadError::format(path, "not an ONNX model: it has no graph"));
    }
    if model.ir_version.unwrap_or(0) <= 0 {
        return Err(LoadError::format(path, "not an ONNX model: the IR version is missing"));
    }
    Ok(model)
}
