#!/usr/bin/env bash
# Installs the system packages lrp-explorer needs beyond the Rust toolchain.
# Building needs only a C compiler (X11/GL/Wayland are loaded at run time); running the window needs an X11 or Wayland display
# with OpenGL. On a headless Debian machine (CI, screenshots) this installs Xvfb and Mesa's software GL.
set -euo pipefail
# A C compiler: the Rust toolchain links with it, and the mimalloc allocator is built with it.
if ! command -v cc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi
if [ "${1:-}" = "--gui-runtime" ]; then
  if ! command -v Xvfb >/dev/null || ! [ -e /usr/lib/x86_64-linux-gnu/libGL.so.1 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      xvfb xauth imagemagick x11-utils xdotool libgl1 libglx-mesa0 libgl1-mesa-dri libegl1 libegl-mesa0 \
      libxkbcommon-x11-0 libxcursor1 libxi6 libx11-xcb1 >/dev/null
  fi
fi
echo "system packages: ok"
