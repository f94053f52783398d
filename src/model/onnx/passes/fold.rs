//! Constant folding: every node that depends only on initializers, `Constant` nodes and the static shape of the
//! input (the batch axis symbolic) is evaluated at import time and disappears; a `Reshape` whose target was folded
//! to `[N, -1]` becomes a `Flatten`. Shapes of the computed tensors are recorded on the way.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::eval::{self, FOLDABLE, Known};
use super::shapes::{self, Operand};
use super::sym::{Sym, show};
use crate::error::LoadError;
use crate::model::onnx::graph::{Graph, domain, node_label, op};
use crate::model::onnx::proto::NodeProto;
use crate::model::onnx::tensor::{Tensor, Values};

/// Inputs that give a shape, an axis list or a size: folding needs them known.
pub(in crate::model::onnx) fn shape_inputs(op: &str) -> &'static [usize] {
    match op {
        "Reshape" | "Expand" | "Tile" | "Unsqueeze" | "Squeeze" | "Upsample" => &[1],
        "ConstantOfShape" => &[0],
        "Range" => &[0, 1, 2],
        "Slice" => &[1, 2, 3, 4],
        "Resize" => &[1, 2, 3],
        _ => &[],
    }
}

/// Folds `graph` in place (see the module docs).
pub(in crate::model::onnx) fn fold(graph: &mut Graph<'_>) -> Result<(), LoadError> {
    let mut folder = Folder {
        known: HashMap::new(),
        data: HashSet::from([graph.input.name.clone()]),
        producers: HashMap::new(),
    };
    let mut full = vec![Sym::Batch(1)];
    full.extend(graph.input.shape.iter().map(|&d| Sym::Int(d as i64)));
    graph.shapes.insert(graph.input.name.clone(), full);
    let path = graph.path;
    let nodes = std::mem::take(&mut graph.nodes);
    let mut kept = Vec::with_capacity(nodes.len());
    for node in nodes {
        let label = node_label(&node);
        let fail = |message: String| LoadError::format(path, format!("node {label}: {message}"));
        let op_type = op(&node).to_string();
        if op_type == "Constant" && domain(&node).is_empty() {
            continue;
        }
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            if !folder.data.contains(name) && !folder.known.contains_key(name) && !graph.constants.contains(name) {
                return Err(fail(format!(
                    "its input {name:?} is not an initializer, a constant or the output of any node before it"
                )));
            }
        }
        let data_inputs: Vec<usize> = (0..node.input.len())
            .filter(|&k| folder.data.contains(&node.input[k]))
            .collect();
        let out = node.output.first().cloned().unwrap_or_default();
        if data_inputs.is_empty() {
            if !domain(&node).is_empty() || !FOLDABLE.contains(&op_type.as_str()) {
                return Err(super::unsupported(
                    path,
                    &node,
                    " (all its inputs are constants, but it is not one of the ops evaluated at import time)",
                ));
            }
            let inputs = folder.inputs(&node, graph).map_err(&fail)?;
            let value = eval::eval(&node, &op_type, &inputs, graph.opset).map_err(|m| fail(format!("folding: {m}")))?;
            folder.known.insert(out, value);
            *graph.report.folded.entry(op_type).or_default() += 1;
            continue;
        }
        if op_type == "Shape" {
            let source = &node.input[0];
            let Some(shape) = graph.shapes.get(source) else {
                return Err(fail(format!(
                    "it reads the shape of {source:?}{}, which could not be worked out at import time",
                    folder.made_by(source)
                )));
            };
            let value = eval::shape_value(&node, shape).map_err(&fail)?;
            folder.known.insert(out, value);
            *graph.report.folded.entry(op_type).or_default() += 1;
            continue;
        }
        for &k in shape_inputs(&op_type) {
            if let Some(name) = node.input.get(k).filter(|n| folder.data.contains(*n)) {
                if let Some(producer) = kept.iter().find(|n: &&Cow<'_, NodeProto>| n.output.contains(name))
                    && (!domain(producer).is_empty() || crate::model::onnx::ops::builder(op(producer)).is_none())
                    // An op the import folds elsewhere (Cast, Gather, …) fails here only because its input is data:
                    // name the shape's reader. An op it never handles is named as unsupported.
                    && !(domain(producer).is_empty() && FOLDABLE.contains(&op(producer)))
                {
                    return Err(super::unsupported(
                        path,
                        producer,
                        " (on a shape computation: folding stopped there, the shape depends on data)",
                    ));
                }
                return Err(fail(format!(
                    "its input {k} ({name:?}{}) is computed from the model's input values: the shape depends on \
                     data, so it cannot be worked out at import time",
                    folder.made_by(name)
                )));
            }
        }
        let node = folder.resolve(node, graph).map_err(&fail)?;
        // Shape-giving inputs that are initializers (or a target `resolve` just rewrote into one) are read for shape
        // inference too; weights are not decoded here.
        let shape_values: Vec<Option<Known>> = node
            .input
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let wanted = shape_inputs(op(&node)).contains(&k) && !folder.known.contains_key(name);
                if wanted {
                    folder.value(name, graph).ok().flatten()
                } else {
                    None
                }
            })
            .collect();
        let operands: Vec<Operand<'_>> = node
            .input
            .iter()
            .zip(&shape_values)
            .map(|(name, constant)| Operand {
                shape: graph.shapes.get(name).cloned().or_else(|| {
                    graph
                        .constants
                        .dims(name)
                        .map(|d| d.iter().map(|&v| Sym::Int(v as i64)).collect())
                }),
                value: folder.known.get(name).or(constant.as_ref()),
            })
            .collect();
        if let Some(shape) = shapes::infer(&node, op(&node), &operands) {
            graph.shapes.insert(out.clone(), shape);
        }
        for o in node.output.iter().filter(|o| !o.is_empty()) {
            folder.data.insert(o.clone());
            folder.producers.insert(o.clone(), node_label(&node));
        }
        kept.push(node);
    }
    graph.nodes = kept;
    // In name order, so that the same file always reports the same node first.
    let mut known: Vec<_> = folder.known.into_iter().collect();
    known.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in known {
        if graph.is_used(&name) {
            match value.to_tensor() {
                Some(t) => graph.constants.insert(name, t),
                None => {
                    let reader = graph
                        .consumers(&name)
                        .first()
                        .map_or_else(String::new, |&k| node_label(&graph.nodes[k]));
                    return Err(LoadError::format(
                        graph.path,
                        format!(
                            "node {reader}: it reads {name:?}, which depends on the batch size in a way that is not supported (only as the first entry of a Reshape target)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

struct Folder {
    /// Values computed at import time by folded nodes.
    known: HashMap<String, Known>,
    /// Tensors computed from the model's input.
    data: HashSet<String>,
    /// Label of the node that computed each data tensor.
    producers: HashMap<String, String>,
}

impl Folder {
    fn made_by(&self, name: &str) -> String {
        self.producers
            .get(name)
            .map_or_else(String::new, |p| format!(", computed by node {p}"))
    }

    fn value(&self, name: &str, graph: &Graph<'_>) -> Result<Option<Known>, String> {
        if name.is_empty() {
            return Ok(None);
        }
        if let Some(v) = self.known.get(name) {
            return Ok(Some(v.clone()));
        }
        match graph.constants.get(name) {
            Some(t) => t
                .map(|t| Some(Known::from_tensor(t)))
                .map_err(|e| format!("tensor {name:?}: {e}")),
            None => Err(format!("{name:?} is not known at import time")),
        }
    }

    fn inputs(&self, node: &NodeProto, graph: &Graph<'_>) -> Result<Vec<Option<Known>>, String> {
        node.input.iter().map(|name| self.value(name, graph)).collect()
    }

    /// A kept node whose Reshape target was folded: into `Flatten` for `[N, -1]`, else a plain constant target.
    fn resolve<'a>(&mut self, node: Cow<'a, NodeProto>, graph: &mut Graph<'_>) -> Result<Cow<'a, NodeProto>, String> {
        if op(&node) != "Reshape" {
            return Ok(node);
        }
        let Some(target) = node.input.get(1).and_then(|t| self.known.get(t)) else {
            return Ok(node);
        };
        let syms = target.syms("target shape")?.to_vec();
        let allow_zero = node
            .attribute
            .iter()
            .any(|a| a.name.as_deref() == Some("allowzero") && a.i == Some(1));
        let x = graph.shapes.get(&node.input[0]).cloned();
        let out = match &x {
            Some(x) => shapes::reshape(x, &syms, allow_zero)
                .ok_or_else(|| format!("cannot reshape {} to {}", show(x), show(&syms)))?,
            None => syms.clone(),
        };
        let (first, rest) = out.split_first().ok_or("the target shape is empty")?;
        if *first != Sym::Batch(1) || rest.iter().any(|d| d.int().is_none_or(|v| v < 0)) {
            if syms.iter().all(|s| s.int().is_some()) {
                return Ok(node);
            }
            return Err(format!(
                "the target shape {} keeps the batch only as its first entry (the output would be {})",
                show(&syms),
                show(&out)
            ));
        }
        let mut rewritten = node.into_owned();
        rewritten.attribute.retain(|a| a.name.as_deref() != Some("allowzero"));
        if rest.len() == 1 && x.as_ref().is_some_and(|x| x.len() > 2) {
            rewritten.op_type = Some("Flatten".into());
            rewritten.input.truncate(1);
            graph.report.reshapes_to_flatten += 1;
        } else {
            let mut dims = vec![-1];
            dims.extend(rest.iter().filter_map(|d| d.int()));
            let name = graph.constants.fresh_name(&rewritten.input[1]);
            graph.constants.insert(
                name.clone(),
                Tensor {
                    dims: vec![dims.len()],
                    values: Values::I64(dims),
                },
            );
            rewritten.input[1] = name;
        }
        Ok(Cow::Owned(rewritten))
    }
}
