//! What panels ask of the app. Panels draw from the state and return commands; the app applies them afterwards.

use std::path::PathBuf;

use super::jobs::{DialogKind, ExportKind};
use crate::lrp::{LayerRule, RuleChoice};

/// A request from the UI, applied by [`super::LrpApp::run_command`] after drawing.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Ask for a file: the desktop portal's dialog on a worker, else the in-window browser.
    Dialog(DialogKind),
    /// The in-window browser's answer.
    FileChosen {
        kind: DialogKind,
        path: PathBuf,
    },
    /// The in-window browser was cancelled.
    CloseBrowser,
    OpenModel(PathBuf),
    /// Reopen the current ONNX model explaining this graph output.
    ChooseOutput(String),
    OpenData {
        path: PathBuf,
        labels: Option<PathBuf>,
    },
    /// Load labels for the current samples.
    OpenLabels(PathBuf),
    SelectSample(usize),
    /// Move through the filtered samples by this many steps.
    StepSample(i64),
    /// `None`: explain the predicted class.
    SelectClass(Option<usize>),
    /// A preset, single rule or baseline (usually one of [`crate::lrp::REGISTRY`]).
    ChooseRule(RuleChoice),
    /// Change the rule of one layer.
    SetLayerRule {
        layer: usize,
        rule: LayerRule,
    },
    SetPreprocess(String),
    SelectLayer(usize),
    /// Move in the layer stepper (positive: towards the output).
    StepLayer(i64),
    /// Export to the export folder under a fresh name.
    Export(ExportKind),
    /// Recompute with the current settings (initial relevance changed, …).
    Recompute,
    /// Dismiss every message (Escape).
    ClearMessages,
    /// Dismiss the message at this index of `Session::messages`.
    DismissMessage(usize),
    /// Show a folder in the desktop's file manager.
    OpenFolder(PathBuf),
    /// Explain the target rather than this class (`None`: the target alone).
    SetContrast(Option<usize>),
    /// Compute the comparison grid for the current sample and settings.
    RunCompare,
    /// Export the comparison grid as one PNG.
    ExportCompare,
    /// Compute the faithfulness curves in the background.
    RunFaithfulness,
    /// Export the faithfulness curves as CSV.
    ExportFaithfulness,
    /// Export the faithfulness curves as a PNG plot.
    ExportFaithfulnessPlot,
    /// Stop the running faithfulness and gallery jobs.
    CancelAnalysis,
    /// Show the conditional heatmap of one unit at a stepper position, and its gallery.
    SelectUnit {
        position: usize,
        unit: usize,
    },
    ClearUnit,
    /// The canvas changed (28×28 raw intensities): it becomes the current sample.
    Draw(Vec<f32>),
    /// Back to the loaded samples.
    StopDrawing,
    /// The Check tab: a relevance file to check.
    Check(super::check::CheckCommand),
}
