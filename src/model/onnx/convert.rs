//! ONNX graph → [`Model`]: walks the nodes as a chain, calls one builder per node and assembles the layers.
//!
//! Identity and Dropout vanish, BatchNormalization is merged into the layer before it, and a final Softmax or
//! LogSoftmax becomes the model's [`OutputActivation`], so layer `k` of the model is the `k`-th remaining node.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::OnnxModel;
use super::attr::Attrs;
use super::ops::{self, NodeCtx, Step};
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::dimension::Value as Dim;
use super::proto::type_proto::Value as TypeValue;
use super::proto::{GraphProto, ModelProto, NodeProto, TensorProto};
use super::tensor::{self, Tensor, Values};
use crate::error::LoadError;
use crate::model::{Layer, Model, OutputActivation, merge_batchnorm, output_shape};

/// Graph constants: initializers and the outputs of `Constant` nodes, decoded when a node asks for them.
pub(super) struct Constants<'a> {
    sources: HashMap<&'a str, Source<'a>>,
    base_dir: PathBuf,
}

enum Source<'a> {
    Proto(&'a TensorProto),
    Value(Tensor),
    Unsupported(String),
}

impl<'a> Constants<'a> {
    fn collect(graph: &'a GraphProto, base_dir: PathBuf) -> Self {
        let mut sources = HashMap::new();
        for t in &graph.initializer {
            sources.insert(t.name.as_deref().unwrap_or(""), Source::Proto(t));
        }
        for node in graph.node.iter().filter(|n| n.op_type.as_deref() == Some("Constant")) {
            if let Some(name) = node.output.first() {
                sources.insert(name.as_str(), constant_node(node));
            }
        }
        Constants { sources, base_dir }
    }

    /// Whether `name` is a constant (rather than a value computed from the input).
    pub fn contains(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    /// The decoded constant `name`, or `None` if there is no such constant.
    pub fn get(&self, name: &str) -> Option<Result<Tensor, String>> {
        Some(match self.sources.get(name)? {
            Source::Proto(t) => tensor::decode(t, &self.base_dir),
            Source::Value(t) => Ok(t.clone()),
            Source::Unsupported(message) => Err(message.clone()),
        })
    }
}

/// The value of a `Constant` node: its `value` tensor or one of the number / number-list attributes.
fn constant_node(node: &NodeProto) -> Source<'_> {
    let attrs = Attrs::new(node);
    let names = attrs.names();
    let list = |values: Values, len: usize| {
        Source::Value(Tensor {
            dims: vec![len],
            values,
        })
    };
    let scalar = |values: Values| Source::Value(Tensor { dims: vec![], values });
    let value = match names.as_slice() {
        ["value"] => attrs.tensor("value").map(|t| t.map(Source::Proto)),
        ["value_ints"] => attrs
            .ints("value_ints")
            .map(|v| v.map(|v| list(Values::I64(v.to_vec()), v.len()))),
        ["value_floats"] => attrs
            .floats("value_floats")
            .map(|v| v.map(|v| list(Values::F32(v.to_vec()), v.len()))),
        ["value_int"] => attrs.int("value_int").map(|v| v.map(|v| scalar(Values::I64(vec![v])))),
        ["value_float"] => attrs
            .float("value_float")
            .map(|v| v.map(|v| scalar(Values::F32(vec![v])))),
        _ => Ok(None),
    };
    match value {
        Ok(Some(source)) => source,
        Ok(None) => Source::Unsupported(format!(
            "Constant node with attributes {names:?} is not supported (only a numeric tensor or numbers)"
        )),
        Err(message) => Source::Unsupported(format!("Constant node: {message}")),
    }
}

/// The model the graph of `proto` describes; `path` names it and locates external data.
pub(super) fn convert(proto: &ModelProto, path: &Path) -> Result<OnnxModel, LoadError> {
    let fail = |message: String| LoadError::format(path, message);
    let opset = proto
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
        .and_then(|o| o.version)
        .ok_or_else(|| fail("the model imports no version of the default operator set".into()))?;
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| fail("not an ONNX model: it has no graph".into()))?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let constants = Constants::collect(graph, base_dir);
    let input = graph_input(graph, &constants, path)?;
    let output = match graph.output.as_slice() {
        [one] => one.name.as_deref().unwrap_or(""),
        many => {
            return Err(fail(format!(
                "the graph has {} outputs; exactly one (the logits or class scores) is supported",
                many.len()
            )));
        }
    };
    let nodes: Vec<&NodeProto> = graph
        .node
        .iter()
        .filter(|n| n.op_type.as_deref() != Some("Constant"))
        .collect();
    if nodes.is_empty() {
        return Err(fail("the graph has no nodes".into()));
    }
    let mut wiring = Wiring::default();
    wiring.produced.insert(input.name);
    for node in &graph.node {
        for name in &node.input {
            *wiring.consumers.entry(name.as_str()).or_default() += 1;
        }
        wiring.produced.extend(node.output.iter().map(String::as_str));
    }
    let mut chain = Chain {
        layers: vec![],
        shape: input.shape.clone(),
        output: None,
        current: input.name,
    };
    for node in nodes {
        chain.push(node, &constants, &wiring, &input, opset, path)?;
    }
    if chain.current != output {
        return Err(fail(format!(
            "the graph output {output:?} is not the output of the last node ({:?})",
            chain.current
        )));
    }
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let (layers, activation) = (chain.layers, chain.output.map_or(OutputActivation::None, |(a, _)| a));
    let model = Model::new(name, input.shape, layers, activation).map_err(|source| LoadError::Model {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata: BTreeMap<String, String> = proto
        .metadata_props
        .iter()
        .map(|e| (e.key.clone().unwrap_or_default(), e.value.clone().unwrap_or_default()))
        .collect();
    Ok(OnnxModel { model, metadata, opset })
}

/// The one graph input that is not an initializer.
struct GraphInput<'a> {
    name: &'a str,
    batch: Option<usize>,
    shape: Vec<usize>,
}

fn graph_input<'a>(graph: &'a GraphProto, constants: &Constants<'_>, path: &Path) -> Result<GraphInput<'a>, LoadError> {
    let fail = |message: String| LoadError::format(path, message);
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !constants.contains(i.name.as_deref().unwrap_or("")))
        .collect();
    let [input] = inputs.as_slice() else {
        let names: Vec<_> = inputs.iter().map(|i| i.name.as_deref().unwrap_or("")).collect();
        return Err(fail(format!(
            "the graph has {} data inputs {names:?}; exactly one is supported",
            names.len()
        )));
    };
    let name = input.name.as_deref().unwrap_or("");
    let Some(TypeValue::TensorType(tensor)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(fail(format!("the graph input {name:?} is not a tensor")));
    };
    if tensor.elem_type != Some(DataType::Float as i32) {
        return Err(fail(format!("the graph input {name:?} must be float32")));
    }
    let dims = tensor
        .shape
        .as_ref()
        .map(|s| s.dim.as_slice())
        .ok_or_else(|| fail(format!("the graph input {name:?} has no shape")))?;
    let Some((batch, rest)) = dims.split_first().filter(|(_, rest)| !rest.is_empty()) else {
        return Err(fail(format!(
            "the graph input {name:?} has shape rank {}; expected [batch, features] or [batch, C, H, W]",
            dims.len()
        )));
    };
    let batch = match batch.value {
        Some(Dim::DimValue(v)) if v > 0 => usize::try_from(v).ok(),
        _ => None,
    };
    let shape = rest
        .iter()
        .enumerate()
        .map(|(k, d)| match &d.value {
            Some(Dim::DimValue(v)) if *v > 0 => usize::try_from(*v).map_err(|_| String::new()),
            Some(Dim::DimParam(p)) => Err(format!("dimension {} is symbolic ({p:?})", k + 1)),
            _ => Err(format!("dimension {} is unknown", k + 1)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| {
            fail(format!(
                "the graph input {name:?}: {m}; only the batch dimension may be dynamic"
            ))
        })?;
    Ok(GraphInput { name, batch, shape })
}

/// Who reads and who writes each tensor name.
#[derive(Default)]
struct Wiring<'a> {
    consumers: HashMap<&'a str, usize>,
    produced: HashSet<&'a str>,
}

/// The layers read so far and the tensor that the next node must consume.
struct Chain<'a> {
    layers: Vec<Layer>,
    /// Per-sample shape of `current`.
    shape: Vec<usize>,
    /// A final Softmax/LogSoftmax seen, with its node's label.
    output: Option<(OutputActivation, String)>,
    current: &'a str,
}

impl<'a> Chain<'a> {
    fn push(
        &mut self,
        node: &'a NodeProto,
        constants: &Constants<'_>,
        wiring: &Wiring<'_>,
        input: &GraphInput<'_>,
        opset: i64,
        path: &Path,
    ) -> Result<(), LoadError> {
        let label = ops::node_label(node);
        let fail = |message: String| LoadError::format(path, format!("node {label}: {message}"));
        let op_type = node.op_type.as_deref().unwrap_or("");
        let domain = node.domain.as_deref().unwrap_or("");
        let builder = match ops::builder(op_type) {
            Some(b) if domain.is_empty() || domain == "ai.onnx" => b,
            _ => {
                return Err(LoadError::UnsupportedOp {
                    path: path.to_path_buf(),
                    op_type: if domain.is_empty() {
                        op_type.to_string()
                    } else {
                        format!("{domain}.{op_type}")
                    },
                    node: match node.name.as_deref().filter(|n| !n.is_empty()) {
                        Some(name) => name.to_string(),
                        None => format!("producing {:?}", node.output.first().map_or("", String::as_str)),
                    },
                    supported: ops::supported(),
                });
            }
        };
        if let Some(missing) = node
            .input
            .iter()
            .find(|n| !n.is_empty() && !constants.contains(n) && !wiring.produced.contains(n.as_str()))
        {
            return Err(fail(format!(
                "its input {missing:?} is not an initializer, a constant or the output of any node"
            )));
        }
        let data: Vec<(usize, &str)> = node
            .input
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.is_empty() && !constants.contains(name))
            .map(|(k, name)| (k, name.as_str()))
            .collect();
        let (data_input, data_name) = match data.as_slice() {
            [one] => *one,
            [] => {
                return Err(fail(
                    "it reads no computed value: only a chain of layers is supported".into(),
                ));
            }
            many => {
                let names: Vec<_> = many.iter().map(|(_, n)| *n).collect();
                return Err(fail(format!(
                    "it combines several computed values {names:?}: branching graphs are not supported, \
                     only a chain of layers"
                )));
            }
        };
        if data_name != self.current {
            return Err(fail(format!(
                "it reads {data_name:?}, not the previous node's output {:?}: only a chain of layers is supported",
                self.current
            )));
        }
        let readers = wiring.consumers.get(self.current).copied().unwrap_or(0);
        if readers > 1 {
            return Err(fail(format!(
                "{:?} is read by {readers} nodes: branching graphs are not supported, only a chain of layers",
                self.current
            )));
        }
        let ctx = NodeCtx {
            node,
            attrs: Attrs::new(node),
            path,
            shape: &self.shape,
            batch: input.batch,
            opset,
            data_input,
            constants,
        };
        let step = builder(&ctx)?;
        if let Some((_, softmax)) = &self.output
            && !matches!(step, Step::Skip)
        {
            return Err(fail(format!(
                "it follows {softmax}; Softmax and LogSoftmax are only supported as the model's last operation"
            )));
        }
        match step {
            Step::Layer(layer) => {
                self.shape = output_shape(&layer, &self.shape).map_err(fail)?;
                self.layers.push(layer);
            }
            Step::Skip => {}
            Step::MergeBatchNorm(bn) => match self.layers.last_mut() {
                Some(layer @ (Layer::Dense(_) | Layer::Conv2d(_))) => merge_batchnorm(layer, &bn).map_err(fail)?,
                other => {
                    return Err(fail(format!(
                        "it follows {}, not a Conv, Gemm or MatMul layer it could be merged into",
                        other.map_or("the graph input", |l| l.kind().name())
                    )));
                }
            },
            Step::AddBias(bias) => match self.layers.last_mut() {
                Some(layer) => ops::add_bias(layer, &self.shape, &bias).map_err(fail)?,
                None => return Err(fail("adding a constant to the graph input is not supported".into())),
            },
            Step::Output(activation) => self.output = Some((activation, label.clone())),
        }
        self.current = match node.output.first().filter(|n| !n.is_empty()) {
            Some(out) => out.as_str(),
            None => return Err(fail("it has no output".into())),
        };
        for extra in node.output.iter().skip(1).filter(|n| !n.is_empty()) {
            if wiring.consumers.contains_key(extra.as_str()) {
                return Err(fail(format!(
                    "its extra output {extra:?} is used; only the first output is supported"
                )));
            }
        }
        Ok(())
    }
}
