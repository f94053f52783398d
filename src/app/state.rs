//! The app's state: [`Settings`] (persisted between runs) apart from [`Session`] (this run's model, data, results).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::compare::CompareResult;
use super::file_kind::{BrowseRequest, PendingExport};
use crate::data::Dataset;
use crate::data::preprocess::Preprocess;
pub use crate::eval::Predictions;
use crate::eval::{ConditionalResult, FaithResult, GalleryResult, LedgerRow, Progress};
use crate::heatmap::{Colormap, Normalization};
use crate::lrp::{Baseline, Composite, InitRelevance, LayerRule, RuleChoice};
use crate::model::Model;
use crate::model::onnx::ImportReport;

/// Side of the drawing canvas (MNIST size).
pub const CANVAS_SIDE: usize = 28;

/// How many recently opened files the menu keeps.
pub const RECENT_LEN: usize = 8;

/// Everything the user chose that survives a restart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub recent_models: Vec<PathBuf>,
    /// Sample files with their label files.
    pub recent_data: Vec<(PathBuf, Option<PathBuf>)>,
    /// Preprocessing spec (`range=0,1;pad=0`); empty means "suggest from the model".
    pub preprocess: String,
    /// The preset, single rule or baseline picked (persisted as its spec, such as `epsilon_plus` or `zplus`).
    #[serde(deserialize_with = "super::settings_store::rule_choice_or_default")]
    pub rule_choice: RuleChoice,
    /// The per-layer rules as edited in the table (persisted as `0=epsilon:0.25;3=zplus`), re-applied when they fit
    /// the model.
    #[serde(deserialize_with = "super::settings_store::layer_rules_or_none")]
    pub layer_rules: Option<Composite>,
    /// The initial relevance of the LRP rules (persisted as `Logit` / `OneHot`).
    pub init: InitRelevance,
    pub colormap: Colormap,
    pub normalization: Normalization,
    /// Scale used by [`Normalization::Shared`].
    pub shared_scale: f32,
    /// Opacity of the heatmap in the overlay, `0..=1`.
    pub overlay_opacity: f32,
    pub class_filter: Option<u8>,
    pub misclassified_only: bool,
    pub sample: usize,
    /// Folder for quick exports; `None` until the first export asks for it.
    pub export_folder: Option<PathBuf>,
    /// The folder the in-window file browser last showed.
    pub browse_folder: Option<PathBuf>,
    /// Pixels per input pixel in exported PNGs.
    pub export_scale: u32,
    pub sort_neurons: bool,
    /// Output bars show logits instead of probabilities.
    pub show_logits: bool,
    pub dark_mode: bool,
    /// The view in the centre of the window.
    pub tab: CentralTab,
    /// Comparison grid: one colour scale for every cell (else each cell its own).
    pub compare_shared: bool,
    /// Comparison grid: one rule (the current choice) across samples instead of every rule on one sample.
    pub compare_across_samples: bool,
    /// Comparison grid: how many samples in the "across samples" direction.
    pub compare_count: usize,
    /// Comparison grid: cells per row as the window last laid them out (the exported picture uses the same).
    pub compare_columns: usize,
    /// Faithfulness: the rule compared with the current one.
    #[serde(deserialize_with = "super::settings_store::faith_rule_or_default")]
    pub faith_rule: RuleChoice,
    /// Faithfulness: how many samples from the first (1 = the current sample only; 100 by default).
    pub faith_samples: usize,
    /// Faithfulness: steps and the fraction removed at the last step.
    pub faith_steps: usize,
    pub faith_fraction: f32,
    /// Drawing: brush radius in canvas pixels.
    pub brush_radius: f32,
}

/// The view in the centre of the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CentralTab {
    #[default]
    Explain,
    Compare,
    Ledger,
    Faithfulness,
    Draw,
    /// "Check my LRP": a user's relevance map against the catalogue of configurations and mistakes.
    Check,
}

impl CentralTab {
    /// Every tab, in display order.
    pub const ALL: [CentralTab; 6] = [
        CentralTab::Explain,
        CentralTab::Compare,
        CentralTab::Ledger,
        CentralTab::Faithfulness,
        CentralTab::Draw,
        CentralTab::Check,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            CentralTab::Explain => "Explain",
            CentralTab::Compare => "Compare",
            CentralTab::Ledger => "Ledger",
            CentralTab::Faithfulness => "Faithfulness",
            CentralTab::Draw => "Draw",
            CentralTab::Check => "Check",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            recent_models: Vec::new(),
            recent_data: Vec::new(),
            preprocess: String::new(),
            rule_choice: RuleChoice::default(),
            layer_rules: None,
            init: InitRelevance::Logit,
            colormap: Colormap::Bwr,
            normalization: Normalization::PerImage,
            shared_scale: 1.0,
            overlay_opacity: crate::heatmap::DEFAULT_OVERLAY_OPACITY,
            class_filter: None,
            misclassified_only: false,
            sample: 0,
            export_folder: None,
            browse_folder: None,
            export_scale: 10,
            sort_neurons: true,
            show_logits: false,
            dark_mode: true,
            tab: CentralTab::Explain,
            compare_shared: false,
            compare_across_samples: false,
            compare_count: 8,
            compare_columns: 6,
            faith_rule: RuleChoice::Baseline(Baseline::Gradient),
            faith_samples: 100,
            faith_steps: 20,
            faith_fraction: 0.2,
            brush_radius: 1.2,
        }
    }
}

impl Settings {
    /// Moves `path` to the front of the recent models.
    pub fn remember_model(&mut self, path: PathBuf) {
        self.recent_models.retain(|p| *p != path);
        self.recent_models.insert(0, path);
        self.recent_models.truncate(RECENT_LEN);
    }

    /// Moves `(path, labels)` to the front of the recent sample files.
    pub fn remember_data(&mut self, path: PathBuf, labels: Option<PathBuf>) {
        self.recent_data.retain(|(p, _)| *p != path);
        self.recent_data.insert(0, (path, labels));
        self.recent_data.truncate(RECENT_LEN);
    }
}

/// One sample's values with their shape (row-major, batch dimension dropped): a layer's relevance or input.
/// Reads as the slice of its values.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleArray {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl SampleArray {
    /// Sample `i` of a batch `[N, ...]` (`None` if there is no such sample).
    pub fn of_sample(batch: &ndarray::ArrayD<f32>, i: usize) -> Option<Self> {
        if batch.ndim() == 0 || i >= batch.shape()[0] {
            return None;
        }
        let sample = batch.index_axis(ndarray::Axis(0), i);
        Some(SampleArray {
            shape: sample.shape().to_vec(),
            values: sample.iter().copied().collect(),
        })
    }

    /// The shape of one sample, e.g. `[8, 12, 12]` or `[100]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

impl std::ops::Deref for SampleArray {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.values
    }
}

/// The explanation of one sample, as the window shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainResult {
    /// The request's generation; results of older generations are dropped.
    pub generation: u64,
    pub sample: usize,
    /// The explained class.
    pub target: usize,
    pub logits: Vec<f32>,
    pub probabilities: Vec<f32>,
    /// `(height, width)` of the input picture (with padding) that the input relevance maps onto; a flat model input
    /// does not say it.
    pub image: (usize, usize),
    /// `relevance[k]`: relevance at the input of layer `k`; the last entry is the initial relevance.
    pub relevance: Vec<SampleArray>,
    /// `activations[k]`: the input of layer `k`; the last entry is the logits.
    pub activations: Vec<SampleArray>,
    /// Σ relevance at each position.
    pub totals: Vec<f32>,
    /// Wall time of `explain`, in milliseconds.
    pub duration_ms: f64,
    /// The conservation ledger, output layer first (empty for the gradient baselines).
    pub ledger: Vec<LedgerRow>,
    /// The class explained against (`Target::Contrast`), if any.
    pub contrast: Option<usize>,
}

impl ExplainResult {
    /// The predicted class (argmax of the logits).
    pub fn predicted(&self) -> usize {
        crate::lrp::argmax(&self.logits)
    }
}

/// A line shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
    /// The file the message is about (a finished export): the window offers to open its folder.
    pub file: Option<PathBuf>,
}

/// How many messages the session keeps (older ones are dropped).
pub const MESSAGES_KEPT: usize = 20;

/// The comparison grid of the Compare tab.
#[derive(Default)]
pub struct CompareState {
    /// The grid, when computed.
    pub result: Option<Arc<CompareResult>>,
    /// Of the last request; older answers are dropped.
    pub generation: u64,
    /// The grid no longer matches the sample, rules or class.
    pub stale: bool,
}

/// The pixel-flipping curves of the Faithfulness tab.
#[derive(Default)]
pub struct FaithState {
    /// The curves, when computed.
    pub result: Option<Arc<FaithResult>>,
    pub generation: u64,
    /// The running job (progress and Cancel).
    pub progress: Option<Arc<Progress>>,
}

/// The unit chosen in the layer stepper and what was computed for it.
#[derive(Default)]
pub struct UnitState {
    /// `(stepper position, unit)` whose conditional heatmap is shown.
    pub chosen: Option<(usize, usize)>,
    pub generation: u64,
    pub conditional: Option<Arc<ConditionalResult>>,
    pub gallery: Option<GalleryResult>,
    /// The running gallery job.
    pub gallery_progress: Option<Arc<Progress>>,
}

/// What this run holds: nothing here is persisted.
#[derive(Default)]
pub struct Session {
    pub model: Option<Arc<Model>>,
    pub model_path: Option<PathBuf>,
    pub model_notes: Vec<String>,
    /// Key/value metadata of the model file (e.g. its preprocessing spec).
    pub model_metadata: std::collections::BTreeMap<String, String>,
    /// For ONNX files: what the import did (producer, input layout, explained output).
    pub model_import: Option<Box<ImportReport>>,
    pub dataset: Option<Arc<Dataset>>,
    pub data_path: Option<PathBuf>,
    pub preprocess: Preprocess,
    /// Where the preprocessing came from, shown next to it.
    pub preprocess_source: Option<crate::data::PreprocessSource>,
    /// A spec the user gave in this run (command line or the window); it wins over everything remembered.
    pub preprocess_given: Option<String>,
    /// Rule of every layer of the model (LRP methods); empty for the gradient baselines.
    pub plan: Vec<LayerRule>,
    /// Why the current rules cannot be used, if they cannot.
    pub rule_error: Option<String>,
    /// `None`: explain the predicted class.
    pub target: Option<usize>,
    /// Selected position in the layer stepper: `k` shows the relevance at the input of layer `k`
    /// (`layers` = the output).
    pub layer: usize,
    pub result: Option<Arc<ExplainResult>>,
    /// Generation of the latest explain request.
    pub generation: u64,
    /// Generation of the model/data/preprocessing, for the predictions job.
    pub data_generation: u64,
    pub predictions: Option<Predictions>,
    pub messages: Vec<Message>,
    /// Jobs sent and not yet answered.
    pub pending: usize,
    /// Explain "the target rather than this class".
    pub contrast: Option<usize>,
    /// The comparison grid.
    pub compare: CompareState,
    /// The faithfulness curves.
    pub faith: FaithState,
    /// The chosen unit, its conditional heatmap and its gallery.
    pub unit: UnitState,
    /// The drawing canvas (28×28 raw intensities, ink = 1), when drawing.
    pub canvas: Option<Vec<f32>>,
    /// The Check tab: the user's relevance file and its diagnosis.
    pub check: super::check::CheckState,
    /// The in-window file browser, when shown.
    pub browse: Option<BrowseRequest>,
    /// Whether a desktop portal answered a file dialog (`None`: not tried yet).
    pub portal: Option<bool>,
    /// An export waiting for the export folder to be chosen.
    pub after_folder: Option<PendingExport>,
}

impl Session {
    /// The facts of the status bar's model line after the model's name: for an ONNX file the producer, the input
    /// layout and the explained output (`pytorch 2.15.0 · input NHWC [N,28,28,1] · output probabilities`), else
    /// the input shape; `None` with no model.
    pub fn model_line(&self) -> Option<String> {
        let model = self.model.as_ref()?;
        Some(match &self.model_import {
            Some(report) => report.model_line(),
            None => format!("input {:?}", model.input_shape()),
        })
    }

    /// The graph outputs the user can choose to explain instead (`--output`), when there is more than one.
    pub fn output_choices(&self) -> &[String] {
        match &self.model_import {
            Some(report) if report.outputs.len() > 1 => &report.outputs,
            _ => &[],
        }
    }

    /// Records an error for the window.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push_message(text.into(), true, None);
    }

    /// Records an information line for the window.
    pub fn info(&mut self, text: impl Into<String>) {
        self.push_message(text.into(), false, None);
    }

    /// Records that `path` was written (the window names it and offers to open its folder).
    pub fn saved(&mut self, path: PathBuf) {
        self.push_message(format!("saved {}", path.display()), false, Some(path));
    }

    fn push_message(&mut self, text: String, is_error: bool, file: Option<PathBuf>) {
        self.messages.push(Message { text, is_error, file });
        let extra = self.messages.len().saturating_sub(MESSAGES_KEPT);
        self.messages.drain(..extra);
    }

    /// The last error, if any is shown.
    pub fn last_error(&self) -> Option<&str> {
        self.messages.iter().rev().find(|m| m.is_error).map(|m| m.text.as_str())
    }

    /// Number of samples (0 without data).
    pub fn sample_count(&self) -> usize {
        self.dataset.as_ref().map_or(0, |d| d.len())
    }

    /// `(height, width)` of the model input image: the dataset's (or the canvas') size plus padding.
    pub fn input_size(&self) -> Option<(usize, usize)> {
        let (h, w) = self.raw_size()?;
        Some((h + 2 * self.preprocess.pad, w + 2 * self.preprocess.pad))
    }

    /// `(height, width)` of the raw samples: the canvas while drawing, else the dataset's.
    pub fn raw_size(&self) -> Option<(usize, usize)> {
        if self.canvas.is_some() {
            return Some((CANVAS_SIDE, CANVAS_SIDE));
        }
        let d = self.dataset.as_ref()?;
        Some((d.height, d.width))
    }

    /// The predicted class of sample `i`, from the background predictions.
    pub fn predicted_class(&self, i: usize) -> Option<u8> {
        self.predictions.as_ref()?.classes.get(i).copied()
    }
}

/// What the current explanation is of: `the drawn digit (no label)`, `sample #3 (label 7)`, `sample #3 (no label)`.
pub fn subject_text(settings: &Settings, session: &Session) -> String {
    if session.canvas.is_some() {
        return "the drawn digit (no label)".to_string();
    }
    let i = settings.sample;
    match session.dataset.as_ref().and_then(|d| d.label(i)) {
        Some(l) => format!("sample #{i} (label {l})"),
        None => format!("sample #{i} (no label)"),
    }
}
