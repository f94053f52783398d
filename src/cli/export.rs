//! `lrp-explorer export`: one heatmap PNG per sample of a dataset (plus raw relevance and an index), on all cores.
//!
//! Files are named `00042_label7_pred7.png` (`00042_pred7.png` without labels). The index is `index.csv`, or
//! `index_<i>of<n>.csv` with `--shard i/n` so that shards sharing a folder (with `--force`) keep their own.

use std::io::IsTerminal;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::export::{ExportJob, ExportTarget, Layout, Picture, RawFormat, Shard, export_batch};
use crate::heatmap::{Colormap, DEFAULT_OVERLAY_OPACITY};
use crate::lrp::{InitRelevance, Method};

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model (.onnx, LRP Toolbox .txt, weights .npz/.mat).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub output: super::OutputArg,
    /// Samples (IDX, CSV, .npy/.npz, .mat, images or a folder of images).
    #[arg(long)]
    pub data: PathBuf,
    /// Labels for --data, when they are not found next to it.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Rule spec: a rule (`epsilon:0.25`), a preset (`epsilon_plus_flat`), a baseline (`gradient`) or per-layer
    /// assignments (`*=zplus;first=wsquare`).
    #[arg(long)]
    pub rule: String,
    /// Output folder: created if missing, must be empty unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Dataset indices to export: `a..b` (half-open), `a..` (to the end) or `all`.
    #[arg(long, default_value = "all")]
    pub samples: String,
    /// Preprocessing from raw pixels to model input, e.g. `range=-1,1;pad=2` (default: remembered for the model or
    /// implied by its input size).
    #[arg(long)]
    pub preprocess: Option<String>,
    /// `predicted`, `true` (the label) or a class index.
    #[arg(long, default_value = "predicted")]
    pub target: String,
    #[arg(long, value_enum, default_value_t = InitRelevance::Logit, help = super::INIT_HELP)]
    pub init: InitRelevance,
    #[arg(long, value_enum, default_value_t = LayoutArg::Heatmap)]
    pub layout: LayoutArg,
    #[arg(long, value_enum, default_value_t = ColormapArg::Bwr)]
    pub colormap: ColormapArg,
    /// Pixels per input pixel in the PNGs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub scale: u32,
    /// Also write each sample's input relevance (`.npy`: float32 shaped like one model input; `.csv`).
    #[arg(long, value_enum)]
    pub raw: Option<RawArg>,
    /// Write into a non-empty folder, replacing files of the same name.
    #[arg(long)]
    pub force: bool,
    /// `i/n`: export every n-th selected sample starting at the i-th (0-based), for job arrays. The index is then
    /// `index_<i>of<n>.csv`, so shards can share a folder (pass --force when it may already hold another shard's
    /// files).
    #[arg(long, default_value = "0/1")]
    pub shard: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    Heatmap,
    SideBySide,
    Overlay,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColormapArg {
    Bwr,
    Rdbu,
    Puor,
    Coldhot,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RawArg {
    Npy,
    Csv,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let cancel = Arc::new(AtomicBool::new(false));
    for &signal in signal_hook::consts::TERM_SIGNALS {
        // A second Ctrl-C exits at once; the first only raises the flag the export polls between chunks.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&cancel))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&cancel)))
            .context("installing the Ctrl-C handler")?;
    }
    let method: Method = args.rule.parse()?;
    let target = parse_export_target(&args.target)?;
    let shard = parse_shard(&args.shard)?;
    let loaded = args.output.load(&args.model)?;
    let dataset = crate::data::load_dataset(&args.data, args.labels.as_deref())?;
    let samples = parse_samples(&args.samples, dataset.len())?;
    let (preprocess, source) = crate::data::choose_preprocess(
        args.preprocess.as_deref(),
        &args.model,
        &loaded.metadata,
        loaded.model.input_len(),
        dataset.height,
        dataset.width,
    )?;
    eprintln!("preprocessing: {preprocess} ({source})");
    let mut job = ExportJob::new(loaded.model, dataset, preprocess, method, args.out.clone());
    job.target = target;
    job.init = args.init;
    job.samples = samples;
    job.shard = shard;
    job.raw = args.raw.map(|r| match r {
        RawArg::Npy => RawFormat::Npy,
        RawArg::Csv => RawFormat::Csv,
    });
    job.overwrite = args.force;
    job.picture = Picture {
        layout: match args.layout {
            LayoutArg::Heatmap => Layout::Heatmap,
            LayoutArg::SideBySide => Layout::SideBySide,
            LayoutArg::Overlay => Layout::Overlay,
        },
        colormap: match args.colormap {
            ColormapArg::Bwr => Colormap::Bwr,
            ColormapArg::Rdbu => Colormap::RdBu,
            ColormapArg::Puor => Colormap::PuOr,
            ColormapArg::Coldhot => Colormap::ColdHot,
        },
        scale: args.scale,
        overlay_opacity: DEFAULT_OVERLAY_OPACITY,
    };

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} samples  {per_sec}  eta {eta}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    if cancel.load(Ordering::SeqCst) {
        bail!("interrupted before the export started; nothing written");
    }
    let started = Instant::now();
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let result = export_batch(&job, &progress, &cancel);
    bar.finish_and_clear();
    let summary = result.with_context(|| format!("exporting to {}", args.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    if summary.cancelled {
        bail!(
            "interrupted: wrote {} of {} samples; {} lists them",
            summary.written,
            summary.selected,
            summary.index_path.display()
        );
    }
    eprintln!(
        "exported {} samples to {} in {secs:.1} s ({:.0} samples/s); index: {}",
        summary.written,
        args.out.display(),
        summary.written as f64 / secs.max(1e-9),
        summary.index_path.display()
    );
    Ok(())
}

/// `predicted`, `true` or a class index.
fn parse_export_target(s: &str) -> Result<ExportTarget> {
    match s {
        "predicted" => Ok(ExportTarget::Predicted),
        "true" => Ok(ExportTarget::True),
        _ => s
            .parse()
            .map(ExportTarget::Class)
            .with_context(|| format!("--target must be `predicted`, `true` or a class index, got {s:?}")),
    }
}

/// `all`, `a..b` or `a..` (to `len`).
fn parse_samples(s: &str, len: usize) -> Result<Range<usize>> {
    if s == "all" {
        return Ok(0..len);
    }
    let bad = || format!("--samples must be `all`, `a..b` or `a..` (half-open, 0-based), got {s:?}");
    let (a, b) = s.split_once("..").with_context(bad)?;
    let start: usize = a.trim().parse().with_context(bad)?;
    let end: usize = if b.trim().is_empty() {
        len
    } else {
        b.trim().parse().with_context(bad)?
    };
    if start >= end || end > len {
        bail!("--samples {s}: out of range or empty; the dataset has {len} samples (indices 0..{len})");
    }
    Ok(start..end)
}

/// `i/n` with `i < n`.
fn parse_shard(s: &str) -> Result<Shard> {
    let bad = || format!("--shard must be `i/n` with 0 <= i < n, got {s:?}");
    let (i, n) = s.split_once('/').with_context(bad)?;
    let shard = Shard {
        index: i.trim().parse().with_context(bad)?,
        count: n.trim().parse().with_context(bad)?,
    };
    if shard.count == 0 || shard.index >= shard.count {
        bail!(bad());
    }
    Ok(shard)
}
