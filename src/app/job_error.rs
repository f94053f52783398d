//! Why a background job gave no result: one typed error for every job of the window, cancellation included.

use crate::error::{ExportError, LoadError, LrpError, ModelError};

/// The error of a job (see [`super::jobs::JobResult`]).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The user pressed Cancel; not a failure.
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Lrp(#[from] LrpError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The preprocessed samples do not fit the model input.
    #[error(
        "the preprocessed sample has {got} values but the model takes {input_shape:?} ({input_len} values); \
         adjust the preprocessing"
    )]
    InputSize {
        got: usize,
        input_shape: Vec<usize>,
        input_len: usize,
    },
    /// The loaded samples, preprocessed, do not fit the model input.
    #[error("{height}x{width} samples (+ padding {pad}) do not fit the model input {input_shape:?}")]
    SamplesDoNotFit {
        height: usize,
        width: usize,
        pad: usize,
        input_shape: Vec<usize>,
    },
    /// What the job was asked cannot be done (e.g. a conditional heatmap under a gradient baseline).
    #[error("{message}")]
    Request { message: String },
}

impl JobError {
    /// Shorthand for a [`JobError::Request`].
    pub fn request(message: impl Into<String>) -> Self {
        JobError::Request {
            message: message.into(),
        }
    }

    /// The error of an analysis that still reports a message.
    // TODO(issue10a): goes away when faithfulness, conditional heatmaps and the gallery return typed errors.
    pub fn from_analysis(message: String) -> Self {
        if message == "cancelled" {
            JobError::Cancelled
        } else {
            JobError::Request { message }
        }
    }

    /// Whether the job was cancelled rather than failed.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JobError::Cancelled)
    }
}
