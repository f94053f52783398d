//! ONNX graph → [`Model`]: runs the import passes, then walks the remaining nodes as a chain, calls one builder
//! per node and assembles the layers.
//!
//! BatchNormalization and a separate bias `Add` are merged into the layer before them, and a final Softmax or
//! LogSoftmax becomes the model's [`OutputActivation`], so layer `k` of the model is the `k`-th remaining node.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::OnnxModel;
use super::attr::Attrs;
use super::constants::Constants;
use super::graph::{Graph, GraphInput};
use super::ops::{self, NodeCtx, Step};
use super::passes;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::dimension::Value as Dim;
use super::proto::type_proto::Value as TypeValue;
use super::proto::{GraphProto, ModelProto, NodeProto};
use super::report::{ImportReport, InputLayout};
use crate::error::LoadError;
use crate::model::{Layer, Model, OutputActivation, merge_batchnorm, output_shape};

/// Choices the user makes about a file.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The graph output (or any tensor) to explain instead of the one chosen automatically.
    pub output: Option<String>,
}

/// The model the graph of `proto` describes; `path` names it and locates external data.
pub(super) fn convert(proto: &ModelProto, path: &Path, options: &ImportOptions) -> Result<OnnxModel, LoadError> {
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
    let mut g = prepare(graph, path, opset)?;
    g.report.producer = [proto.producer_name.as_deref(), proto.producer_version.as_deref()]
        .iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    passes::run(&mut g, &graph.output, options.output.as_deref())?;
    if g.nodes.is_empty() {
        return Err(fail("the graph has no nodes".into()));
    }
    let mut wiring = Wiring::default();
    wiring.produced.insert(g.input.name.as_str());
    for node in &g.nodes {
        for name in &node.input {
            *wiring.consumers.entry(name.as_str()).or_default() += 1;
        }
        wiring.produced.extend(node.output.iter().map(String::as_str));
    }
    let mut chain = Chain {
        layers: vec![],
        shape: g.input.shape.clone(),
        output: None,
        current: g.input.name.as_str(),
        folded_biases: 0,
    };
    for (index, node) in g.nodes.iter().enumerate() {
        chain.push(node, index, &g, &wiring)?;
    }
    if chain.current != g.output {
        return Err(fail(format!(
            "the explained output {:?} is not the output of the last node ({:?})",
            g.output, chain.current
        )));
    }
    let mut report = g.report;
    report.folded_biases = chain.folded_biases;
    report.permutation_layers = chain.layers.iter().filter(|l| matches!(l, Layer::Permute(_))).count();
    report.final_activation = chain.output.as_ref().map(|(a, _)| match a {
        OutputActivation::LogSoftmax => "LogSoftmax".to_string(),
        _ => "Softmax".to_string(),
    });
    report.input_layout = match (report.input_layout, g.input.shape.len()) {
        (InputLayout::Nhwc, _) => InputLayout::Nhwc,
        (_, 1) => InputLayout::Flat,
        (_, 2) => InputLayout::Image,
        _ => InputLayout::Nchw,
    };
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let (mut input_shape, mut layers): (Vec<usize>, Vec<Layer>) = (g.input.shape.clone(), chain.layers);
    // Samples are fed row-major, so leading reshapes of an image without a channel axis or of a channel-last
    // image are part of reading the input, not layers.
    if matches!(report.input_layout, InputLayout::Image | InputLayout::Nhwc) {
        while layers.len() > 1 && matches!(layers[0], Layer::Reshape(_) | Layer::Flatten) {
            input_shape = output_shape(&layers[0], &input_shape).map_err(fail)?;
            layers.remove(0);
        }
    }
    let activation = chain.output.map_or(OutputActivation::None, |(a, _)| a);
    let model = Model::new(name, input_shape, layers, activation).map_err(|source| LoadError::Model {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata: BTreeMap<String, String> = proto
        .metadata_props
        .iter()
        .map(|e| (e.key.clone().unwrap_or_default(), e.value.clone().unwrap_or_default()))
        .collect();
    Ok(OnnxModel {
        model,
        metadata,
        opset,
        report,
    })
}

/// The graph of a file, ready for the passes: its constants collected and its one data input found.
pub(super) fn prepare<'a>(graph: &'a GraphProto, path: &'a Path, opset: i64) -> Result<Graph<'a>, LoadError> {
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let constants = Constants::collect(graph, base_dir);
    let input = graph_input(graph, &constants, path)?;
    let report = ImportReport {
        opset,
        input_shape: input.shape.clone(),
        fixed_batch: input.batch,
        ..ImportReport::default()
    };
    Ok(Graph {
        nodes: graph.node.iter().map(Cow::Borrowed).collect(),
        constants,
        input,
        output: String::new(),
        shapes: HashMap::new(),
        report,
        path,
        opset,
    })
}

/// The one graph input that is not an initializer.
fn graph_input(graph: &GraphProto, constants: &Constants<'_>, path: &Path) -> Result<GraphInput, LoadError> {
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
    let name = name.to_string();
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
    /// Separate bias `Add`s merged into the layer before them.
    folded_biases: usize,
}

impl<'a> Chain<'a> {
    fn push(&mut self, node: &'a NodeProto, index: usize, g: &Graph<'_>, wiring: &Wiring<'_>) -> Result<(), LoadError> {
        let path = g.path;
        let label = ops::node_label(node);
        let fail = |message: String| LoadError::format(path, format!("node {label}: {message}"));
        let op_type = node.op_type.as_deref().unwrap_or("");
        let domain = node.domain.as_deref().unwrap_or("");
        let builder = match ops::builder(op_type) {
            Some(b) if domain.is_empty() || domain == "ai.onnx" => b,
            _ => {
                let context = if passes::feeds_shape(g, index) {
                    " (on a shape computation)"
                } else {
                    ""
                };
                return Err(passes::unsupported(path, node, context));
            }
        };
        if let Some(missing) = node
            .input
            .iter()
            .find(|n| !n.is_empty() && !g.constants.contains(n) && !wiring.produced.contains(n.as_str()))
        {
            return Err(fail(format!(
                "its input {missing:?} is not an initializer, a constant or the output of any node"
            )));
        }
        let data: Vec<(usize, &str)> = node
            .input
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.is_empty() && !g.constants.contains(name))
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
            batch: g.input.batch,
            opset: g.opset,
            data_input,
            constants: &g.constants,
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
                Some(layer) => {
                    ops::add_bias(layer, &self.shape, &bias).map_err(fail)?;
                    self.folded_biases += 1;
                }
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
