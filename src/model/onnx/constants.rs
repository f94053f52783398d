//! Graph constants: initializers, the outputs of `Constant` nodes and the values folded by the passes.
//!
//! Initializers are decoded only when something asks for them, so a 5 MB file whose label branch is never used
//! costs no decoding for it.

use std::collections::HashMap;
use std::path::PathBuf;

use super::attr::Attrs;
use super::proto::{GraphProto, NodeProto, TensorProto};
use super::tensor::{self, Tensor, Values};

/// Every constant of the graph by tensor name.
pub(super) struct Constants<'a> {
    sources: HashMap<String, Source<'a>>,
    base_dir: PathBuf,
}

enum Source<'a> {
    Proto(&'a TensorProto),
    Value(Tensor),
    Unsupported(String),
}

impl<'a> Constants<'a> {
    /// The initializers and `Constant` node outputs of `graph`; external data is looked for in `base_dir`.
    pub fn collect(graph: &'a GraphProto, base_dir: PathBuf) -> Self {
        let mut sources = HashMap::new();
        for t in &graph.initializer {
            sources.insert(t.name.clone().unwrap_or_default(), Source::Proto(t));
        }
        for node in graph.node.iter().filter(|n| n.op_type.as_deref() == Some("Constant")) {
            if let Some(name) = node.output.first() {
                sources.insert(name.clone(), constant_node(node));
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

    /// Dimensions of the constant `name` without decoding its values.
    pub fn dims(&self, name: &str) -> Option<Vec<usize>> {
        match self.sources.get(name)? {
            Source::Proto(t) => t.dims.iter().map(|&d| usize::try_from(d).ok()).collect(),
            Source::Value(t) => Some(t.dims.clone()),
            Source::Unsupported(_) => None,
        }
    }

    /// Adds (or replaces) the constant `name`, e.g. a folded value or rewritten weights.
    pub fn insert(&mut self, name: impl Into<String>, value: Tensor) {
        self.sources.insert(name.into(), Source::Value(value));
    }

    /// A name not used by any constant yet, derived from `base`.
    pub fn fresh_name(&self, base: &str) -> String {
        (0..)
            .map(|k| format!("{base}::folded{k}"))
            .find(|n| !self.sources.contains_key(n))
            .unwrap_or_else(|| format!("{base}::folded"))
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
