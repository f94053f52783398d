//! The layer types of the format-free network representation.
//!
//! Layout conventions (one sample, batch dimension omitted):
//! * dense activations are `[features]`;
//! * convolutional activations are channel-first `[C, H, W]` (PyTorch / ONNX order).
//!
//! Readers of channel-last formats (the LRP Toolbox) convert to these conventions at load time.

use ndarray::{Array1, Array2, Array4};

/// Fully connected layer: `z = W x + b`.
///
/// # Shapes
/// `weight: [out, in]`, `bias: [out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub weight: Array2<f32>,
    pub bias: Option<Array1<f32>>,
}

/// 2-D cross-correlation with zero padding (dilation 1, one group), as in PyTorch.
///
/// # Shapes
/// `weight: [out_channels, in_channels, kh, kw]`, `bias: [out_channels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub weight: Array4<f32>,
    pub bias: Option<Array1<f32>>,
    /// `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`, filled with zeros.
    pub padding: [usize; 4],
}

/// Window geometry shared by the pooling layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`. Max pooling pads with −∞, average and sum pooling with 0.
    pub padding: [usize; 4],
}

/// One layer of a [`crate::model::Model`].
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Dense(Dense),
    Conv2d(Conv2d),
    MaxPool2d(Pool2d),
    /// Mean over the window (padding counted in the divisor).
    AvgPool2d(Pool2d),
    /// The LRP Toolbox's sum pooling: window sum × 1/√(kh·kw).
    SumPool2d(Pool2d),
    Relu,
    Tanh,
    /// Flattens a sample to one dimension (row-major).
    Flatten,
    /// Reshapes a sample (row-major) to the given per-sample shape.
    Reshape(Vec<usize>),
    /// Permutes the axes of a sample: output axis `k` is input axis `perm[k]` (an ONNX `Transpose` that could not
    /// be absorbed); relevance goes back to the element it came from.
    Permute(Vec<usize>),
}

/// The coarse kind of a layer, used by rule selectors and for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerKind {
    Dense,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    SumPool2d,
    Relu,
    Tanh,
    Flatten,
    Reshape,
    Permute,
}

impl LayerKind {
    /// Short display name.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Dense => "Dense",
            LayerKind::Conv2d => "Conv2d",
            LayerKind::MaxPool2d => "MaxPool2d",
            LayerKind::AvgPool2d => "AvgPool2d",
            LayerKind::SumPool2d => "SumPool2d",
            LayerKind::Relu => "ReLU",
            LayerKind::Tanh => "Tanh",
            LayerKind::Flatten => "Flatten",
            LayerKind::Reshape => "Reshape",
            LayerKind::Permute => "Permute",
        }
    }

    /// Dense or Conv2d: the layers that carry weights and an LRP rule.
    pub fn is_weighted(self) -> bool {
        matches!(self, LayerKind::Dense | LayerKind::Conv2d)
    }

    /// Average or sum pooling (the `pool` selector).
    pub fn is_linear_pool(self) -> bool {
        matches!(self, LayerKind::AvgPool2d | LayerKind::SumPool2d)
    }
}

impl Layer {
    pub fn kind(&self) -> LayerKind {
        match self {
            Layer::Dense(_) => LayerKind::Dense,
            Layer::Conv2d(_) => LayerKind::Conv2d,
            Layer::MaxPool2d(_) => LayerKind::MaxPool2d,
            Layer::AvgPool2d(_) => LayerKind::AvgPool2d,
            Layer::SumPool2d(_) => LayerKind::SumPool2d,
            Layer::Relu => LayerKind::Relu,
            Layer::Tanh => LayerKind::Tanh,
            Layer::Flatten => LayerKind::Flatten,
            Layer::Reshape(_) => LayerKind::Reshape,
            Layer::Permute(_) => LayerKind::Permute,
        }
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        match self {
            Layer::Dense(d) => d.weight.len() + d.bias.as_ref().map_or(0, |b| b.len()),
            Layer::Conv2d(c) => c.weight.len() + c.bias.as_ref().map_or(0, |b| b.len()),
            _ => 0,
        }
    }

    /// One-line description of the layer's parameters, e.g. `784→300, bias`.
    pub fn describe(&self) -> String {
        let bias = |b: bool| if b { ", bias" } else { ", no bias" };
        let pool = |p: &Pool2d| {
            let mut s = format!(
                "kernel {}x{}, stride {}x{}",
                p.kernel[0], p.kernel[1], p.stride[0], p.stride[1]
            );
            if p.padding != [0; 4] {
                s.push_str(&format!(", padding {:?}", p.padding));
            }
            s
        };
        match self {
            Layer::Dense(d) => format!("{}→{}{}", d.weight.ncols(), d.weight.nrows(), bias(d.bias.is_some())),
            Layer::Conv2d(c) => {
                let s = c.weight.shape();
                let mut text = format!(
                    "{}→{} channels, kernel {}x{}, stride {}x{}",
                    s[1], s[0], s[2], s[3], c.stride[0], c.stride[1]
                );
                if c.padding != [0; 4] {
                    text.push_str(&format!(", padding {:?}", c.padding));
                }
                text.push_str(bias(c.bias.is_some()));
                text
            }
            Layer::MaxPool2d(p) | Layer::AvgPool2d(p) | Layer::SumPool2d(p) => pool(p),
            Layer::Reshape(shape) => format!("to {shape:?}"),
            Layer::Permute(perm) => format!("axes {perm:?}"),
            Layer::Relu | Layer::Tanh | Layer::Flatten => String::new(),
        }
    }
}

impl Pool2d {
    /// Output size along one axis, or `None` if the window does not fit (see [`crate::ops::window_output_len`]).
    pub fn output_len(input: usize, kernel: usize, stride: usize, pad_lo: usize, pad_hi: usize) -> Option<usize> {
        crate::ops::window_output_len(input, kernel, stride, pad_lo, pad_hi)
    }
}
