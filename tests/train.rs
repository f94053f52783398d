//! Training: learning on the bundled digits, determinism, settings and data errors, and the weight gradients
//! against finite differences of the model's own forward pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;

use lrp_explorer::error::TrainError;
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use lrp_explorer::train::{Arch, Optimizer, SplitMix64, TrainConfig, TrainData, accuracy, loss_gradients, train};
use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn};

/// Every `step`-th sample of a bundled split (the files are sorted by class), pixels scaled to `[0, 1]`.
fn bundled(split: &str, step: usize) -> (Vec<f32>, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let read = |name: String, header: usize| {
        let mut bytes = Vec::new();
        let file = std::fs::File::open(dir.join(&name)).unwrap();
        flate2::read::GzDecoder::new(file).read_to_end(&mut bytes).unwrap();
        bytes.split_off(header)
    };
    let images = read(format!("{split}-images-idx3-ubyte.gz"), 16);
    let labels = read(format!("{split}-labels-idx1-ubyte.gz"), 8);
    assert_eq!(images.len(), labels.len() * 784);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in (0..labels.len()).step_by(step) {
        x.extend(images[i * 784..(i + 1) * 784].iter().map(|&v| f32::from(v) / 255.0));
        y.push(labels[i]);
    }
    (x, y)
}

fn config(arch: Arch, epochs: usize, batch_size: usize, optimizer: Optimizer, seed: u64) -> TrainConfig {
    TrainConfig {
        arch,
        epochs,
        batch_size,
        optimizer,
        seed,
    }
}

/// Trains and returns the model with the mean loss of each epoch.
fn train_logged(data: &TrainData, config: &TrainConfig) -> (Model, Vec<f32>) {
    let mut losses = vec![f32::NAN; config.epochs];
    let model = train(data, config, &mut |p| {
        assert!(p.batch >= 1 && p.batch <= p.batches && p.epochs == config.epochs);
        losses[p.epoch] = p.loss;
    })
    .unwrap();
    (model, losses)
}

#[test]
fn tiny_mlp_learns_the_bundled_digits() {
    let (x, y) = bundled("train", 8); // 1,000 samples, 100 per class
    let (tx, ty) = bundled("test", 4); // 500 samples
    let data = TrainData {
        images: &x,
        labels: &y,
        height: 28,
        width: 28,
    };
    for (optimizer, min_accuracy) in [
        (Optimizer::Adam { lr: 2e-3 }, 0.82),
        (
            Optimizer::Sgd {
                lr: 0.05,
                momentum: 0.9,
            },
            0.78,
        ),
    ] {
        let cfg = config(Arch::Mlp { hidden: vec![32] }, 4, 32, optimizer, 3);
        let (model, losses) = train_logged(&data, &cfg);
        assert_eq!(model.input_shape(), &[784]);
        assert_eq!(model.num_outputs(), 10);
        assert_eq!(model.name(), "mlp-784-32-10");
        assert!(losses[3] < 0.5 * losses[0], "{optimizer:?}: epoch losses {losses:?}");
        let acc = accuracy(&model, &tx, &ty);
        assert!(acc >= min_accuracy, "{optimizer:?}: test accuracy {acc}");
    }
}

#[test]
fn cnn_has_the_lenet_layout_and_learns() {
    let (x, y) = bundled("train", 40); // 200 samples
    let data = TrainData {
        images: &x,
        labels: &y,
        height: 28,
        width: 28,
    };
    let (model, losses) = train_logged(&data, &config(Arch::Cnn, 3, 20, Optimizer::Adam { lr: 3e-3 }, 5));
    assert_eq!(model.input_shape(), &[1, 28, 28]);
    let kinds: Vec<&str> = model.layers().iter().map(|l| l.kind().name()).collect();
    assert_eq!(
        kinds,
        [
            "Conv2d",
            "ReLU",
            "MaxPool2d",
            "Conv2d",
            "ReLU",
            "MaxPool2d",
            "Flatten",
            "Dense",
            "ReLU",
            "Dense"
        ]
    );
    assert_eq!(model.shape_at(7), &[256]);
    assert_eq!(
        model.parameter_count(),
        8 * 25 + 8 + 16 * 200 + 16 + 256 * 64 + 64 + 64 * 10 + 10
    );
    assert!(losses[2] < 0.6 * losses[0], "epoch losses {losses:?}");
    assert!(accuracy(&model, &x, &y) > 0.7);
}

#[test]
fn same_seed_gives_identical_weights() {
    let (x, y) = bundled("train", 100); // 80 samples: several parallel chunks per batch
    let data = TrainData {
        images: &x,
        labels: &y,
        height: 28,
        width: 28,
    };
    for arch in [Arch::Mlp { hidden: vec![20, 10] }, Arch::Cnn] {
        let run = |seed| {
            let model = train(
                &data,
                &config(arch.clone(), 2, 40, Optimizer::Adam { lr: 1e-3 }, seed),
                &mut |_| {},
            )
            .unwrap();
            model.layers().to_vec()
        };
        let first = run(11);
        assert_eq!(first, run(11), "{arch:?}");
        assert_ne!(first, run(12), "{arch:?}");
    }
}

#[test]
fn bad_data_and_settings_are_reported() {
    let x = vec![0.5f32; 3 * 16];
    let good = TrainData {
        images: &x,
        labels: &[0, 1, 2],
        height: 4,
        width: 4,
    };
    let mlp = |optimizer| config(Arch::Mlp { hidden: vec![4] }, 1, 2, optimizer, 0);
    let adam = Optimizer::Adam { lr: 1e-3 };
    assert!(train(&good, &mlp(adam), &mut |_| {}).is_ok());

    let short = TrainData {
        labels: &[0, 1, 2, 3],
        ..good
    };
    let err = train(&short, &mlp(adam), &mut |_| {}).unwrap_err();
    assert!(matches!(err, TrainError::Data { .. }), "{err}");
    assert!(err.to_string().contains("48 pixel values for 4 labels"), "{err}");

    let bad_label = TrainData {
        labels: &[0, 10, 2],
        ..good
    };
    let err = train(&bad_label, &mlp(adam), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("label 10 of sample 1"), "{err}");

    let mut nan = x.clone();
    nan[20] = f32::NAN;
    let err = train(&TrainData { images: &nan, ..good }, &mlp(adam), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("pixel 4 of sample 1"), "{err}");

    let err = train(&good, &mlp(Optimizer::Adam { lr: -1.0 }), &mut |_| {}).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
    let err = train(
        &good,
        &config(Arch::Mlp { hidden: vec![4] }, 1, 0, adam, 0),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("batch size"), "{err}");
    let err = train(&good, &config(Arch::Cnn, 1, 2, adam, 0), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("4x4 input is too small"), "{err}");

    let huge = Optimizer::Sgd {
        lr: 1e30,
        momentum: 0.0,
    };
    let err = train(
        &good,
        &config(Arch::Mlp { hidden: vec![4] }, 5, 1, huge, 0),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, TrainError::Diverged { .. }), "{err}");
}

/// Mean cross-entropy through the model's own forward pass, in f64.
fn reference_loss(model: &Model, x: &[f32], labels: &[u8]) -> f64 {
    let batch = ArrayD::from_shape_vec(IxDyn(&[labels.len(), model.input_len()]), x.to_vec()).unwrap();
    let logits = model.logits(&batch).unwrap();
    let mut total = 0.0;
    for (row, &label) in logits.rows().into_iter().zip(labels) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        total += sum.ln() + max - f64::from(row[usize::from(label)]);
    }
    total / labels.len() as f64
}

/// The same model with parameter `i` of layer `layer` shifted by `delta` (weights first, then the bias).
fn nudged(model: &Model, layer: usize, i: usize, delta: f32) -> Model {
    let mut layers = model.layers().to_vec();
    let (w, b) = match &mut layers[layer] {
        Layer::Dense(d) => (d.weight.as_slice_mut().unwrap(), d.bias.as_mut().unwrap()),
        Layer::Conv2d(c) => (c.weight.as_slice_mut().unwrap(), c.bias.as_mut().unwrap()),
        _ => unreachable!(),
    };
    if i < w.len() {
        w[i] += delta;
    } else {
        b[i - w.len()] += delta;
    }
    Model::new("nudged", model.input_shape().to_vec(), layers, OutputActivation::None).unwrap()
}

/// Compares every weight and bias gradient with a central difference of [`reference_loss`].
fn check_gradients(model: &Model, x: &[f32], labels: &[u8]) {
    let (loss, grads) = loss_gradients(model, x, labels).unwrap();
    assert!((f64::from(loss) - reference_loss(model, x, labels)).abs() < 1e-5);
    let weighted: Vec<usize> = (0..model.layers().len())
        .filter(|&i| model.layers()[i].kind().is_weighted())
        .collect();
    assert_eq!(grads.iter().map(|g| g.layer).collect::<Vec<_>>(), weighted);
    let eps = 1e-3f32;
    let mut checked = 0;
    for g in &grads {
        for (i, &analytic) in g.weight.iter().chain(&g.bias).enumerate() {
            let up = reference_loss(&nudged(model, g.layer, i, eps), x, labels);
            let down = reference_loss(&nudged(model, g.layer, i, -eps), x, labels);
            let numeric = (up - down) / (2.0 * f64::from(eps));
            let err = (f64::from(analytic) - numeric).abs();
            assert!(
                err <= 2e-4 + 1e-2 * numeric.abs(),
                "layer {} param {i}: analytic {analytic} vs numeric {numeric}",
                g.layer
            );
            checked += 1;
        }
    }
    assert_eq!(checked, model.parameter_count());
}

fn random(rng: &mut SplitMix64, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.symmetric(scale)).collect()
}

#[test]
fn dense_weight_gradients_match_finite_differences() {
    let mut rng = SplitMix64::new(42);
    let layers = vec![
        Layer::Dense(Dense {
            weight: Array2::from_shape_vec((5, 6), random(&mut rng, 30, 0.8)).unwrap(),
            bias: Some(Array1::from(random(&mut rng, 5, 0.3))),
        }),
        Layer::Relu,
        Layer::Dense(Dense {
            weight: Array2::from_shape_vec((3, 5), random(&mut rng, 15, 0.8)).unwrap(),
            bias: Some(Array1::from(random(&mut rng, 3, 0.3))),
        }),
    ];
    let model = Model::new("dense", vec![6], layers, OutputActivation::None).unwrap();
    let x = random(&mut rng, 4 * 6, 1.0);
    check_gradients(&model, &x, &[0, 2, 1, 2]);
}

#[test]
fn conv_weight_gradients_match_finite_differences() {
    let mut rng = SplitMix64::new(7);
    let layers = vec![
        Layer::Conv2d(Conv2d {
            weight: Array4::from_shape_vec((3, 2, 3, 3), random(&mut rng, 54, 0.5)).unwrap(),
            bias: Some(Array1::from(random(&mut rng, 3, 0.2))),
            stride: [1, 1],
            padding: [1, 1, 1, 1],
        }),
        Layer::Relu,
        Layer::MaxPool2d(Pool2d {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0; 4],
        }),
        Layer::Flatten,
        Layer::Dense(Dense {
            weight: Array2::from_shape_vec((4, 27), random(&mut rng, 108, 0.5)).unwrap(),
            bias: Some(Array1::from(random(&mut rng, 4, 0.2))),
        }),
    ];
    let model = Model::new("conv", vec![2, 7, 7], layers, OutputActivation::None).unwrap();
    // 20 samples: more than one parallel chunk.
    let x = random(&mut rng, 20 * 98, 1.0);
    let labels: Vec<u8> = (0..20).map(|i| (i % 4) as u8).collect();
    check_gradients(&model, &x, &labels);
}
