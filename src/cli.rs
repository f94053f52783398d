//! The command line: argument parsing and the headless commands. `anyhow` with context lives at this edge.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::lrp::{InitRelevance, Method, Target, explain};
use crate::model::Model;

#[derive(Parser, Debug)]
#[command(
    name = "lrp-explorer",
    version,
    about = "Explore Layer-wise Relevance Propagation on small vision networks"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Describe a model (one line per layer) or a data file.
    Info {
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Explain the samples of an .npy file and write the input relevance as .npy.
    Explain {
        #[arg(long)]
        model: PathBuf,
        /// float32 .npy `[N, ...]`, used as given and reshaped row-major to the model input.
        #[arg(long)]
        input: PathBuf,
        /// Rule spec: a rule (`epsilon:0.25`), a preset (`epsilon_plus_flat`), a baseline (`gradient`) or per-layer
        /// assignments (`*=zplus;first=wsquare`).
        #[arg(long)]
        rule: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = InitArg::Logit)]
        init: InitArg,
        /// `predicted` or a class index.
        #[arg(long, default_value = "predicted")]
        target: String,
        #[arg(long)]
        logits_out: Option<PathBuf>,
        /// Writes `<DIR>/<k>.npy`: the relevance at the input of layer k.
        #[arg(long)]
        layers_out: Option<PathBuf>,
    },
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
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            Ok(())
        }
        Some(Command::Info { model }) => {
            let Some(model) = model else {
                bail!("give --model <FILE>")
            };
            let m = crate::model::load(&model)?;
            print!("{}", describe_model(&m.model));
            for note in &m.notes {
                println!("note: {note}");
            }
            Ok(())
        }
        Some(Command::Explain {
            model,
            input,
            rule,
            out,
            init,
            target,
            logits_out,
            layers_out,
        }) => {
            let m = crate::model::load(&model)?.model;
            let method: Method = rule.parse()?;
            let target = parse_target(&target)?;
            let x = read_npy_f32(&input)?;
            let input_shape = x.shape().to_vec();
            let e = explain(&m, &x, &method, &target, init.into())
                .with_context(|| format!("explaining {}", input.display()))?;
            let r = e.input_relevance().clone().into_shape_with_order(IxDyn(&input_shape))?;
            write_npy(&out, &r)?;
            if let Some(path) = logits_out {
                write_npy(&path, &e.logits.clone().into_dyn())?;
            }
            if let Some(dir) = layers_out {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                for (k, r) in e.relevance.iter().enumerate().take(m.layers().len()) {
                    write_npy(&dir.join(format!("{k}.npy")), r)?;
                }
            }
            Ok(())
        }
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
    let mut w = std::io::BufWriter::new(file);
    a.as_standard_layout()
        .write_npy(&mut w)
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
