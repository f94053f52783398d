//! Each pass on small hand-built graphs, and the whole import on graphs shaped like the exporters' patterns.

use std::path::Path;

use crate::error::LoadError;
use crate::model::onnx::convert::{ImportOptions, convert, prepare};
use crate::model::onnx::graph::{Graph, op};
use crate::model::onnx::proto::tensor_shape_proto::{Dimension, dimension};
use crate::model::onnx::proto::type_proto::{self, Tensor as TensorType};
use crate::model::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};
use crate::model::onnx::report::InputLayout;
use crate::model::{Layer, LayerKind};

fn node(op: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(outputs[0].into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(7),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(2),
        i: Some(v),
        ..Default::default()
    }
}

fn floats(name: &str, dims: &[i64], values: Vec<f32>) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(1),
        float_data: values,
        ..Default::default()
    }
}

fn int64s(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![values.len() as i64],
        data_type: Some(7),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn value_info(name: &str, elem: i32, dims: Option<&[Option<i64>]>) -> ValueInfoProto {
    let shape = dims.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                value: Some(match d {
                    Some(v) => dimension::Value::DimValue(*v),
                    None => dimension::Value::DimParam("N".into()),
                }),
                ..Default::default()
            })
            .collect(),
    });
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(TensorType {
                elem_type: Some(elem),
                shape,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A graph reading `x` of shape `[N, input...]` and writing the float output `y`.
fn graph(nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, input: &[i64]) -> GraphProto {
    let mut dims = vec![None];
    dims.extend(input.iter().map(|&d| Some(d)));
    GraphProto {
        node: nodes,
        initializer,
        input: vec![value_info("x", 1, Some(&dims))],
        output: vec![value_info("y", 1, None)],
        ..Default::default()
    }
}

fn model(graph: GraphProto) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(17),
        }],
        graph: Some(graph),
        ..Default::default()
    }
}

fn import(g: GraphProto) -> Result<crate::model::onnx::OnnxModel, LoadError> {
    convert(&model(g), Path::new("test.onnx"), &ImportOptions::default())
}

fn kinds(m: &crate::model::Model) -> Vec<LayerKind> {
    m.layers().iter().map(Layer::kind).collect()
}

/// `x.view(x.size(0), -1)` under the classic exporter: Shape → Gather → Unsqueeze → Concat → Reshape.
fn view_flatten(source: &str, out: &str) -> Vec<NodeProto> {
    vec![
        node("Shape", &[source], &["s"], vec![]),
        node(
            "Constant",
            &[],
            &["zero"],
            vec![AttributeProto {
                name: Some("value".into()),
                r#type: Some(4),
                t: Some(TensorProto {
                    data_type: Some(7),
                    int64_data: vec![0],
                    ..Default::default()
                }),
                ..Default::default()
            }],
        ),
        node("Gather", &["s", "zero"], &["n"], vec![int("axis", 0)]),
        node("Unsqueeze", &["n", "axes0"], &["n1"], vec![]),
        node("Concat", &["n1", "minus1"], &["target"], vec![int("axis", 0)]),
        node("Reshape", &[source, "target"], &[out], vec![]),
    ]
}

fn dense_init(name: &str, inputs: usize, outputs: usize) -> TensorProto {
    let values = (0..inputs * outputs).map(|k| ((k % 7) as f32 - 3.0) * 0.1).collect();
    floats(name, &[outputs as i64, inputs as i64], values)
}

#[test]
fn folding_the_view_pattern_gives_a_flatten() {
    let mut nodes = vec![node("Relu", &["x"], &["r"], vec![])];
    nodes.extend(view_flatten("r", "f"));
    nodes.push(node("Gemm", &["f", "w"], &["y"], vec![int("transB", 1)]));
    let inits = vec![int64s("axes0", &[0]), int64s("minus1", &[-1]), dense_init("w", 18, 3)];
    let m = import(graph(nodes, inits, &[2, 3, 3])).unwrap();
    assert_eq!(kinds(&m.model), [LayerKind::Relu, LayerKind::Flatten, LayerKind::Dense]);
    assert_eq!(m.model.input_shape(), [2, 3, 3]);
    assert_eq!(m.report.reshapes_to_flatten, 1);
    assert_eq!(m.report.folded.values().sum::<usize>(), 4, "{:?}", m.report.folded);
    assert_eq!(m.report.folded.get("Gather"), Some(&1));
}

#[test]
fn a_concat_of_shapes_with_minus_one_keeps_the_other_dimensions() {
    // Concat(Slice(Shape(x), 0, 1), [3], [-1]) → [N, 3, 6]: a Reshape that is not a flatten.
    let nodes = vec![
        node("Shape", &["x"], &["s"], vec![]),
        node("Slice", &["s", "zero", "one"], &["n1"], vec![]),
        node("Concat", &["n1", "three", "minus1"], &["target"], vec![int("axis", 0)]),
        node("Reshape", &["x", "target"], &["r"], vec![]),
        node("Flatten", &["r"], &["f"], vec![]),
        node("Gemm", &["f", "w"], &["y"], vec![int("transB", 1)]),
    ];
    let inits = vec![
        int64s("zero", &[0]),
        int64s("one", &[1]),
        int64s("three", &[3]),
        int64s("minus1", &[-1]),
        dense_init("w", 18, 2),
    ];
    let m = import(graph(nodes, inits, &[2, 3, 3])).unwrap();
    assert_eq!(m.model.layers()[0], Layer::Reshape(vec![3, 6]));
    assert_eq!(m.model.shape_at(1), [3, 6]);
    assert_eq!(kinds(&m.model)[1..], [LayerKind::Flatten, LayerKind::Dense]);
}

#[test]
fn the_shape_after_a_folded_reshape_is_known_to_a_later_shape_node() {
    // Keras' `[N,28,28]` input: Reshape(x, Concat(Shape(x)[0], 2, 2, 1)) to NHWC, and later an NHWC flatten through
    // Shape/Gather/Unsqueeze/Concat reads the shape of a tensor computed from that reshape.
    let scalar_zero = node(
        "Constant",
        &[],
        &["zero"],
        vec![AttributeProto {
            name: Some("value".into()),
            r#type: Some(4),
            t: Some(TensorProto {
                data_type: Some(7),
                int64_data: vec![0],
                ..Default::default()
            }),
            ..Default::default()
        }],
    );
    let nodes = vec![
        scalar_zero,
        node("Shape", &["x"], &["s0"], vec![]),
        node("Gather", &["s0", "zero"], &["n0"], vec![int("axis", 0)]),
        node("Unsqueeze", &["n0", "axes0"], &["n0u"], vec![]),
        node("Concat", &["n0u", "two", "two", "one"], &["nhwc"], vec![int("axis", 0)]),
        node("Reshape", &["x", "nhwc"], &["r"], vec![]),
        node("Relu", &["r"], &["q"], vec![]),
        node("Shape", &["q"], &["s1"], vec![]),
        node("Gather", &["s1", "zero"], &["n1"], vec![int("axis", 0)]),
        node("Unsqueeze", &["n1", "axes0"], &["n1u"], vec![]),
        node("Concat", &["n1u", "minus1"], &["flat"], vec![int("axis", 0)]),
        node("Reshape", &["q", "flat"], &["f"], vec![]),
        node("Gemm", &["f", "w"], &["y"], vec![int("transB", 1)]),
    ];
    let inits = vec![
        int64s("axes0", &[0]),
        int64s("one", &[1]),
        int64s("two", &[2]),
        int64s("minus1", &[-1]),
        dense_init("w", 4, 3),
    ];
    let m = import(graph(nodes, inits, &[2, 2])).unwrap();
    // The leading reshape is part of reading the `[N,H,W]` input; the file's shape is reported.
    assert_eq!(m.report.input_shape, [2, 2]);
    assert_eq!(m.model.input_len(), 4);
    assert_eq!(m.report.folded.get("Shape"), Some(&2), "{:?}", m.report.folded);
    assert_eq!(m.model.shape_at(m.model.layers().len()), [3]);
    let x = ndarray::ArrayD::<f32>::from_shape_vec(ndarray::IxDyn(&[1, 2, 2]), vec![1.0, -2.0, 3.0, 4.0]).unwrap();
    // Dense on relu(x) flattened row-major: w[o][k] = ((o·4 + k) % 7 − 3)·0.1.
    let relu = [1.0f32, 0.0, 3.0, 4.0];
    let expected: Vec<f32> = (0..3)
        .map(|o| (0..4).map(|k| (((o * 4 + k) % 7) as f32 - 3.0) * 0.1 * relu[k]).sum())
        .collect();
    let logits = m.model.logits(&x).unwrap();
    for (a, b) in logits.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-6, "{logits} vs {expected:?}");
    }
}

#[test]
fn a_reshape_whose_target_is_computed_from_data_is_refused_clearly() {
    let nodes = vec![
        node("Cast", &["x"], &["t"], vec![int("to", 7)]),
        node("Reshape", &["x", "t"], &["y"], vec![]),
    ];
    let err = import(graph(nodes, vec![], &[2])).unwrap_err().to_string();
    assert!(err.contains("\"y\" (Reshape)"), "{err}");
    assert!(err.contains("the shape depends on data"), "{err}");
    assert!(err.contains("Cast"), "{err}");
}

#[test]
fn an_unsupported_op_on_a_shape_computation_says_so() {
    let nodes = vec![
        node("NonZero", &["x"], &["t"], vec![]),
        node("Reshape", &["x", "t"], &["y"], vec![]),
    ];
    match import(graph(nodes, vec![], &[2])).unwrap_err() {
        LoadError::UnsupportedOp {
            op_type, node, context, ..
        } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("NonZero", "t"));
            assert!(
                context.contains("shape computation") && context.contains("depends on data"),
                "{context}"
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_unsupported_op_of_another_domain_is_named_with_its_domain() {
    let nodes = vec![
        node("Gemm", &["x", "w"], &["z"], vec![int("transB", 1)]),
        NodeProto {
            domain: Some("ai.onnx.ml".into()),
            name: Some("norm".into()),
            ..node("Normalizer", &["z"], &["y"], vec![])
        },
    ];
    let err = import(graph(nodes, vec![dense_init("w", 4, 3)], &[4])).unwrap_err();
    let text = err.to_string();
    match err {
        LoadError::UnsupportedOp {
            op_type, node, context, ..
        } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("ai.onnx.ml.Normalizer", "norm"));
            assert!(!context.contains("shape computation"), "{context}");
        }
        other => panic!("{other}"),
    }
    assert!(
        text.contains("ai.onnx.ml.Normalizer") && text.contains("norm"),
        "{text}"
    );
}

#[test]
fn identity_removal_counts_casts_dropout_and_identity() {
    let nodes = vec![
        node("Cast", &["x"], &["c"], vec![int("to", 1)]),
        node("Dropout", &["c"], &["d"], vec![]),
        node("Identity", &["d"], &["i"], vec![]),
        node("Gemm", &["i", "w"], &["g"], vec![int("transB", 1)]),
        node("Cast", &["g"], &["y"], vec![int("to", 1)]),
    ];
    let m = import(graph(nodes, vec![dense_init("w", 4, 2)], &[4])).unwrap();
    assert_eq!(kinds(&m.model), [LayerKind::Dense]);
    assert_eq!(m.report.removed.get("Cast"), Some(&2));
    assert_eq!(m.report.removed.get("Dropout"), Some(&1));
    assert_eq!(m.report.removed.get("Identity"), Some(&1));
}

/// The passes up to (not including) building layers.
fn passes(g: &GraphProto) -> Vec<(String, Vec<String>)> {
    let mut graph: Graph<'_> = prepare(g, Path::new("t.onnx"), 17).unwrap();
    super::run(&mut graph, &g.output, None).unwrap();
    graph
        .nodes
        .iter()
        .map(|n| (op(n).to_string(), n.input.clone()))
        .collect()
}

#[test]
fn transposes_around_conv_cancel_and_the_nhwc_bias_becomes_per_channel() {
    // NHWC x → T(0,3,1,2) → Conv → T(0,2,3,1) → Add [1,1,1,2] → Relu → T(0,3,1,2) → Flatten → Gemm
    let nodes = vec![
        node("Transpose", &["x"], &["xt"], vec![ints("perm", &[0, 3, 1, 2])]),
        node("Conv", &["xt", "k"], &["c"], vec![]),
        node("Transpose", &["c"], &["ct"], vec![ints("perm", &[0, 2, 3, 1])]),
        node("Add", &["ct", "b"], &["a"], vec![]),
        node("Relu", &["a"], &["r"], vec![]),
        node("Transpose", &["r"], &["rt"], vec![ints("perm", &[0, 3, 1, 2])]),
        node("Flatten", &["rt"], &["f"], vec![]),
        node("Gemm", &["f", "w"], &["y"], vec![int("transB", 1)]),
    ];
    let inits = vec![
        floats("k", &[2, 1, 2, 2], vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5, -0.5, 0.5]),
        floats("b", &[1, 1, 1, 2], vec![0.25, -4.0]),
        dense_init("w", 2 * 2 * 2, 3),
    ];
    let g = graph(nodes, inits, &[3, 3, 1]);
    let ops: Vec<String> = passes(&g).into_iter().map(|(op, _)| op).collect();
    assert_eq!(ops, ["Reshape", "Conv", "Add", "Relu", "Flatten", "Gemm"]);
    let m = import(g).unwrap();
    assert_eq!(m.report.input_layout, InputLayout::Nhwc);
    assert_eq!(m.report.absorbed_transposes, 3);
    assert_eq!(m.model.input_shape(), [1, 3, 3], "the engine runs NCHW");
    let Layer::Conv2d(conv) = &m.model.layers()[0] else {
        panic!("{:?}", m.model.layers())
    };
    assert_eq!(conv.bias.as_ref().unwrap().to_vec(), [0.25, -4.0]);
    assert_eq!(
        kinds(&m.model),
        [LayerKind::Conv2d, LayerKind::Relu, LayerKind::Flatten, LayerKind::Dense]
    );
}

#[test]
fn a_transpose_before_a_flatten_moves_into_the_dense_weights() {
    // [N,2,2,2] → T(0,2,3,1) → Flatten → MatMul: the MatMul rows are permuted instead.
    let nodes = vec![
        node("Transpose", &["x"], &["t"], vec![ints("perm", &[0, 2, 3, 1])]),
        node("Flatten", &["t"], &["f"], vec![]),
        node("MatMul", &["f", "w"], &["y"], vec![]),
    ];
    let w: Vec<f32> = (0..8).map(|k| k as f32).collect();
    let g = graph(nodes, vec![floats("w", &[8, 1], w)], &[2, 2, 2]);
    let m = import(g).unwrap();
    assert_eq!(kinds(&m.model), [LayerKind::Flatten, LayerKind::Dense]);
    let Layer::Dense(d) = &m.model.layers()[1] else {
        panic!()
    };
    // NHWC position j = (h·2 + w)·2 + c holds weight j; NCHW position of the same element is c·4 + h·2 + w.
    assert_eq!(d.weight.row(0).to_vec(), [0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]);
}

#[test]
fn a_transpose_that_does_not_cancel_stays() {
    // Swapping H and W before a Conv cannot be absorbed; pushing it past Relu is all the pass may do.
    let nodes = vec![
        node("Transpose", &["x"], &["t"], vec![ints("perm", &[0, 1, 3, 2])]),
        node("Relu", &["t"], &["r"], vec![]),
        node("Conv", &["r", "k"], &["y"], vec![]),
    ];
    let g = graph(nodes, vec![floats("k", &[1, 1, 1, 1], vec![2.0])], &[1, 2, 3]);
    let after = passes(&g);
    let ops: Vec<&str> = after.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops, ["Relu", "Transpose", "Conv"]);
    assert_eq!(after[0].1, ["x"]);
}

#[test]
fn a_bias_add_with_the_wrong_broadcast_is_refused() {
    // A per-column constant after a Conv is not a bias, in either layout.
    for nhwc in [false, true] {
        let mut nodes = vec![node("Conv", &["x", "k"], &["c"], vec![])];
        let (add_in, b_dims) = if nhwc {
            nodes.push(node("Transpose", &["c"], &["ct"], vec![ints("perm", &[0, 2, 3, 1])]));
            ("ct", [1, 1, 3, 1])
        } else {
            ("c", [1, 1, 1, 3])
        };
        nodes.push(node("Add", &[add_in, "b"], &["y"], vec![]));
        let inits = vec![
            floats("k", &[1, 1, 1, 1], vec![2.0]),
            floats("b", &b_dims, vec![1.0, 2.0, 3.0]),
        ];
        let err = import(graph(nodes, inits, &[1, 3, 3])).unwrap_err().to_string();
        assert!(err.contains("not a per-channel bias"), "{err}");
    }
}

#[test]
fn several_outputs_explain_the_float_scores_and_ignore_the_label_branch() {
    let nodes = vec![
        node("Gemm", &["x", "w"], &["z"], vec![int("transB", 1)]),
        node("Softmax", &["z"], &["p"], vec![int("axis", 1)]),
        node("Identity", &["p"], &["probabilities"], vec![]),
        node("ArgMax", &["probabilities"], &["am"], vec![int("axis", 1)]),
        NodeProto {
            domain: Some("ai.onnx.ml".into()),
            ..node("ArrayFeatureExtractor", &["classes", "am"], &["lab"], vec![])
        },
        node("Cast", &["lab"], &["label"], vec![int("to", 7)]),
    ];
    let mut g = graph(nodes, vec![dense_init("w", 4, 3), int64s("classes", &[0, 1, 2])], &[4]);
    g.output = vec![value_info("label", 7, None), value_info("probabilities", 1, None)];
    let m = import(g.clone()).unwrap();
    assert_eq!(kinds(&m.model), [LayerKind::Dense]);
    assert_eq!(m.report.output, "probabilities");
    assert_eq!(m.report.final_activation.as_deref(), Some("Softmax"));
    assert_eq!(m.report.ignored_outputs, ["label"]);
    assert_eq!(m.report.ignored.get("ai.onnx.ml.ArrayFeatureExtractor"), Some(&1));
    // --output picks another tensor: the scores before the softmax.
    let options = ImportOptions {
        output: Some("z".into()),
    };
    let z = convert(&model(g.clone()), Path::new("t.onnx"), &options).unwrap();
    assert_eq!(z.report.output, "z");
    assert_eq!(z.report.final_activation, None);
    let bad = ImportOptions {
        output: Some("nope".into()),
    };
    let err = convert(&model(g), Path::new("t.onnx"), &bad).unwrap_err().to_string();
    assert!(err.contains("no such tensor") && err.contains("probabilities"), "{err}");
}

#[test]
fn a_zipmap_output_explains_the_tensor_it_maps() {
    let nodes = vec![
        node("Gemm", &["x", "w"], &["z"], vec![int("transB", 1)]),
        node("Softmax", &["z"], &["p"], vec![int("axis", 1)]),
        node("ArgMax", &["p"], &["output_label"], vec![int("axis", 1)]),
        NodeProto {
            domain: Some("ai.onnx.ml".into()),
            ..node("ZipMap", &["p"], &["output_probability"], vec![])
        },
    ];
    let mut g = graph(nodes, vec![dense_init("w", 4, 3)], &[4]);
    let mut seq = value_info("output_probability", 1, None);
    seq.r#type = Some(TypeProto {
        value: Some(type_proto::Value::SequenceType(Box::new(type_proto::Sequence {
            elem_type: None,
        }))),
        ..Default::default()
    });
    g.output = vec![value_info("output_label", 7, None), seq];
    let m = import(g).unwrap();
    assert_eq!(m.report.output, "p");
    assert_eq!(m.report.ignored.get("ai.onnx.ml.ZipMap"), Some(&1));
    assert_eq!(m.report.ignored.get("ArgMax"), Some(&1));
}

#[test]
fn a_fixed_batch_of_one_is_reported_and_any_batch_runs() {
    let nodes = vec![
        node("Reshape", &["x", "shape"], &["f"], vec![]),
        node("Gemm", &["f", "w"], &["y"], vec![int("transB", 1)]),
    ];
    let mut g = graph(nodes, vec![int64s("shape", &[1, 4]), dense_init("w", 4, 2)], &[2, 2]);
    g.input = vec![value_info("x", 1, Some(&[Some(1), Some(2), Some(2)]))];
    let m = import(g).unwrap();
    assert_eq!(m.report.fixed_batch, Some(1));
    assert!(m.report.lines().iter().any(|l| l.contains("any batch size runs")));
    let x = ndarray::ArrayD::<f32>::ones(ndarray::IxDyn(&[5, 2, 2]));
    let acts = m.model.forward(&x).unwrap();
    assert_eq!(acts.last().unwrap().shape(), [5, 2]);
    assert_eq!(
        kinds(&m.model),
        [LayerKind::Dense],
        "the leading reshape of a [N,H,W] input is part of reading it"
    );
}
