#!/usr/bin/env bash
# Screenshots of the window's tabs for the README, taken under Xvfb with real clicks (xdotool):
# docs/screenshot.png (Explain), compare.png, faithfulness.png (after Run), ledger.png, draw.png (a drawn 7),
# contrast.png ("0 rather than 2": logit bars, then a right-click on class 2, its closest rival) and conditional.png (the stepper at
# "8 ReLU · 64", a click on one of the most relevant neurons' bars, then the view scrolled down to its conditional heatmap
# and gallery). `scripts/screenshot_tabs.sh contrast conditional` takes only the named ones.
# Needs Xvfb, xdotool and ImageMagick (scripts/install-deps.sh --gui-runtime). Uses a fresh HOME so that no saved
# settings change the view. Coordinates are those of the default 1280x800 layout.
#
# Actions after the file name: `X Y` left-click, `rclick X Y` right-click, `scroll X Y N` N wheel steps down at
# X Y, `draw7 -` a drawn 7 on the Draw tab's canvas.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin lrp-explorer
bin="${CARGO_TARGET_DIR:-target}/release/lrp-explorer"
home=$(mktemp -d)
shot() {
  local out=$1; shift
  local d=95
  while [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
  Xvfb :$d -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  local xp=$!
  sleep 1
  HOME=$home DISPLAY=:$d "$bin" >/dev/null 2>&1 &
  local ap=$!
  sleep 6
  while [ $# -ge 2 ]; do
    case "$1" in
      draw7)
        # a "7" on the Draw tab's canvas: top bar, then the diagonal, with the button held
        DISPLAY=:$d xdotool mousemove 290 190 mousedown 1
        for i in $(seq 0 19); do DISPLAY=:$d xdotool mousemove $((290 + i * 10)) 190; sleep 0.03; done
        for i in $(seq 0 24); do DISPLAY=:$d xdotool mousemove $((480 - i * 5)) $((190 + i * 9)); sleep 0.03; done
        DISPLAY=:$d xdotool mouseup 1
        shift 2 ;;
      rclick) DISPLAY=:$d xdotool mousemove "$2" "$3" click 3; shift 3 ;;
      scroll) DISPLAY=:$d xdotool mousemove "$2" "$3" click --repeat "$4" --delay 80 5; shift 4 ;;
      *) DISPLAY=:$d xdotool mousemove "$1" "$2" click 1; shift 2 ;;
    esac
    sleep 3
  done
  DISPLAY=:$d import -window root "$out"
  kill $ap; sleep 1; kill $xp
  echo "saved $out"
}
wanted() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }
mkdir -p docs
name=screenshot;   if wanted "$@"; then shot docs/screenshot.png; fi
name=compare;      if wanted "$@"; then shot docs/compare.png 318 44; fi
name=faithfulness; if wanted "$@"; then shot docs/faithfulness.png 472 44 234 200; fi
name=ledger;       if wanted "$@"; then shot docs/ledger.png 390 44; fi
name=draw;         if wanted "$@"; then shot docs/draw.png 548 44 draw7 -; fi
name=contrast;     if wanted "$@"; then shot docs/contrast.png 355 500 rclick 321 600 259 447; fi
name=conditional;  if wanted "$@"; then shot docs/conditional.png 645 521 592 770 scroll 560 600 14; fi
rm -rf "$home"
