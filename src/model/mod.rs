//! The format-free network: an ordered list of layers with known shapes, and the forward pass.
//!
//! Readers (ONNX, LRP Toolbox text, weight files) build a [`Model`]; the LRP engine and the UI only see this.

mod canonize;
mod forward;
mod layers;
mod load;
pub mod onnx;
pub mod toolbox_txt;
mod weights_chain;
pub mod weights_mat;
pub mod weights_npz;

pub use canonize::{BatchNormParams, merge_batchnorm};
pub use forward::{DerivedWeights, LinearView, softmax_rows};
pub(crate) use forward::{inverse_permutation, permute_sample_axes};
pub use layers::{Conv2d, Dense, Layer, LayerKind, Pool2d};
pub use load::{LoadedModel, load, load_with};
pub use weights_chain::{Activation, ImportedModel};

use crate::error::ModelError;
use crate::ops::ConvGeometry;

/// What follows the last layer. Kept for display (probabilities); the explanation always starts from the logits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputActivation {
    #[default]
    None,
    Softmax,
    LogSoftmax,
}

/// A validated feed-forward network.
#[derive(Clone, Debug)]
pub struct Model {
    name: String,
    layers: Vec<Layer>,
    /// `shapes[k]` is the per-sample input shape of layer `k`; the last entry is the output shape.
    shapes: Vec<Vec<usize>>,
    output: OutputActivation,
    /// Per layer, weight matrices derived on first use by the rules.
    derived: Vec<DerivedWeights>,
    /// `(first layer, count)` of NaN or infinite weights and biases, found once when the model is built.
    non_finite: Option<(usize, usize)>,
}

impl Model {
    /// Checks that the layers chain from `input_shape` (per sample, without the batch dimension) and
    /// returns the model. Conv and pooling layers need a `[C, H, W]` input; Dense needs `[features]`.
    pub fn new(
        name: impl Into<String>,
        input_shape: Vec<usize>,
        layers: Vec<Layer>,
        output: OutputActivation,
    ) -> Result<Self, ModelError> {
        if layers.is_empty() {
            return Err(ModelError::Empty);
        }
        let mut layers = layers;
        for layer in &mut layers {
            standardise(layer);
        }
        let mut shapes = vec![input_shape];
        for (index, layer) in layers.iter().enumerate() {
            let input = &shapes[index];
            let output = output_shape(layer, input).map_err(|message| ModelError::Layer {
                index,
                kind: layer.kind().name().to_string(),
                message,
            })?;
            shapes.push(output);
        }
        let derived = vec![DerivedWeights::default(); layers.len()];
        let non_finite = count_non_finite(&layers);
        Ok(Model {
            name: name.into(),
            layers,
            shapes,
            output,
            derived,
            non_finite,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn output_activation(&self) -> OutputActivation {
        self.output
    }

    /// Per-sample input shape, e.g. `[784]` or `[1, 28, 28]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.shapes[0]
    }

    /// Per-sample input size (product of the input shape).
    pub fn input_len(&self) -> usize {
        self.shapes[0].iter().product()
    }

    /// Number of outputs (classes).
    pub fn num_outputs(&self) -> usize {
        self.shapes[self.layers.len()].iter().product()
    }

    /// Per-sample input shape of layer `index` (`index == layers().len()` gives the output shape).
    pub fn shape_at(&self, index: usize) -> &[usize] {
        &self.shapes[index]
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// Index of the first Dense or Conv2d layer.
    pub fn first_weighted(&self) -> Option<usize> {
        self.layers.iter().position(|l| l.kind().is_weighted())
    }

    /// Index of the last Dense or Conv2d layer.
    pub fn last_weighted(&self) -> Option<usize> {
        self.layers.iter().rposition(|l| l.kind().is_weighted())
    }

    pub(crate) fn derived(&self, index: usize) -> Option<&DerivedWeights> {
        self.derived.get(index)
    }

    /// Errors if any weight or bias is NaN or infinite: such a model cannot be explained.
    pub fn check_finite(&self) -> Result<(), ModelError> {
        match self.non_finite {
            Some((layer, count)) => Err(ModelError::NonFinite { layer, count }),
            None => Ok(()),
        }
    }

    /// Geometry of a conv or pooling layer `index` (pooling: per channel plane).
    pub fn geometry(&self, index: usize) -> Option<ConvGeometry> {
        let input = self.shapes.get(index)?;
        match self.layers.get(index)? {
            Layer::Conv2d(c) => {
                let s = c.weight.shape();
                ConvGeometry::new(input[0], input[1], input[2], [s[2], s[3]], c.stride, c.padding)
            }
            Layer::MaxPool2d(p) | Layer::AvgPool2d(p) | Layer::SumPool2d(p) => {
                ConvGeometry::new(1, input[1], input[2], p.kernel, p.stride, p.padding)
            }
            _ => None,
        }
    }
}

/// `(first layer, count)` of weights and biases that are NaN or infinite.
fn count_non_finite(layers: &[Layer]) -> Option<(usize, usize)> {
    let mut first = None;
    let mut count = 0;
    for (index, layer) in layers.iter().enumerate() {
        let bad = match layer {
            Layer::Dense(d) => {
                d.weight.iter().filter(|v| !v.is_finite()).count()
                    + d.bias
                        .as_ref()
                        .map_or(0, |b| b.iter().filter(|v| !v.is_finite()).count())
            }
            Layer::Conv2d(c) => {
                c.weight.iter().filter(|v| !v.is_finite()).count()
                    + c.bias
                        .as_ref()
                        .map_or(0, |b| b.iter().filter(|v| !v.is_finite()).count())
            }
            _ => 0,
        };
        if bad > 0 {
            first.get_or_insert(index);
            count += bad;
        }
    }
    first.map(|layer| (layer, count))
}

/// Store weights in standard (row-major, contiguous) layout so kernels can take slices.
fn standardise(layer: &mut Layer) {
    match layer {
        Layer::Dense(d) if !d.weight.is_standard_layout() => {
            d.weight = d.weight.as_standard_layout().into_owned();
        }
        Layer::Conv2d(c) if !c.weight.is_standard_layout() => {
            c.weight = c.weight.as_standard_layout().into_owned();
        }
        _ => {}
    }
}

/// Per-sample output shape of `layer` for a per-sample `input` shape, or why they do not fit.
pub(crate) fn output_shape(layer: &Layer, input: &[usize]) -> Result<Vec<usize>, String> {
    let len: usize = input.iter().product();
    let need_chw = |what: &str| -> Result<[usize; 3], String> {
        match input {
            [c, h, w] => Ok([*c, *h, *w]),
            _ => Err(format!("{what} needs a [C, H, W] input, got {input:?}")),
        }
    };
    match layer {
        Layer::Dense(d) => {
            if d.weight.is_empty() {
                return Err(format!(
                    "has an empty weight matrix ({}x{})",
                    d.weight.nrows(),
                    d.weight.ncols()
                ));
            }
            if d.bias.as_ref().is_some_and(|b| b.len() != d.weight.nrows()) {
                return Err(format!(
                    "bias has {} entries for {} outputs",
                    d.bias.as_ref().map_or(0, |b| b.len()),
                    d.weight.nrows()
                ));
            }
            if input.len() != 1 || input[0] != d.weight.ncols() {
                return Err(format!("expects {} inputs, got shape {input:?}", d.weight.ncols()));
            }
            Ok(vec![d.weight.nrows()])
        }
        Layer::Conv2d(c) => {
            let [ch, h, w] = need_chw("Conv2d")?;
            let s = c.weight.shape();
            if c.weight.is_empty() {
                return Err(format!("has an empty kernel {s:?}"));
            }
            if s[1] != ch {
                return Err(format!("expects {} input channels, got {ch}", s[1]));
            }
            if c.bias.as_ref().is_some_and(|b| b.len() != s[0]) {
                return Err(format!("bias length does not match {} output channels", s[0]));
            }
            let g = ConvGeometry::new(ch, h, w, [s[2], s[3]], c.stride, c.padding)
                .ok_or_else(|| format!("kernel {}x{} does not fit input {h}x{w}", s[2], s[3]))?;
            Ok(vec![s[0], g.out_height, g.out_width])
        }
        Layer::MaxPool2d(p) | Layer::AvgPool2d(p) | Layer::SumPool2d(p) => {
            let [ch, h, w] = need_chw(layer.kind().name())?;
            if p.padding[0] >= p.kernel[0].max(1) || p.padding[1] >= p.kernel[1].max(1) {
                return Err("padding must be smaller than the kernel".into());
            }
            let g = ConvGeometry::new(1, h, w, p.kernel, p.stride, p.padding)
                .ok_or_else(|| format!("window {:?} does not fit input {h}x{w}", p.kernel))?;
            Ok(vec![ch, g.out_height, g.out_width])
        }
        _ if len == 0 => Err(format!("has an empty input {input:?}")),
        Layer::Relu | Layer::Tanh => Ok(input.to_vec()),
        Layer::Flatten => Ok(vec![len]),
        Layer::Reshape(shape) => {
            if shape.iter().product::<usize>() != len {
                return Err(format!("cannot reshape {input:?} to {shape:?}"));
            }
            Ok(shape.clone())
        }
        Layer::Permute(perm) => {
            let mut seen = vec![false; input.len()];
            let valid = perm.len() == input.len()
                && perm
                    .iter()
                    .all(|&p| p < input.len() && !std::mem::replace(&mut seen[p], true));
            if !valid {
                return Err(format!("{perm:?} is not a permutation of the axes of {input:?}"));
            }
            Ok(perm.iter().map(|&p| input[p]).collect())
        }
    }
}
