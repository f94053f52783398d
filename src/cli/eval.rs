//! `lrp-explorer eval`: accuracy and confusion summary of a model on labelled samples, or, with `--faithfulness`,
//! pixel-flipping curves and AOPC per rule against a random baseline.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use ndarray::{ArrayD, IxDyn};

use super::InputArgs;
use crate::data::{Dataset, choose_preprocess};
use crate::eval::{FlipOrder, FlipSettings, aopc, confusion, perturbation_curves};
use crate::heatmap::plot::{LinePlot, save_line_plot};
use crate::lrp::{InitRelevance, Method, Target, explain};
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
    /// Where to write the mean curves as CSV (default: `faithfulness.csv`; never overwritten without --force).
    #[arg(long)]
    pub curves_out: Option<PathBuf>,
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
    } = inputs.clone();
    let model_path = model
        .or_else(|| crate::app::default_asset("models/cnn.onnx"))
        .context("no --model given and no bundled model found")?;
    let data_path = data
        .or_else(|| crate::app::default_asset("test-images-idx3-ubyte.gz"))
        .context("no --data given and no bundled samples found")?;
    let loaded = crate::model::load(&model_path)?;
    let labels = labels.or_else(|| crate::app::labels_next_to(&data_path));
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
    let out = args
        .curves_out
        .clone()
        .unwrap_or_else(|| PathBuf::from("faithfulness.csv"));
    for path in std::iter::once(&out).chain(&args.plot) {
        if path.exists() && !args.force {
            bail!("{} exists; pass --force to replace it", path.display());
        }
    }
    let model = &p.loaded.model;
    let n = p.inputs.nrows();
    let x = ArrayD::from_shape_vec(IxDyn(&[n, model.input_len()]), p.inputs.iter().copied().collect())?;
    let settings = FlipSettings {
        steps: args.steps,
        fraction: args.fraction,
        // Removed pixels take the value of a background pixel under the model's preprocessing.
        fill: p.preprocess.map(0.0),
    };
    let mut rows: Vec<(String, Vec<f32>, Vec<f32>)> = vec![];
    let mut targets = None;
    for spec in &args.rule {
        let method: Method = spec.parse()?;
        let e = explain(model, &x, &method, &Target::Predicted, InitRelevance::Logit)?;
        let curves = perturbation_curves(
            model,
            &x,
            e.input_relevance(),
            &e.targets,
            FlipOrder::MostRelevantFirst,
            &settings,
        )?;
        let (removed, mean) = mean_curve(&curves);
        rows.push((spec.clone(), removed, mean));
        targets.get_or_insert(e.targets);
    }
    let targets = targets.unwrap_or_default();
    let curves = perturbation_curves(
        model,
        &x,
        &ArrayD::zeros(x.raw_dim()),
        &targets,
        FlipOrder::Random { seed: args.seed },
        &settings,
    )?;
    let (removed, mean) = mean_curve(&curves);
    rows.push(("random".to_string(), removed, mean));

    println!(
        "{:<28} {:>10} {:>12} {:>12}",
        "rule", "AOPC", "logit start", "logit end"
    );
    for (rule, _, mean) in &rows {
        println!(
            "{:<28} {:>10.4} {:>12.4} {:>12.4}",
            rule,
            aopc(mean),
            mean.first().copied().unwrap_or(0.0),
            mean.last().copied().unwrap_or(0.0)
        );
    }
    let mut csv = String::from("rule,step,fraction_removed,mean_target_logit\n");
    for (rule, removed, mean) in &rows {
        for (k, (r, v)) in removed.iter().zip(mean).enumerate() {
            let _ = writeln!(csv, "\"{}\",{k},{r},{v}", rule.replace('"', "\"\""));
        }
    }
    crate::heatmap::export::replace_atomic(&out, csv.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("curves of {n} samples written to {}", out.display());
    if let Some(path) = &args.plot {
        let title = format!(
            "Pixel flipping · {} · predicted class · {n} sample{}",
            model.name(),
            if n == 1 { "" } else { "s" }
        );
        let (random, rules) = rows.split_last().context("no curves")?;
        let rules: Vec<(String, Vec<f32>, f32)> =
            rules.iter().map(|(l, _, m)| (l.clone(), m.clone(), aopc(m))).collect();
        let plot = LinePlot::faithfulness(title, &random.1, &rules, Some((&random.2, aopc(&random.2))));
        if args.force && path.exists() {
            std::fs::remove_file(path).with_context(|| format!("replacing {}", path.display()))?;
        }
        save_line_plot(path, &plot)?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}

/// The point-wise mean of curves sampled at the same fractions.
fn mean_curve(curves: &[crate::eval::PerturbationCurve]) -> (Vec<f32>, Vec<f32>) {
    let Some(first) = curves.first() else {
        return (vec![], vec![]);
    };
    let mut mean = vec![0.0f32; first.values.len()];
    for c in curves {
        for (m, v) in mean.iter_mut().zip(&c.values) {
            *m += v / curves.len() as f32;
        }
    }
    (first.removed.clone(), mean)
}
