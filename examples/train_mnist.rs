//! Trains the three default architectures on the bundled MNIST samples (`assets/`) and prints their test
//! accuracy, epochs, seed and time. Saves nothing.
//!
//! `cargo run --example train_mnist [-- mlp100|mlp300|cnn ...] [--epochs N] [--seed S] [--lr LR] [--batch B]
//! [--momentum M (SGD instead of Adam)]`

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use lrp_explorer::train::{Arch, Optimizer, TrainConfig, TrainData, accuracy, train};

/// Reads a gzip-compressed IDX file: returns the dimensions and the uint8 data.
fn read_idx(path: &Path, magic: u32) -> anyhow::Result<(Vec<usize>, Vec<u8>)> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}", path.display()))?;
    let word = |i: usize| -> anyhow::Result<usize> {
        let b = bytes.get(4 * i..4 * i + 4).context("truncated header")?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if word(0)? != magic as usize {
        bail!("{}: magic {} is not {magic}", path.display(), word(0)?);
    }
    let ndim = (magic & 0xff) as usize;
    let dims = (1..=ndim).map(word).collect::<anyhow::Result<Vec<_>>>()?;
    let data = bytes.split_off(4 * (ndim + 1));
    if data.len() != dims.iter().product::<usize>() {
        bail!("{}: {} data bytes for dimensions {dims:?}", path.display(), data.len());
    }
    Ok((dims, data))
}

fn load(split: &str) -> anyhow::Result<(Vec<f32>, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let (_, images) = read_idx(&dir.join(format!("{split}-images-idx3-ubyte.gz")), 2051)?;
    let (_, labels) = read_idx(&dir.join(format!("{split}-labels-idx1-ubyte.gz")), 2049)?;
    Ok((images.iter().map(|&v| f32::from(v) / 255.0).collect(), labels))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let epochs_override: Option<usize> = value("--epochs").map(|v| v.parse()).transpose()?;
    let seed: u64 = value("--seed").map(|v| v.parse()).transpose()?.unwrap_or(1);
    let lr: f32 = value("--lr").map(|v| v.parse()).transpose()?.unwrap_or(1e-3);
    let batch_size: usize = value("--batch").map(|v| v.parse()).transpose()?.unwrap_or(64);
    let optimizer = match value("--momentum") {
        Some(m) => Optimizer::Sgd {
            lr,
            momentum: m.parse()?,
        },
        None => Optimizer::Adam { lr },
    };
    let mut names: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    names.retain(|n| ["mlp100", "mlp300", "cnn"].contains(n));
    if names.is_empty() {
        names = vec!["mlp100", "mlp300", "cnn"];
    }
    let (train_images, train_labels) = load("train")?;
    let (test_images, test_labels) = load("test")?;
    println!(
        "train: {} samples, test: {} samples",
        train_labels.len(),
        test_labels.len()
    );
    let data = TrainData {
        images: &train_images,
        labels: &train_labels,
        height: 28,
        width: 28,
    };
    for name in names {
        let (arch, epochs) = match name {
            "mlp100" => (Arch::Mlp { hidden: vec![100] }, 15),
            "mlp300" => (Arch::Mlp { hidden: vec![300, 100] }, 15),
            _ => (Arch::Cnn, 15),
        };
        let config = TrainConfig {
            arch,
            epochs: epochs_override.unwrap_or(epochs),
            batch_size,
            optimizer,
            seed,
        };
        let start = Instant::now();
        let mut last_epoch = usize::MAX;
        let mut epoch_start = Instant::now();
        let model = train(&data, &config, &mut |p| {
            if p.batch == p.batches && p.epoch != last_epoch {
                last_epoch = p.epoch;
                println!(
                    "  {name} epoch {}/{}: loss {:.4} ({:.2} s)",
                    p.epoch + 1,
                    p.epochs,
                    p.loss,
                    epoch_start.elapsed().as_secs_f64()
                );
                epoch_start = Instant::now();
            }
        })?;
        let secs = start.elapsed().as_secs_f64();
        let train_acc = accuracy(&model, &train_images, &train_labels);
        let test_acc = accuracy(&model, &test_images, &test_labels);
        println!(
            "{name} ({}): {:?}, batch {batch_size}, epochs {}, seed {seed}, {:.1} s, train accuracy {train_acc:.4}, \
             test accuracy {test_acc:.4}",
            model.name(),
            config.optimizer,
            config.epochs,
            secs
        );
    }
    Ok(())
}
