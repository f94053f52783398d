#!/usr/bin/env bash
# Builds lrp-explorer and saves a screenshot of the window (under Xvfb) to docs/screenshot.png.
# usage: scripts/screenshot.sh [--profile release|dev] [--wait SECONDS] [-- EXTRA APP ARGS]
# With the bundled assets (assets/models/cnn.onnx) the main binary opens its defaults; without them the
# `fixture_gui` example opens the fixture CNN on the LRP Toolbox test digits converted to IDX.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release; wait_s=12
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2;;
    --wait) wait_s=$2; shift 2;;
    --) shift; break;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
tool=../shared/tools/gui-screenshot.sh
[ -x "$tool" ] || tool=/work/shared/tools/gui-screenshot.sh
if [ ! -x "$tool" ]; then
  echo "gui-screenshot.sh not found (expected ../shared/tools/gui-screenshot.sh): it runs a program under Xvfb" >&2
  echo "and saves a screenshot; install xvfb + imagemagick and run the app under xvfb-run instead." >&2
  exit 1
fi
shared=$(dirname "$(dirname "$tool")")
flag=(); dir=debug
if [ "$profile" = release ]; then flag=(--release); dir=release; fi
mkdir -p docs
if [ -f assets/models/cnn.onnx ]; then
  cargo build "${flag[@]}" --bin lrp-explorer
  cmd=(target/$dir/lrp-explorer "$@")
else
  data=${TMPDIR:-/tmp}/lrp-explorer-digits
  if [ ! -f "$data/test-images-idx3-ubyte.gz" ]; then
    mkdir -p "$data"
    python3 - "$data" "$shared/lrp-toolbox" <<'PY'
import gzip, struct, sys
import numpy as np, scipy.io as sio
out, src = sys.argv[1], sys.argv[2]
x = sio.loadmat(f'{src}/test_images.mat')['data'].astype(np.uint8)
y = sio.loadmat(f'{src}/test_labels.mat')['data'].astype(np.uint8).ravel()
with gzip.open(f'{out}/test-images-idx3-ubyte.gz', 'wb') as f:
    f.write(struct.pack('>IIII', 2051, len(x), 28, 28) + x.tobytes())
with gzip.open(f'{out}/test-labels-idx1-ubyte.gz', 'wb') as f:
    f.write(struct.pack('>II', 2049, len(y)) + y.tobytes())
PY
  fi
  cargo build "${flag[@]}" --example fixture_gui
  cmd=(target/$dir/examples/fixture_gui cnn "$data/test-images-idx3-ubyte.gz")
fi
# A fresh HOME so persisted settings of earlier runs do not change the picture.
home=$(mktemp -d)
HOME=$home "$tool" docs/screenshot.png --wait "$wait_s" --size 1280x800 -- "${cmd[@]}"
rm -rf "$home"
