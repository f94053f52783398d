//! The graph that the import passes rewrite before layers are built: nodes (borrowed from the file until a pass
//! changes one), constants, the one data input, the output being explained, and what the passes did.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::constants::Constants;
use super::passes::Sym;
use super::proto::NodeProto;
use super::report::ImportReport;
use crate::error::LoadError;

/// A graph under rewriting.
pub(super) struct Graph<'a> {
    pub nodes: Vec<Cow<'a, NodeProto>>,
    pub constants: Constants<'a>,
    pub input: GraphInput,
    /// The tensor whose values are the scores to explain.
    pub output: String,
    /// Full shapes (batch first, the batch symbolic) of the computed tensors, as inferred by constant folding.
    pub shapes: HashMap<String, Vec<Sym>>,
    pub report: ImportReport,
    pub path: &'a Path,
    /// Version of the default operator set.
    pub opset: i64,
}

/// The one graph input that is not an initializer.
#[derive(Clone, Debug)]
pub(super) struct GraphInput {
    pub name: String,
    /// The batch size fixed by the file, if it fixes one (it is treated as any batch size all the same).
    pub batch: Option<usize>,
    /// Per-sample shape as the file declares it.
    pub shape: Vec<usize>,
}

impl Graph<'_> {
    /// An error about node `index` (its label, op and domain) with `message`.
    pub fn fail_at(&self, index: usize, message: impl std::fmt::Display) -> LoadError {
        LoadError::format(self.path, format!("node {}: {message}", node_label(&self.nodes[index])))
    }

    /// Indices of the nodes that read `name`.
    pub fn consumers(&self, name: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&k| self.nodes[k].input.iter().any(|i| i == name))
            .collect()
    }

    /// Index of the node that writes `name`.
    pub fn producer(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.output.iter().any(|o| o == name))
    }

    /// Whether `name` is read by a node or is the explained output.
    pub fn is_used(&self, name: &str) -> bool {
        self.output == name || self.nodes.iter().any(|n| n.input.iter().any(|i| i == name))
    }

    /// Removes node `index`, which passes its input `from` through unchanged as its first output: every reader of
    /// that output (and the explained output) reads `from` instead.
    pub fn bypass(&mut self, index: usize, from: &str) {
        let node = self.nodes.remove(index);
        let Some(out) = node.output.first() else {
            return;
        };
        self.rename_uses(out, from);
    }

    /// Makes every reader of `from` (and the explained output) read `to`.
    pub fn rename_uses(&mut self, from: &str, to: &str) {
        for node in &mut self.nodes {
            if node.input.iter().any(|i| i == from) {
                for input in &mut node.to_mut().input {
                    if input == from {
                        *input = to.to_string();
                    }
                }
            }
        }
        if self.output == from {
            self.output = to.to_string();
        }
    }
}

/// The op type of a node (`""` if missing).
pub(super) fn op(node: &NodeProto) -> &str {
    node.op_type.as_deref().unwrap_or("")
}

/// The node's domain, with the default domain as `""`.
pub(super) fn domain(node: &NodeProto) -> &str {
    match node.domain.as_deref().unwrap_or("") {
        "ai.onnx" => "",
        other => other,
    }
}

/// `"name" (Op)`, or `Op producing "<first output>"` for unnamed nodes; ops of other domains carry the domain.
pub(super) fn node_label(node: &NodeProto) -> String {
    let op = match (domain(node), op(node)) {
        (_, "") => "?".to_string(),
        ("", op) => op.to_string(),
        (domain, op) => format!("{op} of domain {domain}"),
    };
    match node.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{name:?} ({op})"),
        None => format!("{op} producing {:?}", node.output.first().map_or("", String::as_str)),
    }
}
