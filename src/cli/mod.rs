//! The command line: argument parsing and the headless commands. `anyhow` with context lives at this edge.

mod diagnose;
mod eval;
mod explain;
mod export;
mod info;
mod train;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

use crate::lrp::{InitRelevance, Target};
use crate::model::onnx::ImportOptions;
use crate::model::{LoadedModel, Model};

#[derive(Parser, Debug)]
#[command(
    name = "lrp-explorer",
    version,
    about = "Explore Layer-wise Relevance Propagation on small vision networks",
    long_about = "Explore Layer-wise Relevance Propagation on small vision networks.\n\nWith no subcommand, opens the \
                  window (on the bundled model and samples unless --model/--data are given)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The window: open the Check tab on this relevance map (.npy, .mat or .csv) computed by your own code.
    #[arg(long)]
    pub relevance: Option<PathBuf>,
}

/// The model and samples a command works on; missing ones come from the bundled defaults.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct InputArgs {
    /// Model (.onnx, LRP Toolbox .txt, weights .npz/.mat); default: the bundled CNN.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Samples (IDX, CSV, .npy/.npz, .mat, images or a folder of images); default: the bundled test split.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Labels for --data, when they are not found next to it.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Preprocessing from raw pixels in [0,1] to model input, e.g. `range=-1,1;pad=2`.
    #[arg(long)]
    pub preprocess: Option<String>,
    #[command(flatten)]
    pub output: OutputArg,
}

/// `--output NAME`: which output of an ONNX graph to explain.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OutputArg {
    /// ONNX models: the graph output (or any tensor) to explain instead of the float scores chosen automatically
    /// (`info` lists them).
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,
}

impl OutputArg {
    /// Opens the model at `path` with this choice of output.
    pub fn load(&self, path: &Path) -> Result<LoadedModel, crate::error::LoadError> {
        crate::model::load_with(
            path,
            &ImportOptions {
                output: self.output.clone(),
            },
        )
    }
}

/// What the command line asks the window to open (the CLI knows nothing of the window; `main` passes this on).
#[derive(Debug)]
pub struct WindowArgs {
    pub inputs: InputArgs,
    /// A relevance map for the Check tab.
    pub relevance: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Describe a model (one line per layer) and/or a data file.
    Info(info::InfoArgs),
    /// Explain the samples of an .npy file and write the input relevance as .npy.
    Explain(explain::ExplainArgs),
    /// Explain many samples of a dataset and write one PNG each (plus raw relevance and an index), on all cores.
    Export(export::ExportArgs),
    /// Train an MLP or a small CNN on labelled samples and write it as ONNX.
    Train(train::TrainArgs),
    /// Accuracy of a model on labelled samples, or pixel-flipping faithfulness of rules (--faithfulness).
    Eval(eval::EvalArgs),
    /// Which configuration, or which classic mistake of hand-written LRP, produced your relevance maps.
    Diagnose(diagnose::DiagnoseArgs),
}

/// `--init logit|onehot` parses straight into the engine's type (no mirror enum to keep in step).
impl ValueEnum for InitRelevance {
    fn value_variants<'a>() -> &'a [Self] {
        &InitRelevance::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            InitRelevance::Logit => "the explained class's logit (LRP Toolbox)",
            InitRelevance::OneHot => "1 for the explained class (Zennit)",
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
    }
}

/// Help of every `--init` flag.
pub const INIT_HELP: &str = "Initial relevance of the LRP rules. The gradient baselines (gradient, \
                             input_x_gradient, integrated_gradients) always differentiate the target logit, \
                             whatever --init says";

/// Entry point of the binary: parses arguments, runs (with no subcommand: `open_window` with the inputs given),
/// prints one error line on failure. The window is passed in so that the command line needs nothing of it.
pub fn main(open_window: impl FnOnce(WindowArgs) -> Result<()>) -> ExitCode {
    let cli = Cli::parse();
    match run(cli, open_window) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn chain(e: &anyhow::Error) -> String {
    // Causes that an outer message already quotes (thiserror's `{source}`) are not repeated.
    let mut text = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if text.is_empty() {
            text = cause;
        } else if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

pub fn run(cli: Cli, open_window: impl FnOnce(WindowArgs) -> Result<()>) -> Result<()> {
    match cli.command {
        None => open_window(WindowArgs {
            inputs: cli.inputs,
            relevance: cli.relevance,
        }),
        Some(Command::Info(args)) => info::run(args),
        Some(Command::Explain(args)) => explain::run(args),
        Some(Command::Export(args)) => export::run(args),
        Some(Command::Train(args)) => train::run(args),
        Some(Command::Eval(args)) => eval::run(args),
        Some(Command::Diagnose(args)) => diagnose::run(args),
    }
}

/// `predicted` or a class index.
pub fn parse_target(s: &str) -> Result<Target> {
    if s == "predicted" {
        return Ok(Target::Predicted);
    }
    let c: usize = s
        .parse()
        .with_context(|| format!("--target must be `predicted` or a class index, got {s:?}"))?;
    Ok(Target::Class(c))
}

/// One line per layer: index, kind, input → output shape, parameters.
pub fn describe_model(m: &Model) -> String {
    let mut s = format!(
        "model: {}\ninput: {:?}\noutputs: {}\nparameters: {}\n",
        m.name(),
        m.input_shape(),
        m.num_outputs(),
        m.parameter_count()
    );
    for (k, layer) in m.layers().iter().enumerate() {
        s.push_str(&format!(
            "{k:>3}  {:<10} {:?} -> {:?}  {}\n",
            layer.kind().name(),
            m.shape_at(k),
            m.shape_at(k + 1),
            layer.describe()
        ));
    }
    s
}

/// Reads a float32 (or float64, converted) `.npy`.
pub fn read_npy_f32(path: &Path) -> Result<ArrayD<f32>> {
    let open = || std::fs::File::open(path).with_context(|| format!("opening {}", path.display()));
    match ArrayD::<f32>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(first) => match ArrayD::<f64>::read_npy(open()?) {
            Ok(a) => Ok(a.mapv(|v| v as f32)),
            Err(_) => Err(first).with_context(|| format!("{}: not a float32 .npy array", path.display())),
        },
    }
}

/// Writes an array as `.npy`, atomically (temp file + rename, see [`crate::atomic_file`]).
pub fn write_npy(path: &Path, a: &ArrayD<f32>) -> Result<()> {
    let values = crate::ops::row_major(a);
    crate::atomic_file::replace_with(path, |file| {
        let mut w = std::io::BufWriter::new(file);
        crate::heatmap::export::write_npy_f32(&mut w, &values, a.shape())?;
        std::io::Write::flush(&mut w)
    })
    .with_context(|| format!("writing {}", path.display()))
}
