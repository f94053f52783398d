//! Output selection: which graph output holds the float scores to explain, and pruning of everything that does
//! not lead to it (label branches: `ArgMax`, `ArrayFeatureExtractor`, `ZipMap`, casts to integers).

use std::collections::HashSet;

use crate::error::LoadError;
use crate::model::onnx::graph::{Graph, domain, op};
use crate::model::onnx::proto::ValueInfoProto;
use crate::model::onnx::proto::type_proto::Value as TypeValue;

/// ONNX element types that hold real numbers (float, float16, double, bfloat16).
const FLOAT_TYPES: [i32; 4] = [1, 10, 11, 16];

/// Chooses the explained output (`wanted`, or the one float-score output) and drops the nodes that do not lead to
/// it.
pub(in crate::model::onnx) fn select(
    graph: &mut Graph<'_>,
    outputs: &[ValueInfoProto],
    wanted: Option<&str>,
) -> Result<(), LoadError> {
    let mut candidates = Vec::new();
    for out in outputs {
        let name = out.name.clone().unwrap_or_default();
        match out.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(TypeValue::TensorType(t)) if t.elem_type.is_none_or(|e| FLOAT_TYPES.contains(&e)) => {
                candidates.push(name);
            }
            Some(TypeValue::TensorType(_)) => {}
            // A ZipMap's sequence of maps: its input is the score tensor.
            _ => {
                if let Some(k) = graph.producer(&name)
                    && op(&graph.nodes[k]) == "ZipMap"
                    && let Some(input) = graph.nodes[k].input.first()
                {
                    candidates.push(input.clone());
                }
            }
        }
    }
    let all: Vec<String> = outputs.iter().map(|o| o.name.clone().unwrap_or_default()).collect();
    let chosen = match wanted {
        Some(w) => {
            let exists = w == graph.input.name || graph.producer(w).is_some();
            if !exists {
                return Err(LoadError::format(
                    graph.path,
                    format!(
                        "--output {w:?}: the graph has no such tensor; its outputs are {all:?}{}",
                        if candidates.is_empty() {
                            String::new()
                        } else {
                            format!(" (scores: {candidates:?})")
                        }
                    ),
                ));
            }
            w.to_string()
        }
        None => match candidates.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(LoadError::format(
                    graph.path,
                    format!(
                        "none of the graph outputs {all:?} is a float tensor of scores; choose a tensor with --output NAME"
                    ),
                ));
            }
            many => {
                return Err(LoadError::format(
                    graph.path,
                    format!(
                        "the graph has {} float outputs {many:?}; choose the scores to explain with --output NAME",
                        many.len()
                    ),
                ));
            }
        },
    };
    graph.report.outputs = if candidates.contains(&chosen) {
        candidates
    } else {
        [candidates, vec![chosen.clone()]].concat()
    };
    graph.report.ignored_outputs = all
        .into_iter()
        .filter(|o| *o != chosen && !graph.report.outputs.contains(o))
        .collect();
    graph.output = chosen.clone();
    graph.report.output = chosen;
    prune(graph);
    Ok(())
}

/// Keeps only the nodes the explained output depends on; the others are counted as an ignored branch.
fn prune(graph: &mut Graph<'_>) {
    let mut needed: HashSet<String> = HashSet::from([graph.output.clone()]);
    let mut keep = vec![false; graph.nodes.len()];
    for k in (0..graph.nodes.len()).rev() {
        let node = &graph.nodes[k];
        if node.output.iter().any(|o| needed.contains(o)) {
            keep[k] = true;
            needed.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    let mut k = 0;
    graph.nodes.retain(|node| {
        let kept = keep[k];
        k += 1;
        if !(kept || op(node) == "Constant" && domain(node).is_empty()) {
            let name = match domain(node) {
                "" => op(node).to_string(),
                d => format!("{d}.{}", op(node)),
            };
            *graph.report.ignored.entry(name).or_default() += 1;
        }
        kept
    });
}
