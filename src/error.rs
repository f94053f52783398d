//! Typed errors of the library: loading files, building models and explaining.

use std::path::PathBuf;

/// A model or data file could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: unsupported ONNX op {op_type:?} in node {node:?}; supported ops: {supported}")]
    UnsupportedOp {
        path: PathBuf,
        op_type: String,
        node: String,
        supported: String,
    },
    #[error("{path}: invalid model: {source}")]
    Model {
        path: PathBuf,
        #[source]
        source: ModelError,
    },
}

impl LoadError {
    /// Shorthand for a format error about `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        LoadError::Format {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LoadError::Io {
            path: path.into(),
            source,
        }
    }
}

/// A network description that is inconsistent (shapes that do not chain, bad parameters).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("layer {index} ({kind}): {message}")]
    Layer {
        index: usize,
        kind: String,
        message: String,
    },
    #[error("input shape {got:?} does not match the model's input shape {expected:?}")]
    InputShape { expected: Vec<usize>, got: Vec<usize> },
    #[error("the model has no layers")]
    Empty,
    #[error("{count} weights or biases are NaN or infinite (first in layer {layer}); refusing to explain")]
    NonFinite { layer: usize, count: usize },
}

/// An explanation could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum LrpError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("target class {target} is out of range: the model has {classes} outputs")]
    Target { target: usize, classes: usize },
    #[error("invalid rule: {0}")]
    Rule(String),
    /// A rule that does not fit its layer (bad parameters, or a rule for another kind of layer).
    #[error("layer {index} ({kind}): {message}")]
    LayerRule {
        index: usize,
        kind: String,
        message: String,
    },
    #[error("rule spec {spec:?}: {message}")]
    Spec { spec: String, message: String },
}

/// A network could not be trained (bad data, bad settings, or a loss that blew up).
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("training data: {message}")]
    Data { message: String },
    #[error("training settings: {message}")]
    Config { message: String },
    #[error("layer {index} ({kind}) cannot be trained: {message}")]
    Unsupported {
        index: usize,
        kind: String,
        message: String,
    },
    #[error("the loss became {loss} at epoch {epoch}, batch {batch}; try a smaller learning rate")]
    Diverged { epoch: usize, batch: usize, loss: f32 },
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl TrainError {
    /// Shorthand for a data error.
    pub fn data(message: impl Into<String>) -> Self {
        TrainError::Data {
            message: message.into(),
        }
    }

    /// Shorthand for a settings error.
    pub fn config(message: impl Into<String>) -> Self {
        TrainError::Config {
            message: message.into(),
        }
    }
}

/// A result could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: already exists; not overwriting it")]
    Exists { path: PathBuf },
    #[error("{path}: cannot encode: {message}")]
    Encode { path: PathBuf, message: String },
    #[error("{path}: the folder is not empty; refusing to write into it without --force")]
    NotEmpty { path: PathBuf },
    #[error("samples {start}..{end}: out of range, the dataset has {len} samples (indices 0..{len})")]
    Samples { start: usize, end: usize, len: usize },
    #[error("shard {index}/{count}: the shard index must be below the shard count, and the count at least 1")]
    Shard { index: usize, count: usize },
    #[error("target `true` needs labels, but {data} has none (give them with --labels)")]
    NoLabels { data: String },
    #[error("target class {class} is out of range: the model has {classes} outputs")]
    TargetClass { class: usize, classes: usize },
    #[error("{height}x{width} samples do not fit the model input {input_shape:?} ({input_len} values)")]
    InputSize {
        height: usize,
        width: usize,
        input_shape: Vec<usize>,
        input_len: usize,
    },
    #[error("explaining samples {first}..={last}: {source}")]
    Explain {
        first: usize,
        last: usize,
        #[source]
        source: LrpError,
    },
}

/// A preprocessing spec (`range=<lo>,<hi>;normalize=<mean>,<std>;pad=<n>`) that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("preprocessing spec {spec:?}: {message}")]
pub struct PreprocessError {
    pub spec: String,
    pub message: String,
}
