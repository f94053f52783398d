//! One builder per supported ONNX op, registered in [`OPS`]: each turns a node into one [`Step`] of the model.

mod activation;
mod batchnorm;
mod conv;
mod gemm;
mod pool;
mod shape;

use std::fmt::Display;
use std::path::Path;

pub(super) use gemm::add_bias;

use super::attr::Attrs;
use super::constants::Constants;
use super::proto::NodeProto;
use super::tensor::Tensor;
use crate::error::LoadError;
use crate::model::{BatchNormParams, Layer, OutputActivation};

/// What one node contributes to the model.
pub(super) enum Step {
    /// A new layer.
    Layer(Layer),
    /// Nothing (Identity, inference-mode Dropout).
    Skip,
    /// Inference batch normalisation, folded into the preceding Dense or Conv2d layer.
    MergeBatchNorm(BatchNormParams),
    /// A constant added to the output of the preceding Dense or Conv2d layer (MatMul + Add = Linear).
    AddBias(Tensor),
    /// A final Softmax or LogSoftmax.
    Output(OutputActivation),
}

type Builder = fn(&NodeCtx<'_>) -> Result<Step, LoadError>;

/// The supported ops (default domain), in the order listed to users.
const OPS: &[(&str, Builder)] = &[
    ("Gemm", gemm::gemm),
    ("MatMul", gemm::matmul),
    ("Add", gemm::add),
    ("Conv", conv::conv),
    ("MaxPool", pool::max_pool),
    ("AveragePool", pool::average_pool),
    ("BatchNormalization", batchnorm::batch_norm),
    ("Relu", activation::relu),
    ("Tanh", activation::tanh),
    ("Flatten", shape::flatten),
    ("Reshape", shape::reshape),
    ("Transpose", shape::transpose),
    ("Identity", activation::identity),
    ("Dropout", activation::identity),
    ("Softmax", activation::softmax),
    ("LogSoftmax", activation::log_softmax),
    ("Constant", activation::constant),
];

/// The builder of `op_type`, if supported.
pub(super) fn builder(op_type: &str) -> Option<Builder> {
    OPS.iter().find(|(name, _)| *name == op_type).map(|(_, b)| *b)
}

/// Comma-separated names of the supported ops.
pub(super) fn supported() -> &'static str {
    static SUPPORTED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SUPPORTED.get_or_init(|| OPS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", "))
}

/// Everything a builder may look at: the node, its constant inputs and the shape of its data input.
pub(super) struct NodeCtx<'a> {
    pub node: &'a NodeProto,
    pub attrs: Attrs<'a>,
    pub path: &'a Path,
    /// Per-sample shape of the data input (batch dimension removed).
    pub shape: &'a [usize],
    /// Static batch size of the graph input, if it has one.
    pub batch: Option<usize>,
    /// Version of the default operator set.
    pub opset: i64,
    /// Position of the data input (the previous node's output) in `node.input`.
    pub data_input: usize,
    pub constants: &'a Constants<'a>,
}

impl NodeCtx<'_> {
    /// `name (op)` as shown in errors; unnamed nodes are named by their first output.
    pub fn label(&self) -> String {
        node_label(self.node)
    }

    /// An error about this node.
    pub fn fail(&self, message: impl Display) -> LoadError {
        LoadError::format(self.path, format!("node {}: {message}", self.label()))
    }

    /// Attaches this node to an error message.
    pub fn check<T>(&self, result: Result<T, String>) -> Result<T, LoadError> {
        result.map_err(|m| self.fail(m))
    }

    /// Errors unless the data input is at position `index`.
    pub fn data_at(&self, index: usize) -> Result<(), LoadError> {
        if self.data_input == index {
            Ok(())
        } else {
            Err(self.fail(format!(
                "expects the previous layer's output as input {index}, found it as input {}",
                self.data_input
            )))
        }
    }

    /// The constant input at `index`, or `None` if the input is absent (optional inputs).
    pub fn constant(&self, index: usize, what: &str) -> Result<Option<Tensor>, LoadError> {
        let Some(name) = self.node.input.get(index).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        if index == self.data_input {
            return Err(self.fail(format!(
                "the {what} must be a constant, not the previous layer's output"
            )));
        }
        match self.constants.get(name) {
            None => Err(self.fail(format!(
                "the {what} {name:?} is not an initializer or constant of the graph"
            ))),
            Some(Err(e)) => Err(self.fail(format!("tensor {name:?} ({what}): {e}"))),
            Some(Ok(tensor)) => Ok(Some(tensor)),
        }
    }

    /// The constant input at `index`, which must be present.
    pub fn required(&self, index: usize, what: &str) -> Result<Tensor, LoadError> {
        self.constant(index, what)?
            .ok_or_else(|| self.fail(format!("the {what} (input {index}) is missing")))
    }

    /// The data input's `[C, H, W]`, for 2-D convolution and pooling.
    pub fn chw(&self) -> Result<[usize; 3], LoadError> {
        match self.shape {
            [c, h, w] => Ok([*c, *h, *w]),
            other => Err(self.fail(format!(
                "only 2-D images [batch, C, H, W] are supported, the input is [batch, {}]",
                join(other)
            ))),
        }
    }

    /// A two-element `INTS` attribute of positive values (`strides`, `kernel_shape`), or `default`.
    pub fn pair(&self, name: &str, default: Option<[usize; 2]>) -> Result<[usize; 2], LoadError> {
        match self.check(self.attrs.ints(name))? {
            None => default.ok_or_else(|| self.fail(format!("the {name} attribute is missing"))),
            Some(&[a, b]) if a > 0 && b > 0 => Ok([a as usize, b as usize]),
            Some(values) => Err(self.fail(format!("{name} must be two positive values, got {values:?}"))),
        }
    }

    /// Errors unless every `dilations` entry is 1.
    pub fn no_dilation(&self) -> Result<(), LoadError> {
        match self.check(self.attrs.ints("dilations"))? {
            Some(d) if d.iter().any(|&v| v != 1) => {
                Err(self.fail(format!("dilations {d:?} are not supported (only 1)")))
            }
            _ => Ok(()),
        }
    }
}

/// `"name" (Op)`, or `"<first output>" (Op)` for unnamed nodes.
pub(super) fn node_label(node: &NodeProto) -> String {
    super::graph::node_label(node)
}

fn join(values: &[usize]) -> String {
    values.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}
