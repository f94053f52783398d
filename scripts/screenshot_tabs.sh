#!/usr/bin/env bash
# Screenshots of the window's tabs for the README, taken under Xvfb with real clicks (xdotool):
# docs/screenshot.png (Explain), compare.png, faithfulness.png (after Run), ledger.png and draw.png (a drawn 7).
# Needs Xvfb, xdotool and ImageMagick (scripts/install-deps.sh --gui-runtime). Uses a fresh HOME so that no saved
# settings change the view. Coordinates are those of the default 1280x800 layout.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin lrp-explorer
home=$(mktemp -d)
shot() {
  local out=$1; shift
  local d=95
  while [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
  Xvfb :$d -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  local xp=$!
  sleep 1
  HOME=$home DISPLAY=:$d target/release/lrp-explorer >/dev/null 2>&1 &
  local ap=$!
  sleep 6
  while [ $# -ge 2 ]; do
    if [ "$1" = draw7 ]; then
      # a "7" on the Draw tab's canvas: top bar, then the diagonal, with the button held
      DISPLAY=:$d xdotool mousemove 290 190 mousedown 1
      for i in $(seq 0 19); do DISPLAY=:$d xdotool mousemove $((290 + i * 10)) 190; sleep 0.03; done
      for i in $(seq 0 24); do DISPLAY=:$d xdotool mousemove $((480 - i * 5)) $((190 + i * 9)); sleep 0.03; done
      DISPLAY=:$d xdotool mouseup 1
    else
      DISPLAY=:$d xdotool mousemove "$1" "$2" click 1
    fi
    sleep 3
    shift 2
  done
  DISPLAY=:$d import -window root "$out"
  kill $ap; sleep 1; kill $xp
  echo "saved $out"
}
mkdir -p docs
shot docs/screenshot.png
shot docs/compare.png 318 44
shot docs/faithfulness.png 472 44 234 200
shot docs/ledger.png 390 44
shot docs/draw.png 548 44 draw7 -
rm -rf "$home"
