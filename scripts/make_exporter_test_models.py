#!/usr/bin/env python3
"""Writes small ONNX models made by the real exporters, with float64 references, to tests/fixtures/onnx_exporters/.

Usage (needs a venv outside the repository):
    pip install numpy torch onnx onnxscript scikit-learn skl2onnx keras
    KERAS_BACKEND=torch python3 scripts/make_exporter_test_models.py

Each case is a tiny MNIST network trained for a few steps on the bundled train digits (seed 1) and exported the way
users export: PyTorch's classic exporter (`x.view(x.size(0), -1)` → Shape/Gather/Unsqueeze/Concat/Reshape), the dynamo
exporter, `torch.onnx.export(model, (x,), path)` with every default (fixed batch 1), Keras 3 `model.export(format=
"onnx")` (NHWC input, Casts, Transposes around every Conv/MaxPool, separate bias Add) for an NHWC, an [N,28,28] and a
flat input, and skl2onnx with and without ZipMap (two outputs, a label branch from the ai.onnx.ml domain).

For each case `NAME.onnx` the script stores `NAME.input.npy` (4 test digits in the model's own input layout, float32),
`NAME.logits.npy` (pre-softmax scores, float64) and `NAME.<rule>.npy` (relevance at the input in the same layout as
the input, float64) for `epsilon:0.25` and `input_x_gradient`, computed by the plain numpy engine below on the
framework's own weights (not on the ONNX file), with the conventions of the project: one-hot start at the predicted
class before any softmax, ReLU passes relevance, MaxPool routes it to the first maximum, BatchNorm folded into the
convolution before it, flatten as an index permutation. `manifest.json` lists the cases.
"""

import gzip
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "onnx_exporters")
EPS = 0.25


def idx(name):
    with gzip.open(os.path.join(ROOT, "assets", name)) as f:
        data = f.read()
    if data[2] == 8 and data[3] == 3:
        n, h, w = np.frombuffer(data[4:16], ">u4")
        return np.frombuffer(data[16:], np.uint8).reshape(n, h, w)
    return np.frombuffer(data[8:], np.uint8)


# The bundled files are sorted by label: take 2000 training digits spread over all classes (shuffled with seed 1)
# and the first test digit of the classes 0, 3, 5 and 7.
_train_y = idx("train-labels-idx1-ubyte.gz")
_pick = np.random.default_rng(1).permutation(np.linspace(0, len(_train_y) - 1, 2000).astype(int))
TRAIN_X, TRAIN_Y = idx("train-images-idx3-ubyte.gz")[_pick] / 255.0, _train_y[_pick]
_test_y = idx("test-labels-idx1-ubyte.gz")
TEST_X = idx("test-images-idx3-ubyte.gz")[[int(np.argmax(_test_y == c)) for c in (0, 3, 5, 7)]] / 255.0


# ------------------------------------------------------------------ float64 numpy engine (NCHW, sequential)


def patches(x, kh, kw):
    n, c, h, w = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    p = np.zeros((n, oh, ow, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            p[:, :, :, :, i, j] = x[:, :, i : i + oh, j : j + ow].transpose(0, 2, 3, 1)
    return p.reshape(n, oh, ow, c * kh * kw)


def unpatch(p, shape, kh, kw):
    n, c, h, w = shape
    oh, ow = h - kh + 1, w - kw + 1
    p = p.reshape(n, oh, ow, c, kh, kw)
    x = np.zeros(shape)
    for i in range(kh):
        for j in range(kw):
            x[:, :, i : i + oh, j : j + ow] += p[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return x


def forward(layers, x):
    acts = [x]
    for kind, *p in layers:
        a = acts[-1]
        if kind == "conv":
            w, b = p
            z = patches(a, w.shape[2], w.shape[3]) @ w.reshape(w.shape[0], -1).T + b
            acts.append(z.transpose(0, 3, 1, 2))
        elif kind == "relu":
            acts.append(np.maximum(a, 0))
        elif kind == "maxpool":
            n, c, h, w = a.shape
            acts.append(a[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)))
        elif kind == "flatten":
            acts.append(a.reshape(len(a), -1))
        elif kind == "flatten_nhwc":
            acts.append(a.transpose(0, 2, 3, 1).reshape(len(a), -1))
        elif kind == "dense":
            w, b = p
            acts.append(a @ w.T + b)
    return acts


def backward(layers, acts, r, rule):
    """Relevance (rule 'epsilon') or gradient (rule 'gradient') from the output back to the input."""
    for (kind, *p), a in zip(reversed(layers), reversed(acts[:-1])):
        if kind == "dense":
            w, b = p
            if rule == "epsilon":
                z = a @ w.T + b
                r = a * ((r / (z + EPS * np.where(z >= 0, 1.0, -1.0))) @ w)
            else:
                r = r @ w
        elif kind == "conv":
            w, b = p
            pa = patches(a, w.shape[2], w.shape[3])
            wm = w.reshape(w.shape[0], -1)
            rr = r.transpose(0, 2, 3, 1)
            if rule == "epsilon":
                z = pa @ wm.T + b
                r = unpatch(pa * ((rr / (z + EPS * np.where(z >= 0, 1.0, -1.0))) @ wm), a.shape, w.shape[2], w.shape[3])
            else:
                r = unpatch(rr @ wm, a.shape, w.shape[2], w.shape[3])
        elif kind == "relu":
            if rule == "gradient":
                r = r * (a > 0)
        elif kind == "maxpool":
            n, c, h, w = a.shape
            out = np.zeros_like(a)
            for i in range(h // 2):
                for j in range(w // 2):
                    win = a[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(n, c, 4)
                    first = win.argmax(axis=2)
                    for k in range(4):
                        out[:, :, 2 * i + k // 2, 2 * j + k % 2] += np.where(first == k, r[:, :, i, j], 0.0)
            r = out
        elif kind == "flatten":
            r = r.reshape(a.shape)
        elif kind == "flatten_nhwc":
            n, c, h, w = a.shape
            r = r.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return r


def references(layers, x_nchw):
    acts = forward(layers, x_nchw)
    logits = acts[-1]
    onehot = np.zeros_like(logits)
    onehot[np.arange(len(logits)), logits.argmax(1)] = 1.0
    eps = backward(layers, acts, onehot * logits, "epsilon")
    grad = backward(layers, acts, onehot, "gradient")
    return logits, {"epsilon:0.25": eps, "input_x_gradient": grad * x_nchw}


CASES = {}


def save(name, model_files, x_model, layers, x_nchw, note, output=None):
    logits, refs = references(layers, x_nchw)
    np.save(os.path.join(OUT, f"{name}.input.npy"), x_model.astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.logits.npy"), logits)
    entry = {"model": model_files[0], "files": model_files, "input_shape": list(x_model.shape), "note": note,
             "pred": logits.argmax(1).tolist(), "refs": {}}
    if output:
        entry["output"] = output
    for rule, r in refs.items():
        file = f"{name}.{rule.split(':')[0]}.npy"
        np.save(os.path.join(OUT, file), r.reshape(x_model.shape))
        entry["refs"][rule] = file
    CASES[name] = entry
    print(f"{name}: {note}; predictions {entry['pred']}")


# ------------------------------------------------------------------ PyTorch


def torch_cases():
    import torch
    from torch import nn

    torch.manual_seed(1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(4, 6, 3), nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Linear(6 * 5 * 5, 10)

        def forward(self, x):
            x = self.features(x)
            return torch.softmax(self.fc(x.view(x.size(0), -1)), dim=1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    xs = torch.tensor(((TRAIN_X - 0.1307) / 0.3081)[:, None], dtype=torch.float32)
    ys = torch.tensor(TRAIN_Y, dtype=torch.long)
    for step in range(60):
        batch = slice(step * 32 % 1968, step * 32 % 1968 + 32)
        loss = nn.functional.nll_loss(torch.log(net(xs[batch]) + 1e-9), ys[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    x = ((TEST_X - 0.1307) / 0.3081)[:, None]
    f = net.features
    bn = f[1]
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().double().numpy()
    w1 = f[0].weight.detach().double().numpy() * scale[:, None, None, None]
    b1 = (bn.bias.detach().double().numpy() - bn.running_mean.detach().double().numpy() * scale)
    layers = [("conv", w1, b1), ("relu",), ("maxpool",),
              ("conv", f[4].weight.detach().double().numpy(), f[4].bias.detach().double().numpy()), ("relu",),
              ("maxpool",), ("flatten",),
              ("dense", net.fc.weight.detach().double().numpy(), net.fc.bias.detach().double().numpy())]
    sample = torch.zeros(1, 1, 28, 28)
    path = os.path.join(OUT, "torch_classic.onnx")
    torch.onnx.export(net, (sample,), path, dynamo=False, opset_version=17, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    save("torch_classic", ["torch_classic.onnx"], x, layers, x,
         "torch.onnx.export(dynamo=False, opset 17, dynamic batch): view(x.size(0), -1) as Shape/Gather/Unsqueeze/"
         "Concat/Reshape, BatchNorm folded by the exporter, final Softmax")
    path = os.path.join(OUT, "torch_dynamo.onnx")
    program = torch.onnx.export(net, (sample,), dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch")},))
    program.save(path)
    files = ["torch_dynamo.onnx"] + (["torch_dynamo.onnx.data"] if os.path.exists(path + ".data") else [])
    save("torch_dynamo", files, x, layers, x,
         "torch.onnx.export(dynamo=True, dynamic batch): BatchNormalization nodes, final Softmax")
    path = os.path.join(OUT, "torch_defaults.onnx")
    torch.onnx.export(net, (sample,), path)
    files = ["torch_defaults.onnx"] + (["torch_defaults.onnx.data"] if os.path.exists(path + ".data") else [])
    save("torch_defaults", files, x, layers, x, "torch.onnx.export(model, (x,), path) with every default: batch fixed to 1")


# ------------------------------------------------------------------ Keras 3


def keras_cases():
    import keras

    keras.utils.set_random_seed(1)
    x_train = TRAIN_X[..., None].astype(np.float32)
    y_train = TRAIN_Y.astype(np.int64)

    def conv_net(inputs, reshape):
        layers = [keras.Input(inputs)]
        if reshape:
            layers.append(keras.layers.Reshape((28, 28, 1)))
        layers += [keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                   keras.layers.Conv2D(6, 3, activation="relu"), keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                   keras.layers.Dropout(0.5), keras.layers.Dense(10, activation="softmax")]
        return keras.Sequential(layers)

    def train(model, x):
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        model.fit(x, y_train, batch_size=64, epochs=1, verbose=0)
        return model

    def conv_layers(model):
        convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
        dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)][0]
        out = []
        for c in convs:
            k, b = [np.asarray(v, dtype=np.float64) for v in c.get_weights()]
            out += [("conv", k.transpose(3, 2, 0, 1), b), ("relu",), ("maxpool",)]
        k, b = [np.asarray(v, dtype=np.float64) for v in dense.get_weights()]
        return out + [("flatten_nhwc",), ("dense", k.T, b)]

    x = TEST_X[:, None]
    model = train(conv_net((28, 28, 1), False), x_train)
    model.export(os.path.join(OUT, "keras_nhwc.onnx"), format="onnx")
    save("keras_nhwc", ["keras_nhwc.onnx"], TEST_X[..., None], conv_layers(model), x,
         "Keras 3 model.export(format='onnx'): NHWC [N,28,28,1], Casts, Transposes around Conv/MaxPool, bias Add in "
         "NHWC, NHWC flatten, Dropout, Softmax")
    model = train(conv_net((28, 28), True), x_train[..., 0])
    model.export(os.path.join(OUT, "keras_image.onnx"), format="onnx")
    save("keras_image", ["keras_image.onnx"], TEST_X, conv_layers(model), x,
         "Keras 3 model.export(format='onnx'): [N,28,28] input reshaped to NHWC inside the graph")
    mlp = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"),
                            keras.layers.Dense(10, activation="softmax")])
    train(mlp, x_train.reshape(-1, 784))
    mlp.export(os.path.join(OUT, "keras_flat.onnx"), format="onnx")
    (k1, b1), (k2, b2) = [[np.asarray(v, np.float64) for v in l.get_weights()] for l in mlp.layers]
    layers = [("dense", k1.T, b1), ("relu",), ("dense", k2.T, b2)]
    save("keras_flat", ["keras_flat.onnx"], TEST_X.reshape(-1, 784), layers, TEST_X.reshape(-1, 784),
         "Keras 3 model.export(format='onnx'): flat [N,784] input, MatMul + Add")


# ------------------------------------------------------------------ scikit-learn


def sklearn_cases():
    import warnings

    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier((16,), max_iter=15, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(TRAIN_X.reshape(-1, 784), TRAIN_Y)
    x = TEST_X.reshape(-1, 784)
    layers = [("dense", clf.coefs_[0].T, clf.intercepts_[0]), ("relu",), ("dense", clf.coefs_[1].T, clf.intercepts_[1])]
    sample = x[:1].astype(np.float32)
    for name, options, note in [
        ("sklearn_zipmap", None, "skl2onnx to_onnx with the defaults: label + a ZipMap sequence of maps"),
        ("sklearn_nozipmap", {"zipmap": False}, "skl2onnx zipmap=False: label (ArgMax → ArrayFeatureExtractor) + probabilities"),
    ]:
        onx = to_onnx(clf, sample, target_opset=17, options=options)
        with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
            f.write(onx.SerializeToString())
        save(name, [f"{name}.onnx"], x, layers, x, note)


def check_with_onnxruntime():
    """The exported files reproduce the references' probabilities (float32 vs float64)."""
    import onnxruntime as ort

    for name, c in CASES.items():
        sess = ort.InferenceSession(os.path.join(OUT, c["model"]))
        x = np.load(os.path.join(OUT, f"{name}.input.npy"))
        if c["input_shape"][0] != sess.get_inputs()[0].shape[0] and isinstance(sess.get_inputs()[0].shape[0], int):
            outs = [sess.run(None, {sess.get_inputs()[0].name: x[k : k + 1]}) for k in range(len(x))]
            outs = [np.concatenate([o[i] for o in outs]) for i in range(len(outs[0]))]
        else:
            outs = sess.run(None, {sess.get_inputs()[0].name: x})
        probs = [o for o in outs if isinstance(o, np.ndarray) and o.dtype == np.float32]
        if not probs:
            probs = [np.array([[d[k] for k in sorted(d)] for d in outs[-1]], dtype=np.float32)]
        logits = np.load(os.path.join(OUT, f"{name}.logits.npy"))
        e = np.exp(logits - logits.max(1, keepdims=True))
        err = float(np.abs(probs[-1] - e / e.sum(1, keepdims=True)).max())
        c["ort_vs_ref_probabilities"] = err
        assert err < 1e-5, f"{name}: onnxruntime differs from the reference by {err}"


def main():
    os.makedirs(OUT, exist_ok=True)
    for stale in os.listdir(OUT):
        if stale.endswith((".onnx", ".npy", ".data")):
            os.remove(os.path.join(OUT, stale))
    torch_cases()
    keras_cases()
    sklearn_cases()
    check_with_onnxruntime()
    import keras
    import onnx
    import sklearn
    import skl2onnx
    import torch

    versions = {"torch": torch.__version__, "keras": keras.__version__, "onnx": onnx.__version__,
                "scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__, "numpy": np.__version__}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"versions": versions, "epsilon": EPS, "cases": CASES}, f, indent=1)
    print("wrote", len(CASES), "cases;", versions, file=sys.stderr)


if __name__ == "__main__":
    main()
