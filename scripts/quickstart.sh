#!/bin/sh
# Quick start on Debian 12: install what linger needs to build (when run
# as root and something is missing), build it, and show the report of
# samples/python/finalize_keepalive.py.
#
#   sudo ./scripts/quickstart.sh      (or ./scripts/quickstart.sh as root,
#                                      or as a user once the packages are there)
set -eu

cd "$(dirname "$0")/.."

PACKAGES="meson ninja-build gcc pkg-config libunwind-dev libelf-dev libdw-dev libglib2.0-dev python3"
# Optional extra, not needed to build or use linger: CPython's own test
# suites for Debian's python3, which tests/cpython_suites.py (meson test
# cpython-suites-fast) runs under the shim when they are installed and
# skips when they are not.  Installed only as root, and a failure to
# install it is not an error.
OPTIONAL_PACKAGES="libpython3.11-testsuite python3-pytest"

missing=
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "quickstart: these Debian packages are missing:$missing" >&2
        echo "quickstart: run it as root to install them: sudo ./scripts/quickstart.sh" >&2
        exit 1
    fi
    echo "quickstart: installing:$missing"
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y $PACKAGES
fi

if [ "$(id -u)" -eq 0 ]; then
    for p in $OPTIONAL_PACKAGES; do
        if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            echo "quickstart: installing the optional $p (CPython's test suites, for tests/cpython_suites.py)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y "$p" ||
                echo "quickstart: could not install $p; tests/cpython_suites.py will skip Debian's python3"
        fi
    done
fi

# Optional as well: Graphviz for `linger report --format=svg`, and a
# headless Chromium with its driver for the tests of the HTML report
# (meson test --suite pictures), which skip without them.
PICTURE_PACKAGES="graphviz chromium chromium-driver"
if [ "$(id -u)" -eq 0 ]; then
    picture_missing=
    for p in $PICTURE_PACKAGES; do
        if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            picture_missing="$picture_missing $p"
        fi
    done
    if [ -n "$picture_missing" ]; then
        echo "quickstart: installing the optional$picture_missing (svg pictures, tests of the HTML report)"
        # shellcheck disable=SC2086
        { [ -n "$missing" ] || apt-get update; } &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y $picture_missing ||
            echo "quickstart: could not install$picture_missing; --format=svg and the pictures tests need them"
    fi
fi

# Under sudo, build as the user who called it, so that build/ stays theirs.
as_user() {
    if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
        sudo -u "$SUDO_USER" -- "$@"
    else
        "$@"
    fi
}

if [ -f build/build.ninja ]; then
    as_user meson setup --reconfigure build
else
    as_user meson setup build
fi
as_user meson compile -C build

# Debian's interpreter, the one installed above (not whatever python3
# comes first in PATH).
python=/usr/bin/python3
trace=build/quickstart.trace
echo
echo "\$ build/linger run --output $trace -- $python samples/python/finalize_keepalive.py"
as_user build/linger run --output "$trace" -- "$python" samples/python/finalize_keepalive.py
echo
echo "\$ build/linger report $trace"
as_user build/linger report "$trace"
