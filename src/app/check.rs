//! The *Check* tab's state and background work: a relevance map computed by the user's own code, read from a file
//! and compared (by [`crate::diagnose`]) with every configuration and classic mistake for the current sample.
//!
//! Reading the file and diagnosing run on the analysis worker; the tab only draws the [`CheckResult`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use super::jobs::{DialogKind, Job};
use super::{Command, LrpApp};
use crate::diagnose::{self, Diagnosis, Options, Verdict, reading::UserMaps};
use crate::model::Model;

/// Extensions of relevance files (what a drop on the Check tab opens).
pub const RELEVANCE_EXTENSIONS: [&str; 4] = ["npy", "mat", "csv", "txt"];

/// What the Check tab asks of the app.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckCommand {
    /// Read a relevance file and check it against the current sample.
    Open(PathBuf),
    /// Ask for a relevance file in a dialog.
    Dialog,
    /// Forget the file.
    Close,
}

/// The Check tab's part of the session.
#[derive(Default)]
pub struct CheckState {
    /// The file being checked.
    pub path: Option<PathBuf>,
    /// Its maps, as read for a model input of `input_len` values.
    pub file: Option<Arc<CheckFile>>,
    /// Generation of the latest diagnosis request.
    pub generation: u64,
    pub result: Option<Arc<CheckResult>>,
    /// Why there is no result (file unreadable, wrong size, no map for this sample).
    pub problem: Option<String>,
    /// A diagnosis is on its way.
    pub running: bool,
    /// The file is being read.
    pub loading: bool,
}

/// A relevance file read for one model input size.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckFile {
    pub maps: UserMaps,
    pub input_len: usize,
}

impl CheckFile {
    /// The map belonging to `sample`: the only one, or the `sample`-th of several (the file's maps are samples
    /// `0..N` of the set).
    pub fn map_for(&self, sample: usize) -> Result<&[f32], String> {
        match self.maps.maps.as_slice() {
            [one] => Ok(one),
            many => many.get(sample).map(Vec::as_slice).ok_or_else(|| {
                format!(
                    "the file holds {} maps, for samples 0..{}: choose one of those samples",
                    many.len(),
                    many.len()
                )
            }),
        }
    }
}

/// One diagnosis to compute.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub generation: u64,
    pub sample: usize,
    pub model: Arc<Model>,
    /// The preprocessed sample, `model.input_len()` values.
    pub input: Vec<f32>,
    /// The user's map for it, in the model's input order.
    pub user: Vec<f32>,
    /// `None`: the predicted class.
    pub class: Option<usize>,
    /// The input range (for z^B).
    pub bounds: (f32, f32),
}

/// A picture of the check: `height × width` values (channels summed).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckMap {
    pub title: String,
    pub values: Vec<f32>,
}

/// The diagnosis of one sample, with the four maps the tab shows.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub generation: u64,
    pub sample: usize,
    pub diagnosis: Diagnosis,
    /// The plain-language explanation of the best match.
    pub explanation: Vec<String>,
    /// One line per ranked candidate: (configuration, correlation, normalised max error, identical).
    pub rows: Vec<(String, f64, f64, bool)>,
    /// The user's map, the best match, the recommended map and (user − recommended), each scaled to max |R| = 1.
    pub maps: [CheckMap; 4],
    pub width: usize,
    pub height: usize,
}

impl CheckResult {
    /// The verdict in words.
    pub fn verdict_text(&self) -> &'static str {
        verdict_text(self.diagnosis.verdict)
    }
}

/// The verdict of a diagnosis in words.
pub fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Identical => "identical within float32",
        Verdict::Close => "close match (the same map up to scale)",
        Verdict::Likely => "likely match (similar, not the same)",
        Verdict::NoCloseMatch => "no close match",
    }
}

/// Work of the Check tab for the analysis worker.
#[derive(Clone, Debug)]
pub enum CheckJob {
    /// Read a relevance file for a model input of `input_len` values forming an image of `image` (h, w).
    Load {
        path: PathBuf,
        input_len: usize,
        image: Option<(usize, usize)>,
    },
    Diagnose(CheckRequest),
}

/// The answer to a [`CheckJob`].
#[derive(Debug)]
pub enum CheckOutcome {
    Loaded {
        path: PathBuf,
        result: Result<CheckFile, String>,
    },
    Diagnosed {
        generation: u64,
        result: Result<Box<CheckResult>, String>,
    },
}

/// Runs one job of the Check tab.
pub fn execute(job: CheckJob) -> CheckOutcome {
    match job {
        CheckJob::Load { path, input_len, image } => {
            let result = diagnose::reading::read(&path, input_len, image)
                .map(|maps| CheckFile { maps, input_len })
                .map_err(|e| e.to_string());
            CheckOutcome::Loaded { path, result }
        }
        CheckJob::Diagnose(req) => CheckOutcome::Diagnosed {
            generation: req.generation,
            result: run_check(&req).map(Box::new),
        },
    }
}

/// Diagnoses the user's map of one sample and prepares what the tab shows.
pub fn run_check(req: &CheckRequest) -> Result<CheckResult, String> {
    let model = &req.model;
    let mut shape = vec![1];
    shape.extend_from_slice(model.input_shape());
    let x = ArrayD::from_shape_vec(IxDyn(&shape), req.input.clone()).map_err(|_| {
        format!(
            "the preprocessed sample has {} values but the model takes {}",
            req.input.len(),
            model.input_len()
        )
    })?;
    let options = Options {
        bounds: req.bounds,
        class: req.class,
        keep: 12,
        ..Options::default()
    };
    let d = diagnose::diagnose(model, &x, &req.user, &options).map_err(|e| e.to_string())?;
    let (channels, height, width) = diagnose::image_dims(model).unwrap_or((1, 1, model.input_len()));
    let pixels = |v: &[f32]| channel_sum(v, channels, height * width);
    let best = d.best().ok_or("the catalogue is empty for this model")?;
    let user = pixels(&req.user);
    let rec = pixels(&d.recommended_map);
    let difference = scaled(&user).iter().zip(scaled(&rec)).map(|(u, r)| u - r).collect();
    let rec_label = d.configs[d.recommended].label.clone();
    let maps = [
        CheckMap {
            title: "Your map".into(),
            values: user,
        },
        CheckMap {
            title: format!("Best match: {}", d.describe(best)),
            values: pixels(&best.map),
        },
        CheckMap {
            title: format!("Recommended: {rec_label} from the class logit"),
            values: rec,
        },
        CheckMap {
            title: "Difference: yours − recommended (each scaled to max |R| = 1)".into(),
            values: difference,
        },
    ];
    let rows = d
        .ranked
        .iter()
        .map(|m| (d.describe(m), m.correlation, m.max_error, m.identical))
        .collect();
    Ok(CheckResult {
        generation: req.generation,
        sample: req.sample,
        explanation: d.explanation(model),
        rows,
        diagnosis: d,
        maps,
        width,
        height,
    })
}

/// `channels` planes of `plane` values summed into one.
fn channel_sum(v: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let mut out = vec![0.0; plane];
    for c in v.chunks_exact(plane.max(1)).take(channels) {
        for (o, x) in out.iter_mut().zip(c) {
            *o += x;
        }
    }
    out
}

/// `v / max |v|` (unchanged when all zero; NaN stays NaN).
fn scaled(v: &[f32]) -> Vec<f32> {
    let m = v.iter().filter(|x| x.is_finite()).fold(0.0f32, |m, &x| m.max(x.abs()));
    if m > 0.0 {
        v.iter().map(|x| x / m).collect()
    } else {
        v.to_vec()
    }
}

/// Relevance files dropped on the window (while the Check tab is shown).
pub fn dropped_relevance_commands(ctx: &egui::Context) -> Vec<Command> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| is_relevance_file(p))
            .map(|p| Command::Check(CheckCommand::Open(p)))
            .collect()
    })
}

fn is_relevance_file(p: &Path) -> bool {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| RELEVANCE_EXTENSIONS.contains(&e.as_str()))
}

impl LrpApp {
    /// Applies a command of the Check tab.
    pub(super) fn run_check_command(&mut self, command: CheckCommand) {
        match command {
            CheckCommand::Open(path) => {
                let check = &mut self.session.check;
                check.path = Some(path);
                check.file = None;
                check.result = None;
                check.problem = None;
                check.loading = false;
                self.request_check();
            }
            CheckCommand::Dialog => self.ask_for_file(DialogKind::OpenRelevance),
            CheckCommand::Close => self.session.check = Default::default(),
        }
    }

    fn load_relevance(&mut self, path: PathBuf, model: &Model) {
        let image = diagnose::image_dims(model).map(|(_, h, w)| (h, w));
        self.session.check.loading = true;
        self.submit(Job::Check(CheckJob::Load {
            path,
            input_len: model.input_len(),
            image,
        }));
    }

    /// Applies an answer of the Check tab's jobs (stale ones are dropped).
    pub(super) fn handle_check_outcome(&mut self, outcome: CheckOutcome) {
        match outcome {
            CheckOutcome::Loaded { path, result } => {
                if self.session.check.path.as_ref() != Some(&path) {
                    return;
                }
                self.session.check.loading = false;
                match result {
                    Ok(file) => {
                        self.session.check.file = Some(Arc::new(file));
                        self.request_check();
                    }
                    Err(e) => self.session.check.problem = Some(e),
                }
            }
            CheckOutcome::Diagnosed { generation, result } => {
                if generation != self.session.check.generation {
                    return;
                }
                self.session.check.running = false;
                match result {
                    Ok(r) => {
                        self.session.check.result = Some(Arc::new(*r));
                        self.session.check.problem = None;
                    }
                    Err(e) => {
                        self.session.check.result = None;
                        self.session.check.problem = Some(e);
                    }
                }
            }
        }
    }

    /// Diagnoses the open relevance file for the current sample, model and class (when a file is open).
    pub(super) fn request_check(&mut self) {
        let (Some(model), Some(path)) = (self.session.model.clone(), self.session.check.path.clone()) else {
            return;
        };
        let Some(file) = self.session.check.file.clone() else {
            if !self.session.check.loading && self.session.check.problem.is_none() {
                self.load_relevance(path, &model);
            }
            return;
        };
        if file.input_len != model.input_len() {
            // Another model: read the file again for its input size.
            self.session.check.file = None;
            self.load_relevance(path, &model);
            return;
        }
        let Some((sample, input)) = self.current_input() else {
            return;
        };
        let user = match file.map_for(sample) {
            Ok(m) => m.to_vec(),
            Err(e) => {
                self.session.check.result = None;
                self.session.check.problem = Some(e);
                return;
            }
        };
        self.session.check.generation += 1;
        self.session.check.running = true;
        self.submit(Job::Check(CheckJob::Diagnose(CheckRequest {
            generation: self.session.check.generation,
            sample,
            model,
            input,
            user,
            class: self.session.target,
            bounds: self.session.preprocess.box_bounds(),
        })));
    }

    /// The result of a relevance-file dialog.
    pub(super) fn relevance_chosen(&mut self, path: PathBuf) {
        self.run_check_command(CheckCommand::Open(path));
    }
}
