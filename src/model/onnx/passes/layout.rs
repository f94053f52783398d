//! Layout: transposes are pushed down through element-wise ops and cancelled in pairs, transposes that only move
//! axes of size 1 become reshapes, and a transpose before a flatten into a fully connected layer is absorbed into
//! its weights. A Keras graph (NHWC, a transpose to NCHW and back around every Conv and MaxPool, the conv bias
//! added in NHWC) thus runs channel-first with no transpose left; its input keeps the model's own layout.
//!
//! Transposes that cannot be absorbed stay and become permutation layers.

use std::borrow::Cow;

use super::array;
use super::eval::permutation;
use super::sym::Sym;
use crate::error::LoadError;
use crate::model::onnx::attr::Attrs;
use crate::model::onnx::graph::{Graph, domain, op};
use crate::model::onnx::proto::{AttributeProto, NodeProto};
use crate::model::onnx::report::InputLayout;
use crate::model::onnx::tensor::{Tensor, Values};

/// Element-wise ops a transpose can move past unchanged.
const UNARY: &[&str] = &[
    "Relu",
    "Tanh",
    "Sigmoid",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Softplus",
    "Neg",
    "Abs",
    "Exp",
    "Clip",
    "Identity",
];

/// Element-wise ops with a constant operand that a transpose can move past, permuting the constant.
const BINARY: &[&str] = &["Add", "Sub", "Mul", "Div"];

/// Rewrites the transposes of `graph`.
pub(in crate::model::onnx) fn run(graph: &mut Graph<'_>) -> Result<(), LoadError> {
    while sink_one(graph)? {}
    let mut k = 0;
    while k < graph.nodes.len() {
        if is_transpose(&graph.nodes[k]) && (as_reshape(graph, k)? || into_weights(graph, k)?) {
            graph.report.absorbed_transposes += 1;
            continue;
        }
        k += 1;
    }
    Ok(())
}

fn is_transpose(node: &NodeProto) -> bool {
    op(node) == "Transpose" && domain(node).is_empty()
}

/// The transpose's permutation of the full shape (batch axis included), checked.
fn perm_of(graph: &Graph<'_>, k: usize) -> Result<Vec<usize>, LoadError> {
    let node = &graph.nodes[k];
    let rank = graph
        .shapes
        .get(&node.input[0])
        .map(Vec::len)
        .or_else(|| Attrs::new(node).ints("perm").ok().flatten().map(<[i64]>::len))
        .ok_or_else(|| graph.fail_at(k, "the rank of its input is unknown"))?;
    let perm = permutation(Attrs::new(node).ints("perm").map_err(|e| graph.fail_at(k, &e))?, rank)
        .map_err(|e| graph.fail_at(k, e))?;
    Ok(perm)
}

/// Moves one transpose down past the element-wise node that reads it, or cancels/merges two transposes in a
/// row. Returns whether anything changed.
fn sink_one(graph: &mut Graph<'_>) -> Result<bool, LoadError> {
    for t in 0..graph.nodes.len() {
        if !is_transpose(&graph.nodes[t]) {
            continue;
        }
        let (x, y) = (graph.nodes[t].input[0].clone(), graph.nodes[t].output[0].clone());
        let readers = graph.consumers(&y);
        let [c] = readers.as_slice() else { continue };
        let c = *c;
        if graph.output == y {
            continue;
        }
        let p = perm_of(graph, t)?;
        let reader = &graph.nodes[c];
        if is_transpose(reader) {
            let q = perm_of(graph, c)?;
            let z = reader.output[0].clone();
            let composed: Vec<usize> = q.iter().map(|&k| p[k]).collect();
            if composed.iter().enumerate().all(|(k, &v)| k == v) {
                graph.rename_uses(&z, &x);
                graph.nodes.remove(c.max(t));
                graph.nodes.remove(c.min(t));
                graph.report.absorbed_transposes += 2;
            } else {
                let merged = set_perm(&graph.nodes[c], &composed);
                let mut merged = merged;
                merged.input[0] = x;
                graph.nodes[c] = Cow::Owned(merged);
                graph.nodes.remove(t);
                graph.report.absorbed_transposes += 1;
            }
            return Ok(true);
        }
        if !domain(reader).is_empty() {
            continue;
        }
        let unary = UNARY.contains(&op(reader)) && reader.input.len() == 1;
        let binary = BINARY.contains(&op(reader)) && reader.input.len() == 2;
        if !(unary || binary) || reader.output.len() != 1 {
            continue;
        }
        let mut moved = graph.nodes[c].clone().into_owned();
        if binary {
            let other = if moved.input[0] == y { 1 } else { 0 };
            if moved.input[other] == y {
                continue;
            }
            let Some(Ok(constant)) = graph.constants.get(&moved.input[other]) else {
                continue;
            };
            let Some(permuted) = permute_constant(&constant, &p) else {
                continue;
            };
            let name = graph.constants.fresh_name(&moved.input[other]);
            graph.constants.insert(name.clone(), permuted);
            moved.input[other] = name;
        }
        // x → T → y → C → z   becomes   x → C → y → T → z
        let z = moved.output[0].clone();
        for input in &mut moved.input {
            if *input == y {
                *input = x.clone();
            }
        }
        moved.output[0] = y.clone();
        let mut transpose = graph.nodes[t].clone().into_owned();
        transpose.input[0] = y.clone();
        transpose.output[0] = z;
        if let Some(shape) = graph.shapes.get(&x).cloned() {
            graph.shapes.insert(y, shape);
        }
        graph.nodes[t] = Cow::Owned(moved);
        graph.nodes[c] = Cow::Owned(transpose);
        return Ok(true);
    }
    Ok(false)
}

/// A copy of the transpose `node` with permutation `perm`.
fn set_perm(node: &NodeProto, perm: &[usize]) -> NodeProto {
    let mut node = node.clone();
    node.attribute.retain(|a| a.name.as_deref() != Some("perm"));
    node.attribute.push(AttributeProto {
        name: Some("perm".into()),
        r#type: Some(7),
        ints: perm.iter().map(|&p| p as i64).collect(),
        ..Default::default()
    });
    node
}

/// The constant operand `c` of an element-wise op after a transpose `p`, rewritten for the input before it:
/// right-aligned to the rank of `p`, then permuted by the inverse of `p`.
fn permute_constant(c: &Tensor, p: &[usize]) -> Option<Tensor> {
    let values = c.floats().ok()?;
    if c.dims.len() > p.len() {
        return None;
    }
    let mut dims = vec![1; p.len() - c.dims.len()];
    dims.extend_from_slice(&c.dims);
    let mut inverse = vec![0; p.len()];
    for (k, &v) in p.iter().enumerate() {
        inverse[v] = k;
    }
    let (dims, values) = array::transpose(&dims, values, &inverse);
    Some(Tensor {
        dims,
        values: Values::F32(values),
    })
}

/// A transpose that only moves axes of size 1 is a reshape; at the graph input `[N,H,W,C]→[N,C,H,W]` it marks the
/// model as channel-last.
fn as_reshape(graph: &mut Graph<'_>, k: usize) -> Result<bool, LoadError> {
    let node = &graph.nodes[k];
    let Some(shape) = graph.shapes.get(&node.input[0]).cloned() else {
        return Ok(false);
    };
    let p = perm_of(graph, k)?;
    let moved: Vec<usize> = p.iter().copied().filter(|&a| shape[a] != Sym::Int(1)).collect();
    if p.first() != Some(&0) || !moved.windows(2).all(|w| w[0] < w[1]) {
        return Ok(false);
    }
    let mut target = vec![-1i64];
    for &a in &p[1..] {
        let Some(d) = shape[a].int() else { return Ok(false) };
        target.push(d);
    }
    let node = &graph.nodes[k];
    if node.input[0] == graph.input.name && p == [0, 3, 1, 2] {
        graph.report.input_layout = InputLayout::Nhwc;
    }
    let name = graph.constants.fresh_name(&node.output[0]);
    graph.constants.insert(
        name.clone(),
        Tensor {
            dims: vec![target.len()],
            values: Values::I64(target),
        },
    );
    let reshape = NodeProto {
        input: vec![node.input[0].clone(), name],
        output: node.output.clone(),
        name: node.name.clone(),
        op_type: Some("Reshape".into()),
        ..Default::default()
    };
    graph.nodes[k] = Cow::Owned(reshape);
    Ok(true)
}

/// `Transpose → Flatten/Reshape [N,-1] → MatMul/Gemm` with constant weights: the transpose becomes a
/// permutation of the weights' input rows, and the flatten reads the untransposed tensor.
fn into_weights(graph: &mut Graph<'_>, k: usize) -> Result<bool, LoadError> {
    let (x, y) = (graph.nodes[k].input[0].clone(), graph.nodes[k].output[0].clone());
    let Some(shape) = graph.shapes.get(&x).cloned() else {
        return Ok(false);
    };
    let [f] = graph.consumers(&y)[..] else { return Ok(false) };
    let flat = graph.nodes[f].output[0].clone();
    let flattens = matches!(op(&graph.nodes[f]), "Flatten" | "Reshape")
        && graph
            .shapes
            .get(&flat)
            .is_some_and(|s| s.len() == 2 && s[0] == Sym::Batch(1));
    let [m] = graph.consumers(&flat)[..] else {
        return Ok(false);
    };
    let dense = &graph.nodes[m];
    let gemm = op(dense) == "Gemm";
    if !flattens || !(gemm || op(dense) == "MatMul") || dense.input.first() != Some(&flat) || graph.output == y {
        return Ok(false);
    }
    let Some(w_name) = dense.input.get(1).cloned() else {
        return Ok(false);
    };
    let Some(Ok(w)) = graph.constants.get(&w_name) else {
        return Ok(false);
    };
    let Ok(values) = w.floats() else { return Ok(false) };
    let Some(per_sample) = shape[1..]
        .iter()
        .map(|d| d.int().and_then(|v| usize::try_from(v).ok()))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(false);
    };
    let p = perm_of(graph, k)?;
    if p[0] != 0 {
        return Ok(false);
    }
    let inner: Vec<usize> = p[1..].iter().map(|&a| a - 1).collect();
    let len: usize = per_sample.iter().product();
    let iota: Vec<usize> = (0..len).collect();
    // After the transpose, flat position j holds the element at flat position src[j] before it.
    let (_, src) = array::transpose(&per_sample, &iota, &inner);
    let trans_b = gemm && Attrs::new(dense).int_or("transB", 0).unwrap_or(0) != 0;
    let [rows, cols] = w.dims[..] else { return Ok(false) };
    let mut permuted = values.to_vec();
    if trans_b && cols == len {
        for r in 0..rows {
            for (j, &s) in src.iter().enumerate() {
                permuted[r * cols + s] = values[r * cols + j];
            }
        }
    } else if !trans_b && rows == len {
        for (j, &s) in src.iter().enumerate() {
            permuted[s * cols..][..cols].copy_from_slice(&values[j * cols..][..cols]);
        }
    } else {
        return Ok(false);
    }
    let name = graph.constants.fresh_name(&w_name);
    graph.constants.insert(
        name.clone(),
        Tensor {
            dims: w.dims.clone(),
            values: Values::F32(permuted),
        },
    );
    graph.nodes[m].to_mut().input[1] = name;
    let mut flatten = graph.nodes[f].clone().into_owned();
    flatten.input[0] = x.clone();
    if op(&flatten) == "Reshape" {
        flatten.op_type = Some("Flatten".into());
        flatten.input.truncate(1);
        flatten.attribute.clear();
    }
    graph.nodes[f] = Cow::Owned(flatten);
    graph.nodes.remove(k);
    Ok(true)
}
