#!/usr/bin/env python3
"""Writes the small data-reader fixtures: MATLAB variants in tests/fixtures/data/ and the corpus of bad files in
tests/fixtures/bad_data/ (each one broken in one known way; tests/data_readers.rs lists the expected errors).

Needs numpy and scipy. Run from the repository root: python3 scripts/make_data_fixtures.py
"""
import gzip
import struct
from pathlib import Path

import numpy as np
import scipy.io

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests/fixtures/data"
BAD = ROOT / "tests/fixtures/bad_data"


def idx_header(magic, *dims):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)


def npy_with_header(descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    header = header.ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def good():
    GOOD.mkdir(parents=True, exist_ok=True)
    flat = np.load(ROOT / "tests/fixtures/inputs/images_flat.npy")  # [8, 784] row-major, in [0, 1]
    labels = np.load(ROOT / "tests/fixtures/inputs/labels.npy")
    # MATLAB's own layout: an H x W x N double stack (column-major in the file), labels [N,1] in the same file.
    stack = np.stack([row.reshape(28, 28) for row in flat[:3]], axis=2).astype(np.float64)
    scipy.io.savemat(GOOD / "stack_hwn.mat", {"images": stack, "labels": labels[:3].reshape(3, 1).astype(np.double)},
                     do_compression=True)
    # One image per row, uint8, with one-hot labels in the same file (uncompressed).
    onehot = np.zeros((4, 10), np.uint8)
    onehot[np.arange(4), labels[:4]] = 1
    scipy.io.savemat(GOOD / "rows_onehot.mat", {"X": np.round(flat[:4] * 255).astype(np.uint8), "y": onehot})
    # Roweis's mnist_all.mat layout: test0..test9 (and train0..train9), one image per row; image d has pixel 100+d lit.
    groups = {}
    for prefix, count in (("test", 2), ("train", 1)):
        for d in range(10):
            block = np.zeros((count, 784), np.uint8)
            block[:, 100 + d] = 255
            groups[f"{prefix}{d}"] = block
    scipy.io.savemat(GOOD / "mnist_all_tiny.mat", groups, do_compression=True)


def bad():
    BAD.mkdir(parents=True, exist_ok=True)
    w = lambda name, data: (BAD / name).write_bytes(data)
    # IDX
    w("wrong_magic-images-idx3-ubyte", idx_header(2049, 3) + b"\x00\x01\x02")
    w("huge-images-idx3-ubyte", idx_header(2051, 4_000_000_000, 28, 28))
    w("short-images-idx3-ubyte", idx_header(2051, 100, 28, 28) + bytes(784))
    w("trunc-images-idx3-ubyte.gz", gzip.compress(idx_header(2051, 10, 28, 28) + bytes(5 * 784)))
    w("bomb-images-idx3-ubyte.gz", gzip.compress(idx_header(2051, 1, 28, 28) + bytes(50_000_000)))
    w("count-images-idx3-ubyte", idx_header(2051, 3, 28, 28) + bytes(3 * 784))
    w("count-labels-idx1-ubyte", idx_header(2049, 2) + bytes([1, 2]))
    w("garbage-images-idx3-ubyte.gz", b"\x1f\x8b\x08\x00" + bytes(range(200)))
    # CSV (2x2 images: a label and 4 pixels)
    w("text.csv", b"label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,0,abc,0\n")
    w("ragged.csv", b"1,0,0,0,0\n2,0,0,0\n")
    w("range.csv", b"1,0,300,0,0\n")
    w("columns.csv", b"1,2,3\n")
    # NPY / NPZ
    w("truncated.npy", npy_with_header("|u1", (100, 784), bytes(10)))
    w("huge.npy", npy_with_header("|u1", (10**12, 784), bytes(16)))
    w("complex.npy", npy_with_header("<c8", (2, 4), bytes(64)))
    np.save(BAD / "notimages.npy", np.zeros((2, 3, 4, 5), np.float32))
    np.save(BAD / "normalised.npy", np.full((2, 784), -0.4242, np.float32))
    np.save(BAD / "count_images.npy", np.zeros((3, 784), np.uint8))
    np.save(BAD / "count_labels.npy", np.array([1, 2], np.int64))
    np.save(BAD / "onehot_images.npy", np.zeros((2, 784), np.uint8))
    np.save(BAD / "onehot_labels.npy", np.array([[0, 1, 1], [1, 0, 0]], np.uint8))
    w("corrupt.npz", b"PK\x03\x04" + bytes(range(100)))
    np.savez(BAD / "nosplit.npz", x_test=np.zeros((2, 784), np.uint8), y_test=np.array([1, 2], np.uint8))
    # MATLAB
    buf = GOOD / "stack_hwn.mat"
    w("truncated.mat", buf.read_bytes()[:400])
    w("notmat.mat", b"this is not a MATLAB file\n" * 10)
    w("v73.mat", b"MATLAB 7.3 MAT-file".ljust(128, b" ") + bytes(600))
    # Pictures
    w("corrupt.png", b"\x89PNG\r\n\x1a\n" + bytes(range(64)))


if __name__ == "__main__":
    good()
    bad()
    print("wrote", sorted(p.name for p in GOOD.iterdir()), sorted(p.name for p in BAD.iterdir()))
