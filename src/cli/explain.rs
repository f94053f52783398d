//! `lrp-explorer explain`: relevance for the samples of an `.npy` file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ndarray::{ArrayD, Axis, IxDyn};

use super::{OutputArg, parse_target, read_npy_f32, write_npy};
use crate::lrp::{InitRelevance, Method, explain_map};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub output: OutputArg,
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
    #[arg(long, value_enum, default_value_t = InitRelevance::Logit, help = super::INIT_HELP)]
    pub init: InitRelevance,
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
    let model = args.output.load(&args.model)?.model;
    let method: Method = args.rule.parse()?;
    let target = parse_target(&args.target)?;
    let x = read_npy_f32(&args.input)?;
    let input_shape = x.shape().to_vec();
    let keep_layers = args.layers_out.is_some();
    // Chunk by chunk in parallel; only the input relevance and logits (and the layers when asked) are kept.
    let parts = explain_map(&model, &x, &method, &target, args.init, |_, e| {
        let layers = if keep_layers {
            e.relevance
        } else {
            e.relevance.into_iter().take(1).collect()
        };
        (layers, e.logits)
    })
    .with_context(|| format!("explaining {}", args.input.display()))?;
    let join = |k: usize| -> Result<ArrayD<f32>> {
        let views: Vec<_> = parts
            .iter()
            .filter_map(|(layers, _)| layers.get(k).map(|a| a.view()))
            .collect();
        Ok(ndarray::concatenate(Axis(0), &views)?)
    };
    let r = join(0)?.into_shape_with_order(IxDyn(&input_shape))?;
    write_npy(&args.out, &r)?;
    if let Some(path) = args.logits_out {
        let views: Vec<_> = parts.iter().map(|(_, logits)| logits.view()).collect();
        write_npy(&path, &ndarray::concatenate(Axis(0), &views)?.into_dyn())?;
    }
    if let Some(dir) = args.layers_out {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for k in 0..model.layers().len() {
            write_npy(&dir.join(format!("{k}.npy")), &join(k)?)?;
        }
    }
    Ok(())
}
