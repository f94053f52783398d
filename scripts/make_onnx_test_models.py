#!/usr/bin/env python3
"""Writes the small ONNX test models of tests/fixtures/onnx/ and their expected outputs.

Usage:
    pip install onnx numpy
    python3 scripts/make_onnx_test_models.py            # (re)generate tests/fixtures/onnx/
    python3 scripts/make_onnx_test_models.py --check-written
        # validate the files our writer produced (tests/fixtures/onnx/written/*.onnx, kept in sync by
        # `cargo test --test onnx_reader`) with onnx.checker (full check + shape inference) and run them with
        # onnx.reference.ReferenceEvaluator against the expected logits of the models they were made from.

Good models mimic what PyTorch exports (classic and dynamo exporters) and cover every op the reader supports.
For each good model `NAME.onnx` the script stores `NAME.input.npy` (a small batch) and `NAME.logits.npy`: the output
of the *unmerged* graph (BatchNorm kept as a separate op, Softmax removed), computed by onnx's reference evaluator and
cross-checked against a plain numpy forward pass. Bad models each trigger one specific load error.
Everything is deterministic (fixed seed) and small (a few KB per file).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")
OPSET = 17
rng = np.random.default_rng(20240517)


def weights(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def float_data_init(name, array):
    """An initializer stored in `float_data` instead of `raw_data`."""
    array = np.asarray(array, dtype=np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.flatten().tolist(), raw=False)


def make_model(name, nodes, inits, in_shape, out_name="logits", out_shape=None, extra_inputs=(), metadata=None):
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *in_shape])
    out = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)
    graph = helper.make_graph(nodes, name, [inp, *extra_inputs], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_onnx_test_models")
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model


def evaluate(model, x, output=None):
    sess = ReferenceEvaluator(model)
    names = [output] if output else None
    return sess.run(names, {"input": x})[0].astype(np.float32)


def save(model, name, x=None, logits_tensor=None, numpy_forward=None, external=False):
    path = os.path.join(OUT, name + ".onnx")
    if x is not None:
        logits = evaluate(model, x, logits_tensor)
        if numpy_forward is not None:
            ref = numpy_forward(x)
            err = np.abs(ref - logits).max()
            assert err < 1e-5, f"{name}: numpy and onnx.reference differ by {err}"
        np.save(os.path.join(OUT, name + ".input.npy"), x)
        np.save(os.path.join(OUT, name + ".logits.npy"), logits)
    if external:
        data_path = os.path.join(OUT, name + ".onnx.data")
        if os.path.exists(data_path):
            os.remove(data_path)  # onnx appends to an existing data file
        onnx.save_model(
            model,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=name + ".onnx.data",
            size_threshold=0,
        )
        os.chmod(data_path, 0o644)
    else:
        onnx.checker.check_model(model, full_check=True)
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
    return path


# ---------------------------------------------------------------- numpy reference ops (NCHW, float64)


def np_conv(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0)):
    t, l, bo, r = pads
    x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + (0 if b is None else b[None, :, None, None])


def np_pool(x, k, s, pads=(0, 0, 0, 0), kind="max"):
    t, l, bo, r = pads
    fill = -np.inf if kind == "max" else 0.0
    x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)), constant_values=fill)
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
            out[:, :, i, j] = win.max(axis=(2, 3)) if kind == "max" else win.mean(axis=(2, 3))
    return out


def np_bn(x, scale, shift, mean, var, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + shift.reshape(shape)


relu = lambda v: np.maximum(v, 0)  # noqa: E731


# ---------------------------------------------------------------- good models


def dynamo_mlp():
    """Dynamo style: Reshape with an int64 shape initializer, MatMul + Add, Gemm, weights in an external file."""
    w1, b1, w2, b2 = weights(16, 8), weights(8), weights(3, 8), weights(3)
    nodes = [
        helper.make_node("Reshape", ["input", "val_shape"], ["view"], name="node_view"),
        helper.make_node("MatMul", ["view", "fc1.weight_t"], ["matmul"], name="node_matmul"),
        helper.make_node("Add", ["matmul", "fc1.bias"], ["linear"], name="node_add"),
        helper.make_node("Relu", ["linear"], ["relu"], name="node_relu"),
        helper.make_node("Gemm", ["relu", "fc2.weight", "fc2.bias"], ["logits"], name="node_linear_1", transB=1),
    ]
    inits = [
        init("val_shape", np.array([-1, 16], dtype=np.int64)),
        init("fc1.weight_t", w1),
        init("fc1.bias", b1),
        init("fc2.weight", w2),
        init("fc2.bias", b2),
    ]
    model = make_model("dynamo_mlp", nodes, inits, [1, 4, 4], out_shape=["batch", 3], metadata={"source": "test"})
    x = rng.random((5, 1, 4, 4), dtype=np.float32)

    def fwd(x):
        h = relu(x.reshape(len(x), 16) @ w1 + b1)
        return h @ w2.T + b2

    save(model, "dynamo_mlp", x, numpy_forward=fwd, external=True)


def dynamo_cnn():
    """Dynamo style CNN: explicit auto_pad/storage_order attributes, Reshape shape from a Constant node, external data."""
    wc, bc = weights(2, 1, 3, 3), weights(2)
    wf, bf = weights(18, 4), weights(4)
    nodes = [
        helper.make_node(
            "Conv", ["input", "conv.weight", "conv.bias"], ["conv"], name="node_conv2d",
            auto_pad="NOTSET", dilations=[1, 1], group=1, pads=[1, 1, 1, 1], strides=[1, 1],
        ),
        helper.make_node("Relu", ["conv"], ["relu"], name="node_relu"),
        helper.make_node(
            "MaxPool", ["relu"], ["pool"], name="node_max_pool2d", auto_pad="NOTSET", ceil_mode=0,
            dilations=[1, 1], kernel_shape=[2, 2], pads=[0, 0, 0, 0], storage_order=0, strides=[2, 2],
        ),
        helper.make_node("Constant", [], ["shape_const"], name="node_Constant",
                         value=init("shape_value", np.array([-1, 18], dtype=np.int64))),
        helper.make_node("Reshape", ["pool", "shape_const"], ["view"], name="node_view"),
        helper.make_node("Identity", ["view"], ["view_id"], name="node_identity"),
        helper.make_node("MatMul", ["view_id", "fc.weight_t"], ["matmul"], name="node_matmul"),
        helper.make_node("Add", ["fc.bias", "matmul"], ["logits"], name="node_add"),
    ]
    inits = [init("conv.weight", wc), init("conv.bias", bc), init("fc.weight_t", wf), init("fc.bias", bf)]
    model = make_model("dynamo_cnn", nodes, inits, [1, 6, 6], out_shape=["batch", 4])
    x = rng.random((3, 1, 6, 6), dtype=np.float32)

    def fwd(x):
        h = np_pool(relu(np_conv(x, wc, bc, pads=(1, 1, 1, 1))), (2, 2), (2, 2))
        return h.reshape(len(x), 18) @ wf + bf

    save(model, "dynamo_cnn", x, numpy_forward=fwd, external=True)


def batchnorm():
    """BatchNormalization after a Conv and after a Gemm (to be merged); Dropout and Identity to be removed."""
    wc, bc = weights(3, 1, 3, 3), weights(3)
    bn1 = [weights(3) + 1, weights(3), weights(3), np.abs(weights(3)) + 0.5]
    wf = weights(5, 12)
    bn2 = [weights(5) + 1, weights(5), weights(5), np.abs(weights(5)) + 0.5]
    wo, bo = weights(3, 5), weights(3)
    nodes = [
        helper.make_node("Conv", ["input", "c.w", "c.b"], ["conv"], name="conv", kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["conv", "bn1.s", "bn1.b", "bn1.m", "bn1.v"], ["bn1"], name="bn1",
                         epsilon=1e-3),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("Flatten", ["relu1"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "f.w"], ["fc"], name="fc_nobias", transB=1),
        helper.make_node("Dropout", ["fc"], ["drop"], name="dropout"),
        helper.make_node("BatchNormalization", ["drop", "bn2.s", "bn2.b", "bn2.m", "bn2.v"], ["bn2"], name="bn2"),
        helper.make_node("Relu", ["bn2"], ["relu2"], name="relu2"),
        helper.make_node("Gemm", ["relu2", "o.w", "o.b"], ["logits"], name="out", transB=1),
    ]
    inits = [init("c.w", wc), init("c.b", bc), init("f.w", wf), init("o.w", wo), init("o.b", bo)]
    inits += [init(f"bn1.{k}", v) for k, v in zip("sbmv", bn1)]
    inits += [init(f"bn2.{k}", v) for k, v in zip("sbmv", bn2)]
    model = make_model("batchnorm", nodes, inits, [1, 5, 5], out_shape=["batch", 3])
    x = rng.random((4, 1, 5, 5), dtype=np.float32)

    def fwd(x):
        h = relu(np_bn(np_conv(x, wc, bc, stride=(2, 2)), *bn1, 1e-3))
        h = relu(np_bn(h.reshape(len(x), 12) @ wf.T, *bn2, 1e-5))
        return h @ wo.T + bo

    save(model, "batchnorm", x, numpy_forward=fwd)


def avgpool_tanh_softmax():
    """Strided, padded Conv, Tanh, AveragePool with pads (count_include_pad=1), Gemm without transB in float_data,
    a final Softmax. Expected logits are taken before the Softmax."""
    wc, bc = weights(2, 2, 2, 2), weights(2)
    wf = weights(8, 3)  # [in, out]: transB = 0
    nodes = [
        helper.make_node("Conv", ["input", "c.w", "c.b"], ["conv"], name="conv", pads=[1, 0, 0, 1], strides=[1, 2]),
        helper.make_node("Tanh", ["conv"], ["tanh"], name="tanh"),
        helper.make_node("AveragePool", ["tanh"], ["pool"], name="avgpool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "f.w"], ["fc"], name="fc", alpha=0.5),
        helper.make_node("Identity", ["fc"], ["fc_id"], name="identity"),
        helper.make_node("Softmax", ["fc_id"], ["probabilities"], name="softmax", axis=-1),
    ]
    inits = [init("c.w", wc), init("c.b", bc), float_data_init("f.w", wf)]
    model = make_model("avgpool_tanh_softmax", nodes, inits, [2, 4, 6], out_name="probabilities",
                       out_shape=["batch", 3])
    x = rng.random((3, 2, 4, 6), dtype=np.float32)

    def fwd(x):
        h = np_pool(np.tanh(np_conv(x, wc, bc, stride=(1, 2), pads=(1, 0, 0, 1))), (3, 3), (2, 2), (1, 1, 1, 1), "avg")
        return 0.5 * (h.reshape(len(x), 8) @ wf)

    save(model, "avgpool_tanh_softmax", x, logits_tensor="fc_id", numpy_forward=fwd)


def same_padding():
    """auto_pad SAME_UPPER (asymmetric: 0 before, 1 after) and SAME_LOWER convs, MaxPool with a harmless ceil_mode."""
    w1, b1 = weights(2, 1, 3, 3), weights(2)
    w2 = weights(2, 2, 2, 2)
    wf, bf = weights(2, 8), weights(2)
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="same_upper", auto_pad="SAME_UPPER",
                         strides=[2, 2], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="same_lower", auto_pad="SAME_LOWER"),
        helper.make_node("MaxPool", ["c2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[1, 1], ceil_mode=1),
        helper.make_node("Flatten", ["p"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["logits"], name="fc", transB=1),
    ]
    inits = [init("w1", w1), init("b1", b1), init("w2", w2), init("wf", wf), init("bf", bf)]
    model = make_model("same_padding", nodes, inits, [1, 6, 6], out_shape=["batch", 2])
    x = rng.random((2, 1, 6, 6), dtype=np.float32)

    def fwd(x):
        h = relu(np_conv(x, w1, b1, stride=(2, 2), pads=(0, 0, 1, 1)))  # 6x6 -> 3x3
        h = np_conv(h, w2, None, pads=(1, 1, 0, 0))  # 3x3 -> 3x3
        h = np_pool(h, (2, 2), (1, 1))  # 3x3 -> 2x2
        return h.reshape(len(x), 8) @ wf.T + bf

    save(model, "same_padding", x, numpy_forward=fwd)


# ---------------------------------------------------------------- bad models


def save_bad(model, name):
    """Bad models skip the checker: some are invalid on purpose."""
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def tiny_chain(name, nodes, inits, in_shape=(4,), out_shape=("batch", 2)):
    return make_model(name, nodes, inits, list(in_shape), out_shape=list(out_shape))


def gemm_node(inp="input", out="logits", w="w", b="b", name="fc"):
    return helper.make_node("Gemm", [inp, w, b], [out], name=name, transB=1)


def bad_models():
    w, b = weights(2, 4), weights(2)
    std = [init("w", w), init("b", b)]

    save_bad(tiny_chain("bad_unsupported_op", [
        helper.make_node("LeakyRelu", ["input"], ["h"], name="leaky", alpha=0.1), gemm_node("h")], std), "bad_unsupported_op")

    # A chain that reads an earlier tensor: a residual connection.
    save_bad(tiny_chain("bad_branching", [
        helper.make_node("Relu", ["input"], ["h"], name="relu"),
        helper.make_node("Add", ["h", "input"], ["s"], name="residual"),
        gemm_node("s")], std), "bad_branching")

    save_bad(tiny_chain("bad_missing_initializer", [gemm_node(w="not_there")], std), "bad_missing_initializer")

    # 2x4 dims with only 5 values in raw_data.
    wrong = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 4], raw_data=np.ones(5, np.float32).tobytes())
    bad = tiny_chain("bad_tensor_size", [gemm_node()], [wrong, init("b", b)])
    with open(os.path.join(OUT, "bad_tensor_size.onnx"), "wb") as f:
        f.write(bad.SerializeToString())

    w_nan = w.copy()
    w_nan[1, 2] = np.nan
    save_bad(tiny_chain("nan_weights", [gemm_node()], [init("w", w_nan), init("b", b)]), "nan_weights")

    save_bad(tiny_chain("bad_softmax_middle", [
        helper.make_node("Softmax", ["input"], ["h"], name="softmax", axis=-1), gemm_node("h")], std),
        "bad_softmax_middle")

    save_bad(tiny_chain("bad_batchnorm_first", [
        helper.make_node("BatchNormalization", ["input", "s", "sh", "m", "v"], ["h"], name="bn"), gemm_node("h")],
        std + [init(k, np.ones(4, np.float32)) for k in ["s", "sh", "m", "v"]]), "bad_batchnorm_first")

    empty = make_model("bad_empty_graph", [], [], [4], out_shape=["batch", 4])
    with open(os.path.join(OUT, "bad_empty_graph.onnx"), "wb") as f:
        f.write(empty.SerializeToString())

    def conv_model(name, **attrs):
        wc = weights(2, 1 if attrs.get("group", 1) == 2 else 2, 3, 3)
        nodes = [helper.make_node("Conv", ["input", "wc"], ["logits"], name="conv", **attrs)]
        return make_model(name, nodes, [init("wc", wc)], [2, 6, 6], out_shape=None)

    save_bad(conv_model("bad_group2", group=2), "bad_group2")
    save_bad(conv_model("bad_dilation2", dilations=[2, 2]), "bad_dilation2")

    def pool_model(name, op, **attrs):
        nodes = [helper.make_node(op, ["input"], ["logits"], name="pool", **attrs)]
        return make_model(name, nodes, [], [1, 5, 5], out_shape=None)

    save_bad(pool_model("bad_avgpool_exclude_pad", "AveragePool", kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
         "bad_avgpool_exclude_pad")
    save_bad(pool_model("bad_ceil_mode", "MaxPool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1), "bad_ceil_mode")

    def external_model(name, location, offset=0):
        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 4])
        t.data_location = TensorProto.EXTERNAL
        for key, value in [("location", location), ("offset", str(offset)), ("length", "32")]:
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        m = tiny_chain(name, [gemm_node()], [t, init("b", b)])
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())

    external_model("bad_external_escape", "../escape.bin")
    external_model("bad_external_absolute", "/etc/hostname")
    # The data file holds 40 bytes; offset 16 + length 32 runs past its end.
    with open(os.path.join(OUT, "bad_external_short.onnx.data"), "wb") as f:
        f.write(np.zeros(10, np.float32).tobytes())
    external_model("bad_external_short", "bad_external_short.onnx.data", offset=16)

    good = open(os.path.join(OUT, "batchnorm.onnx"), "rb").read()
    with open(os.path.join(OUT, "bad_truncated.onnx"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(OUT, "bad_text.onnx"), "w") as f:
        f.write("This is not an ONNX model, just a text file named like one.\n")
    open(os.path.join(OUT, "bad_empty_file.onnx"), "wb").close()


# ---------------------------------------------------------------- writer check


def check_written():
    """Validates our writer's output (tests/fixtures/onnx/written/NAME.onnx, written from NAME.onnx)."""
    folder = os.path.join(OUT, "written")
    names = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".onnx"))
    if not names:
        sys.exit(f"no written models in {folder}: run `cargo test --test onnx_reader` first")
    for name in names:
        path = os.path.join(folder, name + ".onnx")
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        x = np.load(os.path.join(OUT, name + ".input.npy"))
        expected = np.load(os.path.join(OUT, name + ".logits.npy"))
        outputs = [o.name for o in model.graph.output]
        got = ReferenceEvaluator(model).run(None, {"input": x})[0]
        if outputs == ["probabilities"]:
            e = np.exp(expected - expected.max(axis=1, keepdims=True))
            expected = e / e.sum(axis=1, keepdims=True)
        err = float(np.abs(got - expected).max())
        status = "ok" if err < 1e-4 else "MISMATCH"
        print(f"{name}: checker ok, ir {model.ir_version}, opset {model.opset_import[0].version}, "
              f"outputs {outputs}, max abs err {err:.2e} {status}")
        if err >= 1e-4:
            sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check-written", action="store_true")
    args = parser.parse_args()
    if args.check_written:
        check_written()
        return
    os.makedirs(OUT, exist_ok=True)
    dynamo_mlp()
    dynamo_cnn()
    batchnorm()
    avgpool_tanh_softmax()
    same_padding()
    bad_models()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, f)))
    print(f"wrote {len(os.listdir(OUT))} files to {os.path.normpath(OUT)} ({total} bytes)")


if __name__ == "__main__":
    main()
