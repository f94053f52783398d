#!/usr/bin/env python3
"""Writes tests/fixtures/weights/matlab_net_*.mat: one 784-16-10 MLP saved the three ways MATLAB users save one.

* matlab_net_plain.mat   -- variables W1, b1, W2, b2 ([out, in], rows = next layer);
* matlab_net_layers.mat  -- `nn.layers{l}.W` / `.b`, layer 1 the input layer without weights (the seed's layout,
                            `save('net.mat', 'nn')`): a struct holding a cell array of per-layer structs;
* matlab_net_dlt.mat     -- DeepLearnToolbox: `nn.W{l}` of size [out, in+1], bias in the first column, `nn.size`.

All three are written by scipy's savemat in the default MATLAB Level 5 format, compressed (as MATLAB's -v7), with
doubles. matlab_net_expected.npz holds two inputs `x` [2, 784] and the logits `logits` [2, 10] computed here with
numpy (ReLU hidden layer), so the Rust tests check orientation and bias placement against an independent forward.
matlab_net_seed_relevance.mat holds `R` [784, 2]: the seed user's LRP (softmax start, z+ without bias, w² input)
of those inputs, for `diagnose`.

Run: python3 scripts/make_matlab_net_files.py  (numpy, scipy)
"""
import os

import numpy as np
import scipy.io

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "weights")


def main():
    rng = np.random.default_rng(12)
    sizes = [784, 16, 10]
    ws = [rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    bs = [rng.normal(0, 0.1, n_out) for n_out in sizes[1:]]
    # float32 values stored as doubles: the Rust side reads f32, so the comparison is exact up to the forward.
    ws = [w.astype(np.float32).astype(np.float64) for w in ws]
    bs = [b.astype(np.float32).astype(np.float64) for b in bs]

    scipy.io.savemat(os.path.join(OUT, "matlab_net_plain.mat"),
                     {"W1": ws[0], "b1": bs[0].reshape(-1, 1), "W2": ws[1], "b2": bs[1].reshape(-1, 1)},
                     do_compression=True)

    layers = np.empty((1, 3), dtype=object)
    layers[0, 0] = {"layerSize": 784.0, "output": np.zeros((0, 0))}
    layers[0, 1] = {"layerSize": 16.0, "W": ws[0], "b": bs[0].reshape(-1, 1), "activation": "relu"}
    layers[0, 2] = {"layerSize": 10.0, "W": ws[1], "b": bs[1].reshape(-1, 1), "activation": "softmax"}
    nn = {"layers": layers, "numOfLayers": 3.0, "lastLayer": 3.0}
    scipy.io.savemat(os.path.join(OUT, "matlab_net_layers.mat"), {"nn": nn}, do_compression=True)

    w_cells = np.empty((1, 2), dtype=object)
    for l in range(2):
        w_cells[0, l] = np.hstack([bs[l].reshape(-1, 1), ws[l]])
    dlt = {
        "size": np.array([[784.0, 16.0, 10.0]]),
        "n": 3.0,
        "W": w_cells,
        "activation_function": "sigm",
        "output": "softmax",
        "learningRate": 2.0,
    }
    scipy.io.savemat(os.path.join(OUT, "matlab_net_dlt.mat"), {"nn": dlt}, do_compression=True)

    x = rng.uniform(0, 1, (2, 784)).astype(np.float32)
    x[:, rng.uniform(0, 1, 784) < 0.7] = 0.0
    h = np.maximum(x.astype(np.float64) @ ws[0].T + bs[0], 0)
    logits = h @ ws[1].T + bs[1]
    np.savez(os.path.join(OUT, "matlab_net_expected.npz"), x=x, logits=logits.astype(np.float32))

    # The seed user's own code (../shared/seed), column vectors as in MATLAB: R = softmax output of every class,
    # z+ without bias or stabiliser on the top layer, w² at the input. Saved as R [784, N], one map per column.
    maps = []
    for a1 in x.astype(np.float64):
        a2 = np.maximum(ws[0] @ a1 + bs[0], 0)
        out = ws[1] @ a2 + bs[1]
        r3 = np.exp(out - out.max()) / np.exp(out - out.max()).sum()
        wp = np.maximum(ws[1], 0)
        r2 = a2 * (wp.T @ (r3 / (wp @ a2)))
        w2 = ws[0] ** 2
        r1 = w2.T @ (r2 / w2.sum(axis=1))
        maps.append(r1)
    scipy.io.savemat(os.path.join(OUT, "matlab_net_seed_relevance.mat"), {"R": np.stack(maps, axis=1)},
                     do_compression=True)


if __name__ == "__main__":
    main()
