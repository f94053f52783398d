#!/usr/bin/env bash
# Trains the bundled default models with this project's own `train` command (deterministic seeds) and writes them
# to assets/models/. Takes a few minutes on two cores. Usage: scripts/make_models.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lrp-explorer
mkdir -p assets/models
common=(--data assets/train-images-idx3-ubyte.gz --test-data assets/test-images-idx3-ubyte.gz --seed 1 "$@")
"$bin" train --arch cnn --epochs 15 --out assets/models/cnn.onnx "${common[@]}"
"$bin" train --arch mlp --hidden 300,100 --epochs 15 --optimizer sgd --lr 0.05 --out assets/models/mlp.onnx "${common[@]}"
"$bin" train --arch mlp --hidden 100 --epochs 15 --optimizer sgd --lr 0.1 --out assets/models/mlp-784-100-10.onnx "${common[@]}"
