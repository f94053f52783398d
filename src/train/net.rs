//! The trainable network: layer geometry plus every weight and bias in one flat vector, and its conversions
//! from an [`Arch`] (fresh initialisation), from a [`Model`] and back to a [`Model`].

use ndarray::{Array1, Array2, Array4};

use super::Arch;
use super::rng::SplitMix64;
use crate::error::TrainError;
use crate::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use crate::ops::ConvGeometry;

/// Number of classes of the built-in architectures (MNIST digits).
pub const CLASSES: usize = 10;

/// One step of the network. Offsets index the flat parameter vector.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// `weight: [outputs, inputs]` at `weight`, `bias: [outputs]` at `bias`.
    Dense {
        inputs: usize,
        outputs: usize,
        weight: usize,
        bias: Option<usize>,
    },
    /// `weight: [outputs, C·kh·kw]` at `weight`, `bias: [outputs]` at `bias`.
    Conv {
        geom: ConvGeometry,
        outputs: usize,
        weight: usize,
        bias: Option<usize>,
    },
    /// `geom` describes one channel plane.
    MaxPool {
        geom: ConvGeometry,
        channels: usize,
    },
    Relu,
    /// Flatten or reshape: a no-op on row-major buffers.
    Reshape,
}

/// A network being trained.
#[derive(Clone, Debug)]
pub(crate) struct Net {
    pub name: String,
    pub input_shape: Vec<usize>,
    pub ops: Vec<Op>,
    /// `sizes[k]`: per-sample input length of op `k`; the last entry is the number of outputs.
    pub sizes: Vec<usize>,
    pub params: Vec<f32>,
}

/// Collects ops and parameters while a network is laid out.
struct Builder<'r> {
    ops: Vec<Op>,
    sizes: Vec<usize>,
    params: Vec<f32>,
    rng: &'r mut SplitMix64,
}

impl Builder<'_> {
    /// Kaiming-uniform weights for ReLU (`±√(6 / fan_in)`) and PyTorch's bias default (`±1/√fan_in`).
    fn init(&mut self, count: usize, fan_in: usize, outputs: usize) -> (usize, usize) {
        let weight = self.params.len();
        let w_bound = (6.0 / fan_in as f32).sqrt();
        for _ in 0..count {
            let v = self.rng.symmetric(w_bound);
            self.params.push(v);
        }
        let bias = self.params.len();
        let b_bound = 1.0 / (fan_in as f32).sqrt();
        for _ in 0..outputs {
            let v = self.rng.symmetric(b_bound);
            self.params.push(v);
        }
        (weight, bias)
    }

    fn last(&self) -> usize {
        self.sizes.last().copied().unwrap_or(0)
    }

    fn dense(&mut self, outputs: usize) {
        let inputs = self.last();
        let (weight, bias) = self.init(outputs * inputs, inputs, outputs);
        self.ops.push(Op::Dense {
            inputs,
            outputs,
            weight,
            bias: Some(bias),
        });
        self.sizes.push(outputs);
    }

    fn conv(&mut self, geom: ConvGeometry, outputs: usize) {
        let k = geom.patch_len();
        let (weight, bias) = self.init(outputs * k, k, outputs);
        self.ops.push(Op::Conv {
            geom,
            outputs,
            weight,
            bias: Some(bias),
        });
        self.sizes.push(outputs * geom.positions());
    }

    fn push(&mut self, op: Op, size: usize) {
        self.ops.push(op);
        self.sizes.push(size);
    }
}

impl Net {
    /// A freshly initialised network of architecture `arch` for `height × width` inputs.
    pub fn init(arch: &Arch, height: usize, width: usize, rng: &mut SplitMix64) -> Result<Net, TrainError> {
        let mut b = Builder {
            ops: Vec::new(),
            sizes: vec![height * width],
            params: Vec::new(),
            rng,
        };
        let (name, input_shape) = match arch {
            Arch::Mlp { hidden } => {
                if hidden.contains(&0) {
                    return Err(TrainError::config("hidden layer sizes must be at least 1"));
                }
                for &h in hidden {
                    b.dense(h);
                    b.push(Op::Relu, h);
                }
                b.dense(CLASSES);
                let sizes: Vec<String> = std::iter::once(height * width)
                    .chain(hidden.iter().copied())
                    .chain([CLASSES])
                    .map(|v| v.to_string())
                    .collect();
                (format!("mlp-{}", sizes.join("-")), vec![height * width])
            }
            Arch::Cnn => {
                let too_small = || TrainError::config(format!("a {height}x{width} input is too small for the CNN"));
                let mut shape = [1, height, width];
                for channels in [8, 16] {
                    let conv = ConvGeometry::new(shape[0], shape[1], shape[2], [5, 5], [1, 1], [0; 4])
                        .ok_or_else(too_small)?;
                    b.conv(conv, channels);
                    let size = channels * conv.positions();
                    b.push(Op::Relu, size);
                    let pool = ConvGeometry::new(1, conv.out_height, conv.out_width, [2, 2], [2, 2], [0; 4])
                        .ok_or_else(too_small)?;
                    b.push(Op::MaxPool { geom: pool, channels }, channels * pool.positions());
                    shape = [channels, pool.out_height, pool.out_width];
                }
                let flat = b.last();
                b.push(Op::Reshape, flat);
                b.dense(64);
                b.push(Op::Relu, 64);
                b.dense(CLASSES);
                ("cnn-lenet".to_string(), vec![1, height, width])
            }
        };
        Ok(Net {
            name,
            input_shape,
            ops: b.ops,
            sizes: b.sizes,
            params: b.params,
        })
    }

    /// The trainable form of `model` (Dense, Conv2d, MaxPool2d, ReLU, Flatten and Reshape layers only).
    pub fn from_model(model: &Model) -> Result<Net, TrainError> {
        let mut ops = Vec::new();
        let mut params = Vec::new();
        let mut sizes = vec![model.input_len()];
        for (index, layer) in model.layers().iter().enumerate() {
            let unsupported = |message: &str| TrainError::Unsupported {
                index,
                kind: layer.kind().name().to_string(),
                message: message.to_string(),
            };
            let mut append = |w: &mut dyn Iterator<Item = f32>, b: Option<&Array1<f32>>| {
                let weight = params.len();
                params.extend(w);
                let bias = b.map(|b| {
                    let at = params.len();
                    params.extend(b.iter().copied());
                    at
                });
                (weight, bias)
            };
            let op = match layer {
                Layer::Dense(d) => {
                    let (weight, bias) = append(&mut d.weight.iter().copied(), d.bias.as_ref());
                    Op::Dense {
                        inputs: d.weight.ncols(),
                        outputs: d.weight.nrows(),
                        weight,
                        bias,
                    }
                }
                Layer::Conv2d(c) => {
                    let geom = model.geometry(index).ok_or_else(|| unsupported("no geometry"))?;
                    let (weight, bias) = append(&mut c.weight.iter().copied(), c.bias.as_ref());
                    Op::Conv {
                        geom,
                        outputs: c.weight.shape()[0],
                        weight,
                        bias,
                    }
                }
                Layer::MaxPool2d(_) => Op::MaxPool {
                    geom: model.geometry(index).ok_or_else(|| unsupported("no geometry"))?,
                    channels: model.shape_at(index).first().copied().unwrap_or(0),
                },
                Layer::Relu => Op::Relu,
                Layer::Flatten | Layer::Reshape(_) => Op::Reshape,
                Layer::AvgPool2d(_) | Layer::SumPool2d(_) | Layer::Tanh | Layer::Permute(_) => {
                    return Err(unsupported(
                        "training supports Dense, Conv2d, MaxPool2d, ReLU and Flatten",
                    ));
                }
            };
            ops.push(op);
            sizes.push(model.shape_at(index + 1).iter().product());
        }
        Ok(Net {
            name: model.name().to_string(),
            input_shape: model.input_shape().to_vec(),
            ops,
            sizes,
            params,
        })
    }

    /// Per-sample input length.
    pub fn input_len(&self) -> usize {
        self.sizes.first().copied().unwrap_or(0)
    }

    /// Number of outputs (classes).
    pub fn outputs(&self) -> usize {
        self.sizes.last().copied().unwrap_or(0)
    }

    /// The network as a [`Model`] with the current parameters (logits out, no output activation).
    pub fn to_model(&self) -> Result<Model, TrainError> {
        let p = &self.params;
        let bias = |at: Option<usize>, len: usize| at.map(|at| Array1::from(p[at..at + len].to_vec()));
        let shape_error = |e: ndarray::ShapeError| TrainError::config(format!("internal shape error: {e}"));
        let mut layers = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            layers.push(match *op {
                Op::Dense {
                    inputs,
                    outputs,
                    weight,
                    bias: b,
                } => Layer::Dense(Dense {
                    weight: Array2::from_shape_vec((outputs, inputs), p[weight..weight + outputs * inputs].to_vec())
                        .map_err(shape_error)?,
                    bias: bias(b, outputs),
                }),
                Op::Conv {
                    geom,
                    outputs,
                    weight,
                    bias: b,
                } => {
                    let [kh, kw] = geom.kernel;
                    let len = outputs * geom.patch_len();
                    Layer::Conv2d(Conv2d {
                        weight: Array4::from_shape_vec(
                            (outputs, geom.channels, kh, kw),
                            p[weight..weight + len].to_vec(),
                        )
                        .map_err(shape_error)?,
                        bias: bias(b, outputs),
                        stride: geom.stride,
                        padding: geom.padding,
                    })
                }
                Op::MaxPool { geom, .. } => Layer::MaxPool2d(Pool2d {
                    kernel: geom.kernel,
                    stride: geom.stride,
                    padding: geom.padding,
                }),
                Op::Relu => Layer::Relu,
                Op::Reshape => Layer::Flatten,
            });
        }
        Ok(Model::new(
            self.name.clone(),
            self.input_shape.clone(),
            layers,
            OutputActivation::None,
        )?)
    }
}
