#!/bin/sh
# Run by tests/meson.build at configure time.
#
#   discover.sh pythons       one line "NAME PATH" per interpreter to test:
#                             Debian's /usr/bin/python3 as py3.X-debian, then
#                             the newest pyenv 3.8 .. 3.13 of each minor
#                             version as py3.X (free-threaded and -dev builds
#                             are left out)
#   discover.sh samples DIR   the Python samples in DIR, one name a line
set -eu

case "${1:-}" in
pythons)
    if [ -x /usr/bin/python3 ]; then
        v=$(/usr/bin/python3 -S -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        echo "py$v-debian /usr/bin/python3"
    fi
    root=${PYENV_ROOT:-${HOME:-/nonexistent}/.pyenv}
    for minor in 8 9 10 11 12 13; do
        best=
        if [ -d "$root/versions" ]; then
            best=$(ls -1 "$root/versions" 2>/dev/null |
                   grep -E "^3\.$minor\.[0-9]+\$" | sort -t. -k3,3n | tail -n 1)
        fi
        if [ -n "$best" ] && [ -x "$root/versions/$best/bin/python3.$minor" ]; then
            echo "py3.$minor $root/versions/$best/bin/python3.$minor"
        fi
    done
    ;;
samples)
    for f in "$2"/*.py; do
        [ -f "$f" ] || continue
        basename "$f" .py
    done
    ;;
*)
    echo "usage: $0 pythons | samples DIR" >&2
    exit 2
    ;;
esac
