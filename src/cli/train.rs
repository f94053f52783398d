//! `lrp-explorer train`: trains an MLP or the LeNet-style CNN and writes ONNX that other tools can open.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::train::{Arch, Optimizer, TrainConfig, TrainData, accuracy, train};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ArchArg {
    Mlp,
    Cnn,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OptimizerArg {
    Adam,
    Sgd,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled training samples (any supported data format).
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub arch: ArchArg,
    /// Hidden layer sizes of the MLP, e.g. `300,100`.
    #[arg(long, default_value = "300,100", value_delimiter = ',')]
    pub hidden: Vec<usize>,
    /// Where to write the ONNX model.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    pub optimizer: OptimizerArg,
    /// Learning rate (default 1e-3 for Adam, 0.05 for SGD).
    #[arg(long)]
    pub lr: Option<f32>,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Labelled samples to report the test accuracy on (stored in the model's metadata).
    #[arg(long)]
    pub test_data: Option<PathBuf>,
    #[arg(long)]
    pub test_labels: Option<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    if args.out.exists() && !args.force {
        bail!("{} exists; pass --force to replace it", args.out.display());
    }
    let labels = args.labels.clone().or_else(|| crate::data::labels_next_to(&args.data));
    let ds = crate::data::load_dataset(&args.data, labels.as_deref())?;
    let Some(train_labels) = ds.labels.clone() else {
        bail!("{}: training needs labels (give --labels)", args.data.display());
    };
    let arch = match args.arch {
        ArchArg::Mlp => Arch::Mlp {
            hidden: args.hidden.clone(),
        },
        ArchArg::Cnn => Arch::Cnn,
    };
    let optimizer = match args.optimizer {
        OptimizerArg::Adam => Optimizer::Adam {
            lr: args.lr.unwrap_or(1e-3),
        },
        OptimizerArg::Sgd => Optimizer::Sgd {
            lr: args.lr.unwrap_or(0.05),
            momentum: args.momentum,
        },
    };
    let config = TrainConfig {
        arch,
        epochs: args.epochs,
        batch_size: args.batch,
        optimizer,
        seed: args.seed,
    };
    let data = TrainData {
        images: &ds.images,
        labels: &train_labels,
        height: ds.height,
        width: ds.width,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} batches, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let model = train(&data, &config, &mut |p| {
        bar.set_length(p.batches as u64);
        bar.set_position(p.batch as u64);
        bar.set_message(format!("{}/{} loss {:.4}", p.epoch + 1, p.epochs, p.loss));
    })
    .with_context(|| format!("training on {}", args.data.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let train_acc = accuracy(&model, &ds.images, &train_labels);
    println!(
        "trained {} in {seconds:.1} s: training accuracy {train_acc:.4}",
        model.name()
    );

    let mut metadata = BTreeMap::new();
    metadata.insert("preprocess".to_string(), "range=0,1".to_string());
    metadata.insert(
        "trained_by".to_string(),
        format!(
            "lrp-explorer {} train --arch {:?} --epochs {} --seed {} --optimizer {:?} --batch {}",
            env!("CARGO_PKG_VERSION"),
            args.arch,
            args.epochs,
            args.seed,
            args.optimizer,
            args.batch
        )
        .to_lowercase(),
    );
    metadata.insert("train_accuracy".to_string(), format!("{train_acc:.4}"));
    if let Some(test) = &args.test_data {
        let labels = args.test_labels.clone().or_else(|| crate::data::labels_next_to(test));
        let tds = crate::data::load_dataset(test, labels.as_deref())?;
        let Some(test_labels) = &tds.labels else {
            bail!("{}: the test set needs labels", test.display());
        };
        let test_acc = accuracy(&model, &tds.images, test_labels);
        println!("test accuracy {test_acc:.4} on {} samples", tds.len());
        metadata.insert("test_accuracy".to_string(), format!("{test_acc:.4}"));
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::model::onnx::write(&model, &metadata, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
