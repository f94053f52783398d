//! The import pipeline: graph passes that run before layers are built, each a small rewrite of [`Graph`].
//!
//! 1. [`outputs`]: choose the output to explain, drop label branches;
//! 2. [`fold`]: evaluate everything that depends only on constants and the input's static shape;
//! 3. [`identity`]: remove float→float casts, identities, dropout and no-op reshapes;
//! 4. [`layout`]: cancel and absorb transposes so the engine runs channel-first.

mod array;
mod eval;
mod fold;
mod identity;
mod layout;
mod outputs;
mod shapes;
mod sym;

#[cfg(test)]
mod tests;

use std::path::Path;

pub(super) use fold::shape_inputs;
pub(super) use sym::Sym;

use super::graph::{Graph, domain, op};
use super::proto::{NodeProto, ValueInfoProto};
use crate::error::LoadError;

/// Runs every pass on `graph`; `outputs` are the file's graph outputs, `wanted` the output the user chose.
pub(super) fn run(graph: &mut Graph<'_>, outputs: &[ValueInfoProto], wanted: Option<&str>) -> Result<(), LoadError> {
    outputs::select(graph, outputs, wanted)?;
    fold::fold(graph)?;
    identity::remove(graph);
    layout::run(graph)?;
    Ok(())
}

/// The error for an op that the import cannot handle; `context` says where it sits (e.g. on a shape computation).
pub(super) fn unsupported(path: &Path, node: &NodeProto, context: &'static str) -> LoadError {
    LoadError::UnsupportedOp {
        path: path.to_path_buf(),
        op_type: match domain(node) {
            "" => op(node).to_string(),
            d => format!("{d}.{}", op(node)),
        },
        node: match node.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => format!("producing {:?}", node.output.first().map_or("", String::as_str)),
        },
        context,
        supported: super::ops::supported(),
    }
}

/// Whether the output of node `index` flows into an input that must be a shape (a Reshape target, axes, …):
/// used to say "on a shape computation" in errors.
pub(super) fn feeds_shape(graph: &Graph<'_>, index: usize) -> bool {
    let mut frontier: Vec<String> = graph.nodes[index].output.clone();
    let mut seen = std::collections::HashSet::new();
    while let Some(name) = frontier.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for node in graph.nodes.iter() {
            for (k, input) in node.input.iter().enumerate() {
                if *input == name {
                    if shape_inputs(op(node)).contains(&k) {
                        return true;
                    }
                    frontier.extend(node.output.iter().cloned());
                }
            }
        }
    }
    false
}
