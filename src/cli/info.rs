//! `lrp-explorer info`: what a model or a data file holds.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{OutputArg, describe_model};
use crate::lrp::{Method, multiply_adds};

/// What `--init` does, printed with every model.
pub const INIT_NOTE: &str = "initial relevance: LRP rules start from --init (logit: the class's logit, or onehot: 1); \
                             the gradient baselines differentiate the target logit whatever --init says";

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArg,
    /// Also print the multiply-adds per sample that this rule spec costs on the model (LRP rules only).
    #[arg(long)]
    pub rule: Option<String>,
}

pub fn run(args: InfoArgs) -> Result<()> {
    let (model, data) = match (args.model, args.data) {
        (None, None) => (
            crate::data::default_asset("models/cnn.onnx"),
            crate::data::default_asset("test-images-idx3-ubyte.gz"),
        ),
        other => other,
    };
    if model.is_none() && data.is_none() {
        bail!("give --model <FILE> and/or --data <FILE> (no bundled defaults found)");
    }
    if let Some(path) = model {
        let m = args.output.load(&path)?;
        print!("{}", describe_model(&m.model));
        for note in &m.notes {
            println!("note: {note}");
        }
        for (key, value) in &m.metadata {
            println!("metadata: {key} = {value}");
        }
        println!("{INIT_NOTE}");
        if let Some(spec) = &args.rule {
            let Method::Lrp(composite) = spec.parse::<Method>()? else {
                bail!("--rule {spec}: the cost is counted for LRP rules, not for gradient baselines");
            };
            let cost = multiply_adds(&m.model, &composite.resolve(&m.model)?);
            println!(
                "cost of {spec}: {} multiply-adds per sample (forward {}, relevance {}), {:.3} MFLOP",
                cost.forward + cost.relevance,
                cost.forward,
                cost.relevance,
                cost.flops() as f64 / 1e6
            );
        }
    }
    if let Some(path) = data {
        let labels = args.labels.or_else(|| crate::data::labels_next_to(&path));
        let ds = crate::data::load_dataset(&path, labels.as_deref())?;
        println!("{}", crate::data::summary(&ds).trim_end());
    }
    Ok(())
}
