//! `lrp-explorer explain`: relevance for the samples of an `.npy` file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ndarray::IxDyn;

use super::{InitArg, parse_target, read_npy_f32, write_npy};
use crate::lrp::{Method, explain};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// float32 .npy `[N, ...]`, used as given (no preprocessing) and reshaped row-major to the model input.
    #[arg(long)]
    pub input: PathBuf,
    /// Rule spec: a rule (`epsilon:0.25`), a preset (`epsilon_plus_flat`), a baseline (`gradient`) or per-layer
    /// assignments (`*=zplus;first=wsquare`).
    #[arg(long)]
    pub rule: String,
    /// Relevance at the input, float32 .npy with the shape of --input.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = InitArg::Logit)]
    pub init: InitArg,
    /// `predicted` or a class index.
    #[arg(long, default_value = "predicted")]
    pub target: String,
    #[arg(long)]
    pub logits_out: Option<PathBuf>,
    /// Writes `<DIR>/<k>.npy`: the relevance at the input of layer k.
    #[arg(long)]
    pub layers_out: Option<PathBuf>,
}

pub fn run(args: ExplainArgs) -> Result<()> {
    let model = crate::model::load(&args.model)?.model;
    let method: Method = args.rule.parse()?;
    let target = parse_target(&args.target)?;
    let x = read_npy_f32(&args.input)?;
    let input_shape = x.shape().to_vec();
    let e = explain(&model, &x, &method, &target, args.init.into())
        .with_context(|| format!("explaining {}", args.input.display()))?;
    let r = e.input_relevance().clone().into_shape_with_order(IxDyn(&input_shape))?;
    write_npy(&args.out, &r)?;
    if let Some(path) = args.logits_out {
        write_npy(&path, &e.logits.clone().into_dyn())?;
    }
    if let Some(dir) = args.layers_out {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (k, r) in e.relevance.iter().enumerate().take(model.layers().len()) {
            write_npy(&dir.join(format!("{k}.npy")), r)?;
        }
    }
    Ok(())
}
