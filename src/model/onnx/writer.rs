//! [`Model`] → ONNX in the style of PyTorch's classic exporter (opset 17, IR version 8), written atomically.
//!
//! Input `input` `[batch, ...]` (dynamic batch), output `logits` `[batch, classes]` — or `probabilities` /
//! `log_probabilities` after a final Softmax / LogSoftmax. Weights are float32 `raw_data` initializers named
//! `<layer>.weight` / `<layer>.bias`, as in a PyTorch `nn.Sequential` state dict.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use prost::Message;

use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::{Dimension, dimension};
use super::proto::type_proto;
use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use crate::error::LoadError;
use crate::model::{Layer, Model, OutputActivation, Pool2d};

const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;
const BATCH: &str = "batch";

/// Writes `model` to `path` as ONNX, with `metadata` as `metadata_props`. The file is written to a temporary file
/// in the same folder and renamed into place, so readers never see a partial file. An existing file is replaced:
/// asking before overwriting is the caller's job.
pub fn write(model: &Model, metadata: &BTreeMap<String, String>, path: &Path) -> Result<(), LoadError> {
    let bytes = encode(model, metadata).map_err(|message| LoadError::format(path, message))?;
    crate::atomic_file::replace_with(path, |file| {
        file.write_all(&bytes)?;
        file.sync_all()
    })
    .map_err(|e| LoadError::io(path, e))
}

/// The ONNX bytes of `model` (see [`write`]). Errors name the model and the layer that ONNX cannot express.
pub fn to_bytes(model: &Model, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, LoadError> {
    encode(model, metadata).map_err(|message| LoadError::format(model.name(), message))
}

fn encode(model: &Model, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
    let mut graph = GraphBuilder::default();
    let mut current = "input".to_string();
    let last = model.layers().len().saturating_sub(1);
    for (index, layer) in model.layers().iter().enumerate() {
        current = graph.layer(index, layer, &current, model.shape_at(index + 1), index == last)?;
    }
    let logits_shape = model.shape_at(model.layers().len());
    let output = match model.output_activation() {
        OutputActivation::None => current,
        activation => {
            if logits_shape.len() != 1 {
                return Err("a Softmax output needs a [batch, classes] model output".into());
            }
            let (op, name) = match activation {
                OutputActivation::LogSoftmax => ("LogSoftmax", "log_probabilities"),
                _ => ("Softmax", "probabilities"),
            };
            graph.node(op, &format!("/{op}"), vec![current], name, vec![int("axis", -1)]);
            name.to_string()
        }
    };
    let graph = GraphProto {
        name: Some(if model.name().is_empty() {
            "model".into()
        } else {
            model.name().into()
        }),
        node: graph.nodes,
        initializer: graph.initializers,
        input: vec![value_info("input", model.input_shape())],
        output: vec![value_info(&output, logits_shape)],
        ..Default::default()
    };
    let proto = ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("lrp-explorer".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(graph),
        metadata_props: metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
        ..Default::default()
    };
    Ok(proto.encode_to_vec())
}

#[derive(Default)]
struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl GraphBuilder {
    fn node(&mut self, op: &str, name: &str, inputs: Vec<String>, output: &str, attribute: Vec<AttributeProto>) {
        self.nodes.push(NodeProto {
            op_type: Some(op.into()),
            name: Some(name.into()),
            input: inputs,
            output: vec![output.into()],
            attribute,
            ..Default::default()
        });
    }

    fn float_init(&mut self, name: String, dims: &[usize], values: impl Iterator<Item = f32>) -> String {
        let raw: Vec<u8> = values.flat_map(f32::to_le_bytes).collect();
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(DataType::Float as i32),
            raw_data: Some(raw),
            ..Default::default()
        });
        name
    }

    /// Adds the node of layer `index` reading `input`; returns the name of its output (`logits` for the last layer).
    fn layer(
        &mut self,
        index: usize,
        layer: &Layer,
        input: &str,
        out_shape: &[usize],
        is_last: bool,
    ) -> Result<String, String> {
        let op = match layer {
            Layer::Dense(_) => "Gemm",
            Layer::Conv2d(_) => "Conv",
            Layer::MaxPool2d(_) => "MaxPool",
            Layer::AvgPool2d(_) => "AveragePool",
            Layer::Relu => "Relu",
            Layer::Tanh => "Tanh",
            Layer::Flatten => "Flatten",
            Layer::Reshape(_) => "Reshape",
            Layer::Permute(_) => "Transpose",
            Layer::SumPool2d(_) => {
                return Err(format!(
                    "layer {index} (SumPool2d) cannot be written to ONNX: no standard ONNX op computes the \
                     LRP Toolbox's sum pooling (window sum / sqrt(kh·kw))"
                ));
            }
        };
        let name = format!("/{index}/{op}");
        let output = if is_last {
            "logits".to_string()
        } else {
            format!("/{index}/{op}_output_0")
        };
        let mut inputs = vec![input.to_string()];
        let attributes = match layer {
            Layer::Dense(d) => {
                let w = &d.weight;
                inputs.push(self.float_init(format!("{index}.weight"), w.shape(), w.iter().copied()));
                if let Some(b) = &d.bias {
                    inputs.push(self.float_init(format!("{index}.bias"), &[b.len()], b.iter().copied()));
                }
                vec![float("alpha", 1.0), float("beta", 1.0), int("transB", 1)]
            }
            Layer::Conv2d(c) => {
                let w = &c.weight;
                inputs.push(self.float_init(format!("{index}.weight"), w.shape(), w.iter().copied()));
                if let Some(b) = &c.bias {
                    inputs.push(self.float_init(format!("{index}.bias"), &[b.len()], b.iter().copied()));
                }
                let s = w.shape();
                vec![
                    ints("dilations", &[1, 1]),
                    int("group", 1),
                    ints("kernel_shape", &[s[2], s[3]]),
                    ints("pads", &c.padding),
                    ints("strides", &c.stride),
                ]
            }
            Layer::MaxPool2d(p) => {
                let mut a = pool_attributes(p);
                a.insert(0, int("ceil_mode", 0));
                a
            }
            Layer::AvgPool2d(p) => {
                let mut a = pool_attributes(p);
                a.insert(0, int("ceil_mode", 0));
                a.insert(1, int("count_include_pad", 1));
                a
            }
            Layer::Flatten => vec![int("axis", 1)],
            Layer::Permute(perm) => {
                let full: Vec<usize> = std::iter::once(0).chain(perm.iter().map(|&p| p + 1)).collect();
                vec![ints("perm", &full)]
            }
            Layer::Reshape(_) => {
                // 0 copies the batch dimension (allowzero = 0), the rest is the per-sample shape.
                let shape: Vec<i64> = std::iter::once(0).chain(out_shape.iter().map(|&d| d as i64)).collect();
                let raw: Vec<u8> = shape.iter().flat_map(|v| v.to_le_bytes()).collect();
                let shape_name = format!("{index}.shape");
                self.initializers.push(TensorProto {
                    name: Some(shape_name.clone()),
                    dims: vec![shape.len() as i64],
                    data_type: Some(DataType::Int64 as i32),
                    raw_data: Some(raw),
                    ..Default::default()
                });
                inputs.push(shape_name);
                vec![]
            }
            _ => vec![],
        };
        self.node(op, &name, inputs, &output, attributes);
        Ok(output)
    }
}

fn pool_attributes(p: &Pool2d) -> Vec<AttributeProto> {
    vec![
        ints("kernel_shape", &p.kernel),
        ints("pads", &p.padding),
        ints("strides", &p.stride),
    ]
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(value),
        ..Default::default()
    }
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.iter().map(|&v| v as i64).collect(),
        ..Default::default()
    }
}

/// A float32 tensor `[batch, dims...]` with a symbolic batch dimension.
fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let batch = Dimension {
        value: Some(dimension::Value::DimParam(BATCH.into())),
        ..Default::default()
    };
    let rest = dims.iter().map(|&d| Dimension {
        value: Some(dimension::Value::DimValue(d as i64)),
        ..Default::default()
    });
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: std::iter::once(batch).chain(rest).collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
