//! `lrp-explorer diagnose`: which configuration, or which classic mistake, produced the user's relevance maps.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use ndarray::{ArrayD, Axis, IxDyn};

use super::{InputArgs, read_npy_f32};
use crate::diagnose::{self, Diagnosis, Options, Verdict, reading};
use crate::model::Model;

#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Model inputs as a float32 .npy `[N, ...]`, used as given (instead of --data).
    #[arg(long, conflicts_with = "data")]
    pub input: Option<PathBuf>,
    /// Samples of --data, `a..b` (half-open); default: as many as the relevance file holds maps, from 0.
    #[arg(long)]
    pub samples: Option<String>,
    /// The user's relevance: .npy, .mat or .csv, `[N, 784]`, `[784, N]`, `[N, 28, 28]`, `[28, 28, N]` or one map.
    #[arg(long)]
    pub relevance: PathBuf,
    /// `predicted` or a class index.
    #[arg(long, default_value = "predicted")]
    pub target: String,
    /// Input bounds `low,high` for z^B (default: the preprocessing's range, or the inputs' own range).
    #[arg(long)]
    pub bounds: Option<String>,
    /// Rows of the ranked table printed per sample.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
}

pub fn run(args: DiagnoseArgs) -> Result<()> {
    let (model, inputs, bounds) = inputs_of(&args)?;
    let image = diagnose::image_dims(&model).map(|(_, h, w)| (h, w));
    let user = reading::read(&args.relevance, model.input_len(), image)?;
    println!("relevance: {}: {}", args.relevance.display(), user.reading);
    let n = inputs.shape()[0];
    if user.maps.len() != n {
        bail!(
            "{} holds {} map(s) but {n} sample(s) were given (use --samples a..b to choose as many)",
            args.relevance.display(),
            user.maps.len()
        );
    }
    let class = match super::parse_target(&args.target)? {
        crate::lrp::Target::Class(c) => Some(c),
        _ => None,
    };
    let options = Options {
        bounds,
        class,
        keep: args.top.max(1),
        ..Options::default()
    };
    for (i, map) in user.maps.iter().enumerate() {
        let x = inputs.index_axis(Axis(0), i).insert_axis(Axis(0)).to_owned();
        let d = diagnose::diagnose(&model, &x, map, &options).with_context(|| format!("diagnosing sample {i}"))?;
        print!("{}", report(&model, i, &d, args.top));
    }
    Ok(())
}

/// The model, the inputs `[N, ...]` and the z^B bounds.
fn inputs_of(args: &DiagnoseArgs) -> Result<(Model, ArrayD<f32>, (f32, f32))> {
    let given_bounds = args.bounds.as_deref().map(parse_bounds).transpose()?;
    if let Some(path) = &args.input {
        let model_path = args
            .inputs
            .model
            .clone()
            .context("--input needs --model (the network the map was computed with)")?;
        let model = args.inputs.output.load(&model_path)?.model;
        let x = read_npy_f32(path)?;
        let lo = x.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        let hi = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let bounds = given_bounds.unwrap_or(if lo >= 0.0 && hi <= 1.0 { (0.0, 1.0) } else { (lo, hi) });
        let n = x.shape().first().copied().unwrap_or(0);
        let mut shape = vec![n];
        shape.extend_from_slice(model.input_shape());
        let x = x
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&shape))
            .with_context(|| format!("{}: not {n} inputs of shape {:?}", path.display(), model.input_shape()))?;
        return Ok((model, x, bounds));
    }
    // With --data: as many samples as maps unless --samples says otherwise.
    let samples = match &args.samples {
        Some(s) => s.clone(),
        None => {
            let probe = crate::data::load_dataset(
                args.inputs
                    .data
                    .as_deref()
                    .context("give --data (with --samples) or --input, the inputs the map was computed for")?,
                args.inputs.labels.as_deref(),
            )?;
            let image = Some((probe.height, probe.width));
            let maps = reading::read(&args.relevance, probe.height * probe.width, image)
                .map(|u| u.maps.len())
                .unwrap_or(1);
            format!("0..{}", maps.min(probe.len()).max(1))
        }
    };
    let p = super::eval::prepare(&args.inputs, &samples)?;
    let bounds = given_bounds.unwrap_or_else(|| p.preprocess.box_bounds());
    let n = p.inputs.nrows();
    let mut shape = vec![n];
    shape.extend_from_slice(p.loaded.model.input_shape());
    let x = p.inputs.into_dyn().into_shape_with_order(IxDyn(&shape))?;
    Ok((p.loaded.model, x, bounds))
}

fn parse_bounds(s: &str) -> Result<(f32, f32)> {
    let (l, h) = s.split_once(',').context("--bounds must be `low,high`")?;
    let l: f32 = l.trim().parse().context("--bounds: bad low")?;
    let h: f32 = h.trim().parse().context("--bounds: bad high")?;
    if l > h {
        bail!("--bounds: low {l} is above high {h}");
    }
    Ok((l, h))
}

/// The ranked table and the explanation of one sample.
pub fn report(model: &Model, sample: usize, d: &Diagnosis, top: usize) -> String {
    let mut s = String::new();
    let logit = d.logits.get(d.class).copied().unwrap_or(f32::NAN);
    let _ = writeln!(
        s,
        "\nsample {sample}: class {} (logit {logit:.4}); {} candidates compared",
        d.class, d.compared
    );
    let _ = writeln!(
        s,
        "  rank  {:<70} {:>8} {:>10}  identical",
        "configuration", "corr", "max err"
    );
    for (k, m) in d.ranked.iter().take(top).enumerate() {
        let _ = writeln!(
            s,
            "  {:<4}  {:<70} {:>8.4} {:>10.2e}  {}",
            k + 1,
            d.describe(m),
            m.correlation,
            m.max_error,
            if m.identical { "yes" } else { "no" }
        );
    }
    let verdict = match d.verdict {
        Verdict::Identical => "identical within float32",
        Verdict::Close => "close match (same map up to scale)",
        Verdict::Likely => "likely match",
        Verdict::NoCloseMatch => "no close match",
    };
    let _ = writeln!(s, "verdict: {verdict}");
    for line in d.explanation(model) {
        let _ = writeln!(s, "  {line}");
    }
    s
}
