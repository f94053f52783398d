//! `lrp-explorer eval`: accuracy and confusion summary of a model on labelled samples, or, with `--faithfulness`,
//! pixel-flipping curves and AOPC per rule against a random baseline.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::InputArgs;
use crate::data::{Dataset, choose_preprocess, default_asset, labels_next_to};
use crate::eval::{FaithRequest, FlipSettings, Progress, confusion, run_faithfulness};
use crate::heatmap::plot::save_line_plot;
use crate::lrp::{InitRelevance, Method, Target};
use crate::model::LoadedModel;

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Pixel-flipping faithfulness of each --rule instead of accuracy.
    #[arg(long)]
    pub faithfulness: bool,
    /// Rule specs to compare (with --faithfulness); repeat the flag.
    #[arg(long)]
    pub rule: Vec<String>,
    /// Samples `a..b` (half-open) or `all`.
    #[arg(long, default_value = "all")]
    pub samples: String,
    /// Perturbation steps.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Fraction of the input removed at the last step.
    #[arg(long, default_value_t = 0.2)]
    pub fraction: f32,
    /// Also write the mean curves as CSV here (with --faithfulness; the window's format; never overwritten
    /// without --force). Without it the table is only printed.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
    /// Also draw the mean curves as a PNG plot here (with --faithfulness; never overwritten without --force).
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
    /// Seed of the random baseline order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `a..b` (half-open) or `all`, checked against `len`.
pub fn parse_samples(spec: &str, len: usize) -> Result<Range<usize>> {
    if spec == "all" {
        return Ok(0..len);
    }
    let Some((a, b)) = spec.split_once("..") else {
        bail!("--samples must be `a..b` or `all`, got {spec:?}");
    };
    let a: usize = a
        .trim()
        .parse()
        .with_context(|| format!("--samples {spec:?}: bad start"))?;
    let b: usize = b
        .trim()
        .parse()
        .with_context(|| format!("--samples {spec:?}: bad end"))?;
    if a >= b || b > len {
        bail!("--samples {spec:?} is empty or outside the {len} samples");
    }
    Ok(a..b)
}

/// The model, dataset and preprocessed inputs `[N, input_len]` the way every data command reads them.
pub struct Prepared {
    pub model_path: PathBuf,
    pub loaded: LoadedModel,
    pub dataset: Dataset,
    pub inputs: ndarray::Array2<f32>,
    pub range: Range<usize>,
    pub preprocess: crate::data::Preprocess,
}

pub fn prepare(inputs: &InputArgs, samples: &str) -> Result<Prepared> {
    let InputArgs {
        model,
        data,
        labels,
        preprocess,
        output,
    } = inputs.clone();
    let model_path = model
        .or_else(|| default_asset("models/cnn.onnx"))
        .context("no --model given and no bundled model found")?;
    let data_path = data
        .or_else(|| default_asset("test-images-idx3-ubyte.gz"))
        .context("no --data given and no bundled samples found")?;
    let loaded = output.load(&model_path)?;
    let labels = labels.or_else(|| labels_next_to(&data_path));
    let dataset = crate::data::load_dataset(&data_path, labels.as_deref())?;
    let (pre, source) = choose_preprocess(
        preprocess.as_deref(),
        &model_path,
        &loaded.metadata,
        loaded.model.input_len(),
        dataset.height,
        dataset.width,
    )?;
    eprintln!("preprocessing: {pre} ({source})");
    let range = parse_samples(samples, dataset.len())?;
    let inputs = pre.apply(&dataset, range.clone());
    Ok(Prepared {
        model_path,
        loaded,
        dataset,
        inputs,
        range,
        preprocess: pre,
    })
}

pub fn run(args: EvalArgs) -> Result<()> {
    let p = prepare(&args.inputs, &args.samples)?;
    if args.faithfulness {
        return faithfulness(&args, &p);
    }
    let Some(labels) = &p.dataset.labels else {
        bail!("{}: accuracy needs labels (give --labels)", p.dataset.source);
    };
    let labels = &labels[p.range.clone()];
    let c = confusion(&p.loaded.model, p.inputs.view(), labels)
        .with_context(|| format!("evaluating {}", p.model_path.display()))?;
    print!("{}", c.report(p.dataset.class_names.as_deref()));
    Ok(())
}

fn faithfulness(args: &EvalArgs, p: &Prepared) -> Result<()> {
    if args.rule.is_empty() {
        bail!("--faithfulness needs at least one --rule <SPEC>");
    }
    for path in args.csv.iter().chain(&args.plot) {
        if path.exists() && !args.force {
            bail!("{} exists; pass --force to replace it", path.display());
        }
    }
    let model = Arc::new(p.loaded.model.clone());
    let methods = args
        .rule
        .iter()
        .map(|spec| Ok((spec.clone(), spec.parse::<Method>()?)))
        .collect::<Result<Vec<_>>>()?;
    let request = FaithRequest {
        model: model.clone(),
        inputs: p.inputs.rows().into_iter().map(|row| row.to_vec()).collect(),
        methods,
        target: Target::Predicted,
        init: InitRelevance::Logit,
        settings: FlipSettings {
            steps: args.steps,
            fraction: args.fraction,
            // Removed pixels take the value of a background pixel under the model's preprocessing.
            fill: p.preprocess.map(0.0),
        },
        seed: args.seed,
        progress: Arc::new(Progress::default()),
    };
    let result = run_faithfulness(&request)?;
    print!("{}", result.table());
    let n = result.samples;
    if let Some(path) = &args.csv {
        let write = if args.force {
            crate::atomic_file::replace(path, result.to_csv().as_bytes())
        } else {
            crate::atomic_file::create_new(path, result.to_csv().as_bytes())
        };
        write.with_context(|| format!("writing {}", path.display()))?;
        eprintln!("curves of {n} samples written to {}", path.display());
    }
    if let Some(path) = &args.plot {
        if args.force && path.exists() {
            std::fs::remove_file(path).with_context(|| format!("replacing {}", path.display()))?;
        }
        save_line_plot(path, &result.line_plot(model.name()))?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}
