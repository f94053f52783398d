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
use crate::model::Model;

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

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InitArg {
    Logit,
    Onehot,
}

impl From<InitArg> for InitRelevance {
    fn from(v: InitArg) -> Self {
        match v {
            InitArg::Logit => InitRelevance::Logit,
            InitArg::Onehot => InitRelevance::OneHot,
        }
    }
}

/// Entry point of the binary: parses arguments, runs, prints one error line on failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
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

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => crate::app::run_gui(crate::app::GuiOptions {
            model: cli.inputs.model,
            data: cli.inputs.data,
            labels: cli.inputs.labels,
            preprocess: cli.inputs.preprocess,
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

/// Writes an array as `.npy`, atomically (temp file + rename).
pub fn write_npy(path: &Path, a: &ArrayD<f32>) -> Result<()> {
    let tmp = tmp_path(path);
    let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let a = a.as_standard_layout();
    let values = a.as_slice().unwrap_or(&[]);
    let mut w = std::io::BufWriter::new(file);
    crate::heatmap::export::write_npy_f32(&mut w, values, a.shape())
        .and_then(|()| std::io::Write::flush(&mut w))
        .with_context(|| format!("writing {}", path.display()))?;
    drop(w);
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}
