#!/usr/bin/env python3
"""Side-by-side speed of lrp-explorer and PyTorch + Zennit on the same models, rules and digits.

    python3 -m venv .venv && .venv/bin/pip install -r bench/requirements.txt
    cargo build --release
    .venv/bin/python bench/compare_zennit.py [--threads 2] [--images 10000] [--repeat 3]

Models: the fixture MLP (784-300-100-10) and CNN (tests/fixtures/models/*.npz and *.onnx). Digits: the 10,000
bundled MNIST digits (assets/: 2,000 test + 8,000 train), scaled to [0, 1].

Zennit: in-process time of attributions for the predicted class (one-hot output relevance), in batches of
1,000, after one warm-up batch; torch.set_num_threads(threads).
lrp-explorer: wall time of the whole `lrp-explorer explain` process (start, load the model, read the .npy,
explain, write the input relevance as .npy), best of --repeat runs, RAYON_NUM_THREADS=threads.
The two relevance maps are also compared (worst per-image max|a - b| / max|b|) so that the speed is that of
the same computation.
"""

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from zennit.composites import EpsilonGammaBox, EpsilonPlusFlat, LayerMapComposite, layer_map_base
from zennit.rules import Epsilon
from zennit.types import Convolution

ROOT = Path(__file__).resolve().parent.parent

# (model, lrp-explorer spec, Zennit composite factory, issue-6 target ratio)
CASES = [
    ("mlp", "epsilon:0.25", lambda: LayerMapComposite(
        layer_map_base() + [(Convolution, Epsilon(0.25)), (torch.nn.Linear, Epsilon(0.25))]), 2.0),
    ("cnn", "epsilon_plus_flat", lambda: EpsilonPlusFlat(), 10.0),
    ("cnn", "epsilon_gamma_box:0,1", lambda: EpsilonGammaBox(low=0.0, high=1.0), 10.0),
]


def read_idx(path: Path) -> np.ndarray:
    data = gzip.open(path).read()
    n, h, w = (int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h * w)


def digits(count: int) -> np.ndarray:
    test = read_idx(ROOT / "assets/test-images-idx3-ubyte.gz")
    train = read_idx(ROOT / "assets/train-images-idx3-ubyte.gz")
    x = np.concatenate([test, train]).astype(np.float32) / 255.0
    reps = -(-count // len(x))
    return np.ascontiguousarray(np.tile(x, (reps, 1))[:count])


def torch_model(name: str) -> torch.nn.Sequential:
    nn = torch.nn
    if name == "mlp":
        model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))
    state = np.load(ROOT / f"tests/fixtures/models/{name}.npz")
    model.load_state_dict({k: torch.from_numpy(state[k]) for k in state.files})
    return model.eval()


def zennit_run(model, composite, x: np.ndarray, batch: int) -> tuple[float, np.ndarray]:
    """Seconds for all of x (after a warm-up batch) and the relevance."""
    out = []
    with composite.context(model) as modified:
        def one(chunk):
            t = torch.from_numpy(chunk).requires_grad_(True)
            logits = modified(t)
            onehot = torch.eye(logits.shape[1])[logits.argmax(1)]
            (rel,) = torch.autograd.grad(logits, t, onehot)
            return rel.numpy()
        one(x[:batch])
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            out.append(one(x[i:i + batch]))
        seconds = time.perf_counter() - start
    return seconds, np.concatenate(out)


def ours_run(exe: Path, model: str, spec: str, inp: Path, out: Path, threads: int, repeat: int) -> float:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [str(exe), "explain", "--model", str(ROOT / f"tests/fixtures/models/{model}.onnx"), "--input", str(inp),
           "--rule", spec, "--init", "onehot", "--out", str(out)]
    best = float("inf")
    for _ in range(repeat):
        if out.exists():
            out.unlink()
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def worst_norm_err(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    scale = np.maximum(np.abs(b).max(axis=1), 1e-12)
    return float((np.abs(a - b).max(axis=1) / scale).max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", type=Path, default=ROOT / "target/release/lrp-explorer")
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.exe.exists():
        print(f"{args.exe} not found: run `cargo build --release` first", file=sys.stderr)
        return 1
    x = digits(args.images)
    print(f"{len(x)} digits; torch {torch.__version__}; lrp-explorer {args.exe}")
    print(f"{'model':5} {'rule':22} {'thr':>3} {'Zennit img/s':>13} {'ours img/s':>11} {'ratio':>7} {'target':>7}"
          f" {'max norm err':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = {"mlp": tmp / "mlp.npy", "cnn": tmp / "cnn.npy"}
        np.save(inputs["mlp"], x)
        np.save(inputs["cnn"], x.reshape(-1, 1, 28, 28))
        for threads in args.threads:
            torch.set_num_threads(threads)
            for name, spec, composite, target in CASES:
                model = torch_model(name)
                xin = x if name == "mlp" else x.reshape(-1, 1, 28, 28)
                z_sec, z_rel = zennit_run(model, composite(), xin, args.batch)
                out = tmp / "out.npy"
                o_sec = ours_run(args.exe, name, spec, inputs[name], out, threads, args.repeat)
                err = worst_norm_err(np.load(out), z_rel)
                z_rate, o_rate = len(x) / z_sec, len(x) / o_sec
                print(f"{name:5} {spec:22} {threads:>3} {z_rate:>13,.0f} {o_rate:>11,.0f} {o_rate / z_rate:>6.1f}x"
                      f" {target:>6.0f}x {err:>12.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
