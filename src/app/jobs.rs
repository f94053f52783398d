//! The jobs of the window and their answers, and [`execute`], which runs one (on whichever thread the
//! [`super::runner::JobRunner`] chose). The export and explanation jobs live in `export_job.rs` and
//! `explain_job.rs`.

use super::compare::{CompareRequest, CompareResult, run_compare};
pub use super::explain_job::{ExplainRequest, run_explain};
pub use super::export_job::ExportData;
use super::export_job::write_export;
pub use super::file_kind::{DialogKind, ExportKind};
use super::job_error::JobError;
pub use super::runner::JobRunner;
use super::state::ExplainResult;
use crate::data::preprocess::Preprocess;
use crate::data::{Dataset, load_dataset};
use crate::eval::{
    ConditionalRequest, ConditionalResult, FaithRequest, FaithResult, GalleryRequest, GalleryResult, Predictions,
    predict_dataset, run_conditional, run_faithfulness, run_gallery,
};
use crate::model::{LoadedModel, Model};
use std::path::PathBuf;
use std::sync::Arc;

/// A unit of work for a worker.
#[derive(Clone, Debug)]
pub enum Job {
    /// Open a model; `output` picks the explained output of an ONNX graph (`None`: the float scores).
    LoadModel {
        path: PathBuf,
        output: Option<String>,
    },
    LoadData {
        path: PathBuf,
        labels: Option<PathBuf>,
    },
    Explain(ExplainRequest),
    /// Predict every sample (for the browser's marks and the accuracy).
    Predict {
        generation: u64,
        model: Arc<Model>,
        dataset: Arc<Dataset>,
        preprocess: Preprocess,
    },
    Export {
        path: PathBuf,
        data: ExportData,
    },
    Dialog {
        kind: DialogKind,
        suggested_name: String,
        /// The folder it opens in.
        folder: Option<PathBuf>,
    },
    /// The comparison grid (one job for every cell).
    Compare(CompareRequest),
    /// Pixel-flipping curves, cancellable through the request's progress.
    Faithfulness {
        generation: u64,
        request: FaithRequest,
    },
    /// The input heatmap of one unit's relevance.
    Conditional {
        generation: u64,
        request: ConditionalRequest,
    },
    /// The samples where one unit receives the most relevance.
    Gallery {
        generation: u64,
        request: GalleryRequest,
    },
    /// The Check tab: read a relevance file, diagnose a map.
    Check(super::check::CheckJob),
}

/// The answer to a [`Job`].
#[derive(Debug)]
pub enum JobResult {
    ModelLoaded {
        path: PathBuf,
        result: Result<LoadedModel, JobError>,
    },
    DataLoaded {
        path: PathBuf,
        labels: Option<PathBuf>,
        result: Result<Dataset, JobError>,
    },
    Explained {
        generation: u64,
        result: Result<ExplainResult, JobError>,
    },
    Predicted {
        generation: u64,
        result: Result<Predictions, JobError>,
    },
    Exported(Result<PathBuf, JobError>),
    /// `path` is `None` when cancelled or when no dialog could be shown; `duration_ms` tells those apart.
    DialogClosed {
        kind: DialogKind,
        path: Option<PathBuf>,
        duration_ms: f64,
    },
    Compared(CompareResult),
    Faithfulness {
        generation: u64,
        result: Result<FaithResult, JobError>,
    },
    Conditional {
        generation: u64,
        result: Result<ConditionalResult, JobError>,
    },
    Gallery {
        generation: u64,
        result: Result<GalleryResult, JobError>,
    },
    Check(super::check::CheckOutcome),
}

/// Runs one job to its result (on whichever thread calls it).
pub fn execute(job: Job) -> JobResult {
    match job {
        Job::LoadModel { path, output } => {
            let options = crate::model::onnx::ImportOptions { output };
            let result = crate::model::load_with(&path, &options).map_err(JobError::from);
            JobResult::ModelLoaded { path, result }
        }
        Job::LoadData { path, labels } => {
            let result = load_dataset(&path, labels.as_deref()).map_err(JobError::from);
            JobResult::DataLoaded { path, labels, result }
        }
        Job::Explain(req) => JobResult::Explained {
            generation: req.generation,
            result: run_explain(&req),
        },
        Job::Predict {
            generation,
            model,
            dataset,
            preprocess,
        } => JobResult::Predicted {
            generation,
            result: predict_dataset(&model, &dataset, &preprocess).map_err(JobError::from),
        },
        Job::Export { path, data } => JobResult::Exported(write_export(&path, &data).map(|()| path)),
        Job::Dialog { kind, .. } => JobResult::DialogClosed {
            kind,
            path: None,
            duration_ms: 0.0,
        },
        Job::Compare(req) => JobResult::Compared(run_compare(&req)),
        Job::Faithfulness { generation, request } => JobResult::Faithfulness {
            generation,
            result: run_faithfulness(&request).map_err(JobError::from),
        },
        Job::Conditional { generation, request } => JobResult::Conditional {
            generation,
            result: run_conditional(&request).map_err(JobError::from),
        },
        Job::Gallery { generation, request } => JobResult::Gallery {
            generation,
            result: run_gallery(&request).map_err(JobError::from),
        },
        Job::Check(job) => JobResult::Check(super::check::execute(job)),
    }
}
