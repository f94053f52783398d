//! Training MLPs and a small LeNet-style CNN on MNIST-like data, in pure Rust, into a [`Model`].
//!
//! Softmax cross-entropy loss, Kaiming-uniform initialisation, SGD with momentum or Adam, mini-batches
//! shuffled every epoch. A seeded generator drives initialisation and shuffling, and gradients are added
//! in a fixed order, so the same seed gives a bit-identical model on the same machine.

mod backprop;
mod net;
mod optim;
mod rng;

pub use net::CLASSES;
pub use rng::SplitMix64;

use ndarray::{ArrayD, IxDyn};

use crate::error::TrainError;
use crate::model::{Layer, Model};
use net::{Net, Op};
use optim::State;

/// The network to train.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Dense layers with ReLU between them: `inputs → hidden[0] → … → 10`.
    Mlp { hidden: Vec<usize> },
    /// LeNet-style: Conv(1→8, 5x5) ReLU MaxPool2 Conv(8→16, 5x5) ReLU MaxPool2 Flatten Dense(256→64) ReLU
    /// Dense(64→10) (the 256 is for 28×28 inputs).
    Cnn,
}

/// The update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// SGD with (PyTorch-style) momentum; `momentum = 0` is plain SGD.
    Sgd { lr: f32, momentum: f32 },
    /// Adam with β = (0.9, 0.999), ε = 1e-8.
    Adam { lr: f32 },
}

/// Everything that decides a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub arch: Arch,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    /// Seeds the weight initialisation and the shuffling.
    pub seed: u64,
}

/// Training samples.
///
/// # Shapes
/// `images: [N · height · width]` with values in `[0, 1]`, `labels: [N]` with classes `0..10`.
#[derive(Clone, Copy, Debug)]
pub struct TrainData<'a> {
    pub images: &'a [f32],
    pub labels: &'a [u8],
    pub height: usize,
    pub width: usize,
}

/// Reported after every batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// 0-based epoch.
    pub epoch: usize,
    pub epochs: usize,
    /// Batches done in this epoch (1-based: `batch == batches` at the end of the epoch).
    pub batch: usize,
    pub batches: usize,
    /// Mean loss over this epoch's batches so far.
    pub loss: f32,
}

/// Trains a network of `config.arch` on `data` and returns it as a [`Model`] (logits out).
///
/// The model's input shape is `[height · width]` for an MLP and `[1, height, width]` for the CNN.
/// `progress` is called after every batch. Errors on inconsistent data or settings, and if the loss turns
/// NaN or infinite.
pub fn train(data: &TrainData, config: &TrainConfig, progress: &mut dyn FnMut(Progress)) -> Result<Model, TrainError> {
    let samples = check_data(data)?;
    check_config(config)?;
    let mut rng = SplitMix64::new(config.seed);
    let mut net = Net::init(&config.arch, data.height, data.width, &mut rng)?;
    let mut optimizer = State::new(&config.optimizer, net.params.len());
    let mut grads = vec![0.0f32; net.params.len()];
    let mut order: Vec<usize> = (0..samples).collect();
    let batches = samples.div_ceil(config.batch_size);
    for epoch in 0..config.epochs {
        rng.shuffle(&mut order);
        let mut total = 0.0f64;
        for (batch, indices) in order.chunks(config.batch_size).enumerate() {
            let loss = net.batch_gradient(data.images, data.labels, indices, &mut grads)?;
            if !loss.is_finite() {
                return Err(TrainError::Diverged { epoch, batch, loss });
            }
            optimizer.step(&mut net.params, &grads);
            total += f64::from(loss);
            progress(Progress {
                epoch,
                epochs: config.epochs,
                batch: batch + 1,
                batches,
                loss: (total / (batch + 1) as f64) as f32,
            });
        }
    }
    if net.params.iter().any(|v| !v.is_finite()) {
        return Err(TrainError::Diverged {
            epoch: config.epochs,
            batch: batches,
            loss: f32::NAN,
        });
    }
    net.to_model()
}

/// Fraction of samples whose largest logit is the label. `images` holds `model.input_len()` values per
/// sample; samples beyond the shorter of `images` and `labels` are ignored, and no sample gives 0.
pub fn accuracy(model: &Model, images: &[f32], labels: &[u8]) -> f32 {
    const BATCH: usize = 500;
    let len = model.input_len().max(1);
    let samples = labels.len().min(images.len() / len);
    if samples == 0 {
        return 0.0;
    }
    let mut correct = 0usize;
    for start in (0..samples).step_by(BATCH) {
        let n = BATCH.min(samples - start);
        let Ok(x) = ArrayD::from_shape_vec(IxDyn(&[n, len]), images[start * len..(start + n) * len].to_vec()) else {
            continue;
        };
        let Ok(logits) = model.logits(&x) else {
            continue;
        };
        for (row, &label) in logits.rows().into_iter().zip(&labels[start..start + n]) {
            let best = row.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |best, (j, &v)| if v > best.1 { (j, v) } else { best },
            );
            correct += usize::from(best.0 == usize::from(label));
        }
    }
    correct as f32 / samples as f32
}

/// Gradients of one Dense or Conv2d layer, laid out like its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGradient {
    /// Index of the layer in the model.
    pub layer: usize,
    /// Row-major, same shape as the weight (`[out, in]` or `[out, C, kh, kw]`).
    pub weight: Vec<f32>,
    /// Empty when the layer has no bias.
    pub bias: Vec<f32>,
}

/// Mean softmax cross-entropy of `model` on a batch, and its gradient for every weight and bias.
///
/// `images` holds `model.input_len()` values per sample, `labels` one class per sample. The model may have
/// Dense, Conv2d, MaxPool2d, ReLU, Flatten and Reshape layers.
pub fn loss_gradients(model: &Model, images: &[f32], labels: &[u8]) -> Result<(f32, Vec<LayerGradient>), TrainError> {
    let net = Net::from_model(model)?;
    let samples = check_samples(images, labels, net.input_len(), net.outputs())?;
    let order: Vec<usize> = (0..samples).collect();
    let mut grads = vec![0.0f32; net.params.len()];
    let loss = net.batch_gradient(images, labels, &order, &mut grads)?;
    let mut out = Vec::new();
    for (index, (op, layer)) in net.ops.iter().zip(model.layers()).enumerate() {
        let (weight, bias) = match *op {
            Op::Dense { weight, bias, .. } | Op::Conv { weight, bias, .. } => (weight, bias),
            _ => continue,
        };
        let (w_len, b_len) = match layer {
            Layer::Dense(d) => (d.weight.len(), d.weight.nrows()),
            Layer::Conv2d(c) => (c.weight.len(), c.weight.shape()[0]),
            _ => continue,
        };
        out.push(LayerGradient {
            layer: index,
            weight: grads[weight..weight + w_len].to_vec(),
            bias: bias.map_or_else(Vec::new, |b| grads[b..b + b_len].to_vec()),
        });
    }
    Ok((loss, out))
}

/// Number of samples, after checking sizes, labels and values.
fn check_data(data: &TrainData) -> Result<usize, TrainError> {
    if data.height == 0 || data.width == 0 {
        return Err(TrainError::data(format!(
            "image size {}x{} is empty",
            data.height, data.width
        )));
    }
    check_samples(data.images, data.labels, data.height * data.width, CLASSES)
}

fn check_samples(images: &[f32], labels: &[u8], len: usize, classes: usize) -> Result<usize, TrainError> {
    let samples = labels.len();
    if len == 0 {
        return Err(TrainError::data("samples have no values"));
    }
    if samples == 0 {
        return Err(TrainError::data("no samples"));
    }
    if Some(images.len()) != samples.checked_mul(len) {
        return Err(TrainError::data(format!(
            "{} pixel values for {samples} labels of {len} pixels each",
            images.len()
        )));
    }
    if let Some((i, &label)) = labels.iter().enumerate().find(|(_, l)| usize::from(**l) >= classes) {
        return Err(TrainError::data(format!(
            "label {label} of sample {i} is not a class (0..{classes})"
        )));
    }
    if let Some(i) = images.iter().position(|v| !v.is_finite()) {
        return Err(TrainError::data(format!(
            "pixel {} of sample {} is not a finite number",
            i % len,
            i / len
        )));
    }
    Ok(samples)
}

fn check_config(config: &TrainConfig) -> Result<(), TrainError> {
    if config.batch_size == 0 {
        return Err(TrainError::config("batch size must be at least 1"));
    }
    let (lr, momentum) = match config.optimizer {
        Optimizer::Sgd { lr, momentum } => (lr, momentum),
        Optimizer::Adam { lr } => (lr, 0.0),
    };
    if !(lr.is_finite() && lr > 0.0) {
        return Err(TrainError::config(format!(
            "learning rate {lr} must be a positive number"
        )));
    }
    if !(0.0..1.0).contains(&momentum) {
        return Err(TrainError::config(format!("momentum {momentum} must be in [0, 1)")));
    }
    Ok(())
}
