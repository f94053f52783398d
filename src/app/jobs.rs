//! Work off the UI thread: jobs go to named worker threads over a channel and results come back over another,
//! followed by `request_repaint`. In tests the runner executes jobs inline, in order, for determinism.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use image::RgbaImage;
use ndarray::{ArrayD, IxDyn};

use super::compare::{CompareRequest, CompareResult, run_compare};
use super::job_error::JobError;
use super::state::{ExplainResult, SampleArray};
use crate::data::preprocess::Preprocess;
use crate::data::{Dataset, load_dataset};
use crate::eval::{
    ConditionalRequest, ConditionalResult, FaithRequest, FaithResult, GalleryRequest, GalleryResult, Predictions,
    conservation_ledger, predict_dataset, run_conditional, run_faithfulness, run_gallery,
};
use crate::heatmap::export;
use crate::heatmap::plot::LinePlot;
use crate::lrp::{InitRelevance, ResolvedMethod, Target, argmax, explain_resolved};
use crate::model::{LoadedModel, Model, softmax_rows};

pub use super::file_kind::{DialogKind, ExportKind};

/// The content of an export, prepared on the UI thread from the current result.
#[derive(Clone, Debug)]
pub enum ExportData {
    Image(RgbaImage),
    Array {
        values: Vec<f32>,
        shape: Vec<usize>,
    },
    Csv {
        values: Vec<f32>,
        width: usize,
    },
    /// Text written as is (e.g. the faithfulness curves as CSV).
    Text(String),
    /// A line plot drawn as PNG (e.g. the faithfulness curves).
    Plot(LinePlot),
}

/// An explanation to compute.
#[derive(Clone, Debug)]
pub struct ExplainRequest {
    pub generation: u64,
    pub sample: usize,
    pub model: Arc<Model>,
    /// The preprocessed sample, `model.input_len()` values.
    pub input: Vec<f32>,
    /// `(height, width)` of the input picture (kept in the result).
    pub image: (usize, usize),
    pub method: ResolvedMethod,
    pub target: Target,
    /// Explain "the target rather than this class" (`Target::Contrast`).
    pub contrast: Option<usize>,
    pub init: InitRelevance,
}

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

/// Runs jobs: on worker threads (the app) or inline (tests).
pub struct JobRunner {
    mode: Mode,
}

enum Mode {
    Inline {
        done: VecDeque<JobResult>,
    },
    Threaded {
        explain_tx: Sender<Job>,
        io_tx: Sender<Job>,
        analysis_tx: Sender<Job>,
        results_tx: Sender<JobResult>,
        results_rx: Receiver<JobResult>,
        ctx: egui::Context,
    },
}

impl JobRunner {
    /// Executes every job at once on the calling thread; dialogs are reported as unavailable.
    pub fn inline() -> Self {
        JobRunner {
            mode: Mode::Inline { done: VecDeque::new() },
        }
    }

    /// Starts the worker threads `lrp-explain` (explanations, the latest request wins), `lrp-io`
    /// (files, predictions, exports) and `lrp-analysis` (comparison grid, faithfulness, conditional heatmaps). `ctx` is repainted when a result arrives.
    pub fn threaded(ctx: egui::Context) -> std::io::Result<Self> {
        let (results_tx, results_rx) = channel();
        let explain_tx = spawn_worker("lrp-explain", results_tx.clone(), ctx.clone())?;
        let io_tx = spawn_worker("lrp-io", results_tx.clone(), ctx.clone())?;
        let analysis_tx = spawn_worker("lrp-analysis", results_tx.clone(), ctx.clone())?;
        Ok(JobRunner {
            mode: Mode::Threaded {
                explain_tx,
                io_tx,
                analysis_tx,
                results_tx,
                results_rx,
                ctx,
            },
        })
    }

    /// Whether jobs run inline.
    pub fn is_inline(&self) -> bool {
        matches!(self.mode, Mode::Inline { .. })
    }

    /// Queues `job`. Returns false if the workers are gone.
    pub fn submit(&mut self, job: Job) -> bool {
        match &mut self.mode {
            Mode::Inline { done } => {
                let result = match job {
                    Job::Dialog { kind, .. } => JobResult::DialogClosed {
                        kind,
                        path: None,
                        duration_ms: 0.0,
                    },
                    job => execute(job),
                };
                done.push_back(result);
                true
            }
            Mode::Threaded {
                explain_tx,
                io_tx,
                analysis_tx,
                results_tx,
                ctx,
                ..
            } => match job {
                Job::Explain(_) => explain_tx.send(job).is_ok(),
                Job::Compare(_)
                | Job::Faithfulness { .. }
                | Job::Conditional { .. }
                | Job::Gallery { .. }
                | Job::Check(_) => analysis_tx.send(job).is_ok(),
                Job::Dialog {
                    kind,
                    suggested_name,
                    folder,
                } => spawn_dialog(kind, suggested_name, folder, results_tx.clone(), ctx.clone()).is_ok(),
                job => io_tx.send(job).is_ok(),
            },
        }
    }

    /// The results that arrived, without waiting.
    pub fn poll(&mut self) -> Vec<JobResult> {
        match &mut self.mode {
            Mode::Inline { done } => done.drain(..).collect(),
            Mode::Threaded { results_rx, .. } => results_rx.try_iter().collect(),
        }
    }
}

fn spawn_worker(name: &str, results: Sender<JobResult>, ctx: egui::Context) -> std::io::Result<Sender<Job>> {
    let (tx, rx) = channel::<Job>();
    std::thread::Builder::new().name(name.into()).spawn(move || {
        while let Ok(mut job) = rx.recv() {
            // While dragging a slider many explain requests queue up: only the newest matters.
            if matches!(job, Job::Explain(_)) {
                while let Ok(next) = rx.try_recv() {
                    job = next;
                }
            }
            // Likewise a newer grid or conditional heatmap replaces a queued one.
            if matches!(job, Job::Compare(_) | Job::Conditional { .. }) {
                let mut rest = Vec::new();
                while let Ok(next) = rx.try_recv() {
                    if std::mem::discriminant(&next) == std::mem::discriminant(&job) {
                        job = next;
                    } else {
                        rest.push(next);
                    }
                }
                for other in rest {
                    if results.send(execute(other)).is_err() {
                        return;
                    }
                }
            }
            if results.send(execute(job)).is_err() {
                break;
            }
            ctx.request_repaint();
        }
    })?;
    Ok(tx)
}

fn spawn_dialog(
    kind: DialogKind,
    suggested_name: String,
    folder: Option<PathBuf>,
    results: Sender<JobResult>,
    ctx: egui::Context,
) -> std::io::Result<()> {
    std::thread::Builder::new().name("lrp-dialog".into()).spawn(move || {
        let start = Instant::now();
        let path = super::file_kind::ask_portal(kind, &suggested_name, folder.as_deref());
        let duration_ms = start.elapsed().as_secs_f64() * 1e3;
        let _ = results.send(JobResult::DialogClosed {
            kind,
            path,
            duration_ms,
        });
        ctx.request_repaint();
    })?;
    Ok(())
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

fn write_export(path: &std::path::Path, data: &ExportData) -> Result<(), JobError> {
    match data {
        ExportData::Image(img) => export::save_png(path, img),
        ExportData::Array { values, shape } => export::save_npy(path, values, shape),
        ExportData::Csv { values, width } => export::save_csv(path, values, *width),
        ExportData::Text(text) => export::write_new_atomic(path, text.as_bytes()),
        ExportData::Plot(plot) => crate::heatmap::plot::save_line_plot(path, plot),
    }?;
    Ok(())
}

/// Explains one sample and keeps everything the window shows, each array with its shape.
pub fn run_explain(req: &ExplainRequest) -> Result<ExplainResult, JobError> {
    let model = &req.model;
    let mut shape = vec![1];
    shape.extend_from_slice(model.input_shape());
    let x = ArrayD::from_shape_vec(IxDyn(&shape), req.input.clone()).map_err(|_| JobError::InputSize {
        got: req.input.len(),
        input_shape: model.input_shape().to_vec(),
        input_len: model.input_len(),
    })?;
    let start = Instant::now();
    let target = match (req.contrast, &req.target) {
        (None, t) => t.clone(),
        (Some(against), Target::Class(class)) => Target::Contrast { class: *class, against },
        (Some(against), _) => {
            let logits = model.logits(&x)?;
            let class = argmax(logits.row(0));
            Target::Contrast { class, against }
        }
    };
    let e = explain_resolved(model, &x, &req.method, &target, req.init)?;
    let duration_ms = start.elapsed().as_secs_f64() * 1e3;
    let ledger = req
        .method
        .plan()
        .map(|plan| conservation_ledger(model, &e, plan, 0))
        .unwrap_or_default();
    let probabilities = softmax_rows(&e.logits).iter().copied().collect();
    let totals = e.layer_totals().row(0).to_vec();
    let of_sample = |arrays: &[ArrayD<f32>]| arrays.iter().filter_map(|a| SampleArray::of_sample(a, 0)).collect();
    Ok(ExplainResult {
        generation: req.generation,
        sample: req.sample,
        target: e.targets.first().copied().unwrap_or(0),
        logits: e.logits.row(0).to_vec(),
        probabilities,
        image: req.image,
        relevance: of_sample(&e.relevance),
        activations: of_sample(&e.activations),
        totals,
        duration_ms,
        ledger,
        contrast: req.contrast,
    })
}
