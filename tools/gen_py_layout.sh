#!/bin/sh
# Regenerates the per-version layout rows from pyenv's CPython headers.
# Usage: tools/gen_py_layout.sh [pyenv root] > rows.txt
set -eu
root=${1:-$HOME/.pyenv/versions}
here=$(dirname "$0")
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
  d=$(ls -d "$root"/$v.* 2>/dev/null | head -n 1) || true
  [ -n "$d" ] || { echo "  /* $v: no headers found */"; continue; }
  inc="$d/include/python$v"
  gcc -I"$inc" -I"$inc/internal" "$here/py_layout_probe.c" -o /tmp/py_layout_probe.$$ \
      -L"$d/lib" -Wl,-rpath,"$d/lib" 2>/dev/null \
    && /tmp/py_layout_probe.$$ \
    || echo "  /* $v: probe failed to build */"
  rm -f /tmp/py_layout_probe.$$
done
