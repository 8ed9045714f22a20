#!/bin/sh
# Builds the fuzz targets of tests/fuzz in build directories of their own
# (never build/), each configured by meson with its own compiler:
#
#   $OUT/build-libfuzzer  clang, ASan + UBSan + libFuzzer instrumentation
#   $OUT/fuzz_report      the libFuzzer target (-fsanitize=fuzzer,address,undefined)
#   $OUT/fuzz_text_inputs libFuzzer target of the baseline JSON reader and
#                         the suppressions parser
#   $OUT/build-afl        afl-clang-lto (or afl-clang-fast), UBSan
#   $OUT/afl_report       the AFL++ persistent-mode harness (afl_driver.c)
#   $OUT/make_seeds       writes the synthetic seeds (make_seeds.c), any cc
#
# Usage: tests/fuzz/build.sh [libfuzzer|afl|seeds|all]   (default: all)
# OUT is $LINGER_FUZZ_OUT, else /tmp/linger-fuzz.  Needs clang (libFuzzer
# ships with it) and, for afl, Debian's afl++ package.  Only the
# analyzer's static library is built in each directory: the shim is not
# fuzzed (it reads no untrusted input).
#
# Running them: see tests/fuzz/README.md.
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${LINGER_FUZZ_OUT:-/tmp/linger-fuzz}
WHAT=${1:-all}
mkdir -p "$OUT"

DEPS="glib-2.0 libelf libdw"
PIN="-DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_66 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_66"

# configure DIR CC C_ARGS SANITIZE: a meson build dir for the analyzer.
configure () {
    dir=$1 cc=$2 cargs=$3 san=$4
    if [ -f "$dir/build.ninja" ]; then
        return 0
    fi
    CC=$cc meson setup "$dir" "$SRC" \
        --buildtype=debugoptimized \
        -Db_sanitize="$san" -Db_lundef=false \
        -Dc_args="$cargs" >"$dir.setup.log" 2>&1 ||
        { cat "$dir.setup.log"; echo "build.sh: meson setup $dir failed" >&2; exit 1; }
}

# link CC FLAGS BUILD OUTPUT SOURCES...: a target against that dir's analyzer.
link () {
    cc=$1 flags=$2 build=$3 output=$4
    shift 4
    # shellcheck disable=SC2086  # flags are words on purpose
    $cc $flags $PIN -g -I"$SRC/include" -I"$SRC/analyzer" -I"$build" \
        $(pkg-config --cflags $DEPS) \
        "$@" "$build/analyzer/liblinger_analyzer.a" \
        $(pkg-config --libs $DEPS) -lm -o "$output"
    echo "build.sh: built $output"
}

if [ "$WHAT" = seeds ] || [ "$WHAT" = all ]; then
    # The writer needs only the format header: no meson dir.
    ${CC:-cc} -O1 -g -I"$SRC/include" -I"$SRC/preload" \
        "$SRC/tests/fuzz/make_seeds.c" "$SRC/preload/linger_writer.c" -o "$OUT/make_seeds"
    echo "build.sh: built $OUT/make_seeds"
fi

if [ "$WHAT" = libfuzzer ] || [ "$WHAT" = all ]; then
    command -v clang >/dev/null || { echo "build.sh: clang is needed" >&2; exit 1; }
    B="$OUT/build-libfuzzer"
    configure "$B" clang "-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
        address,undefined
    ninja -C "$B" analyzer/liblinger_analyzer.a >/dev/null
    link clang "-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
        "$B" "$OUT/fuzz_report" "$SRC/tests/fuzz/fuzz_report.c"
    # --baseline's JSON reader and the suppressions parser.
    link clang "-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
        "$B" "$OUT/fuzz_text_inputs" "$SRC/tests/fuzz/fuzz_text_inputs.c"
fi

if [ "$WHAT" = afl ] || [ "$WHAT" = all ]; then
    AFLCC=
    # afl-clang-lto needs an lld matching its LLVM; fall back to -fast.
    for c in afl-clang-lto afl-clang-fast; do
        if command -v "$c" >/dev/null && echo 'int main(void){return 0;}' |
            AFL_QUIET=1 "$c" -x c - -o "$OUT/.afl-probe" >/dev/null 2>&1; then
            AFLCC=$c
            break
        fi
    done
    [ -n "$AFLCC" ] || { echo "build.sh: no working afl-clang-lto/afl-clang-fast (apt-get install afl++)" >&2; exit 1; }
    export AFL_QUIET=1
    B="$OUT/build-afl"
    configure "$B" "$AFLCC" "-fno-sanitize-recover=undefined" undefined
    ninja -C "$B" analyzer/liblinger_analyzer.a >/dev/null
    link "$AFLCC" "-O2 -fsanitize=undefined -fno-sanitize-recover=undefined" \
        "$B" "$OUT/afl_report" "$SRC/tests/fuzz/fuzz_report.c" "$SRC/tests/fuzz/afl_driver.c"
fi
