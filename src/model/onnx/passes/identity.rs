//! Identity removal: float→float `Cast`, `Identity`, inference `Dropout`, and a `Reshape`/`Flatten` to the shape
//! its input already has.

use crate::model::onnx::attr::Attrs;
use crate::model::onnx::graph::{Graph, domain, op};

/// `Cast` targets that keep a float tensor float (float, float16, double, bfloat16): the engine computes in f32.
const FLOAT_TYPES: [i64; 4] = [1, 10, 11, 16];

/// Removes the pass-through nodes of `graph`, counting them by op in the report.
pub(in crate::model::onnx) fn remove(graph: &mut Graph<'_>) {
    let mut k = 0;
    while k < graph.nodes.len() {
        let node = &graph.nodes[k];
        let (Some(input), Some(output)) = (node.input.first().cloned(), node.output.first().cloned()) else {
            k += 1;
            continue;
        };
        let extra_used = node.output.iter().skip(1).any(|o| !o.is_empty() && graph.is_used(o));
        let same_shape = || match (graph.shapes.get(&input), graph.shapes.get(&output)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        let passes_through = domain(node).is_empty()
            && !extra_used
            && match op(node) {
                "Identity" | "Dropout" => true,
                "Cast" => Attrs::new(node)
                    .int("to")
                    .ok()
                    .flatten()
                    .is_some_and(|t| FLOAT_TYPES.contains(&t)),
                "Reshape" | "Flatten" => same_shape(),
                _ => false,
            };
        if passes_through {
            *graph.report.removed.entry(op(node).to_string()).or_default() += 1;
            graph.bypass(k, &input);
        } else {
            k += 1;
        }
    }
}
