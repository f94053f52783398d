//! Work off the UI thread: jobs go to named worker threads over a channel and results come back over another,
//! followed by `request_repaint`. In tests the runner executes jobs inline, in order, for determinism.

use super::file_kind::DialogKind;
use super::jobs::{Job, JobResult, execute};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

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
