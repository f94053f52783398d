#!/usr/bin/env python3
"""Writes the small weight-only model files of tests/fixtures/weights/ and their expected logits.

Needs numpy and scipy (pip install numpy scipy). Run from the repository root:
    python3 scripts/make_weight_test_files.py

Every model is an MLP computed here in float64 from float32 weights: Dense, activation, ..., Dense (no activation
after the last layer). `expected.npz` holds the inputs `x64` [4, 64] and `x784` [4, 784] and, per file, the logits
`<file stem>__relu` (and `__tanh` for the files tested with Tanh).
"""

import os

import numpy as np
import scipy.io

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "weights")
rng = np.random.default_rng(1234)


def layer(n_in, n_out):
    """A float32 weight [out, in] and bias [out]."""
    w = (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
    b = (0.1 * rng.standard_normal(n_out)).astype(np.float32)
    return w, b


def forward(layers, x, act):
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.astype(np.float64).T + b.astype(np.float64)
        if i + 1 < len(layers):
            h = np.maximum(h, 0) if act == "relu" else np.tanh(h)
    return h.astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {
        "x64": rng.uniform(0, 1, (4, 64)).astype(np.float32),
        "x784": rng.uniform(0, 1, (4, 784)).astype(np.float32),
    }

    def record(stem, layers, x_key, acts=("relu",)):
        for act in acts:
            expected[f"{stem}__{act}"] = forward(layers, expected[x_key], act)

    # PyTorch state_dict of nn.Sequential: keys 0, 2, 10 (natural order differs from string order).
    torch_mlp = [layer(784, 12), layer(12, 8), layer(8, 10)]
    np.savez(os.path.join(OUT, "torch_seq.npz"),
             **{f"{k}.{r}": t for k, (w, b) in zip([0, 2, 10], torch_mlp) for r, t in (("weight", w), ("bias", b))})
    record("torch_seq", torch_mlp, "x784", ("relu", "tanh"))

    # Named PyTorch layers fc1, fc2, fc10, compressed.
    named = [layer(64, 20), layer(20, 16), layer(16, 10)]
    np.savez_compressed(os.path.join(OUT, "torch_named.npz"),
                        **{f"fc{k}.{r}": t for k, (w, b) in zip([1, 2, 10], named) for r, t in (("weight", w), ("bias", b))})
    record("torch_named", named, "x64")

    # Keras-style kernels [in, out] (float64), compressed: dense, dense_1, dense_2.
    keras = [layer(64, 24), layer(24, 12), layer(12, 10)]
    np.savez_compressed(os.path.join(OUT, "keras.npz"),
                        **{f"{name}/{r}": t for name, (w, b) in zip(["dense", "dense_1", "dense_2"], keras)
                           for r, t in (("kernel", w.T.astype(np.float64)), ("bias", b))})
    record("keras", keras, "x64", ("relu", "tanh"))

    # MATLAB, W = [out, in] (rows = next layer), column biases, double, uncompressed.
    mat = [layer(64, 16), layer(16, 12), layer(12, 10)]
    scipy.io.savemat(os.path.join(OUT, "matlab_outin.mat"),
                     {**{f"W{k}": w.astype(np.float64) for k, (w, _) in enumerate(mat, 1)},
                      **{f"b{k}": b.astype(np.float64).reshape(-1, 1) for k, (_, b) in enumerate(mat, 1)},
                      "description": "hand-written net"},
                     do_compression=False)
    record("matlab_outin", mat, "x64")

    # MATLAB, transposed layout W = [in, out], row biases, single precision, compressed, 11 layers (W10, W11 sort after W9).
    deep = [layer(64, 14)] + [layer(14, 14) for _ in range(9)] + [layer(14, 10)]
    scipy.io.savemat(os.path.join(OUT, "matlab_inout.mat"),
                     {**{f"W{k}": w.T.copy() for k, (w, _) in enumerate(deep, 1)},
                      **{f"b{k}": b.reshape(1, -1) for k, (_, b) in enumerate(deep, 1)}},
                     do_compression=True)
    record("matlab_inout", deep, "x64")

    # Refused: a convolutional state_dict, and weights whose shapes do not chain.
    conv_w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    np.savez(os.path.join(OUT, "conv_state_dict.npz"), **{"0.weight": conv_w, "0.bias": np.zeros(4, np.float32),
                                                          "3.weight": rng.standard_normal((10, 100)).astype(np.float32)})
    bad = [layer(64, 16), layer(15, 10)]
    np.savez(os.path.join(OUT, "broken_chain.npz"),
             **{f"{k}.{r}": t for k, (w, b) in enumerate(bad) for r, t in (("weight", w), ("bias", b))})

    scipy.io.savemat(os.path.join(OUT, "no_weights.mat"),
                     {"weights": np.ones((2, 3)), "labels": np.arange(3.0)})
    scipy.io.savemat(os.path.join(OUT, "orphan_bias.mat"),
                     {"W1": np.ones((2, 3)), "b1": np.zeros(2), "b2": np.zeros(2)})

    np.savez(os.path.join(OUT, "expected.npz"), **expected)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
