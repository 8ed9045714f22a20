#!/bin/sh
# ASan + UBSan run of everything that does not need the shim inside
# Python: configures BUILD (default /tmp/build-asan) with
# -Db_sanitize=address,undefined -Db_lundef=false, builds it, and runs the
# unit tests (suite 'unit': reader, graph, findings, reports, diff,
# symbolizer, `linger run` with a no-op preload) and the fuzz corpus
# through the sanitized `linger report` (suite 'fuzz-regress').  Any
# sanitizer report fails the test that triggers it.
#
# The shim, LD_PRELOADed into a Python that does not link libasan, runs
# sanitized only with libasan and libubsan preloaded ahead of it: a smoke
# test does that for a few samples under Debian's /usr/bin/python3, Python
# and native tracking (no sanitizer report, the program's exit status, a
# trace the sanitized `linger report` reads).  Not run here: the
# end-to-end meson suites (samples, cli, snapshots, baseline, host,
# c-samples), which fail under libasan preloaded into every process
# (pyenv's interpreters crash with it); their analyzer side is covered by
# the corpus, which holds traces of real runs.
#
# Usage: tests/sanitize.sh [BUILD] [extra meson test arguments]
# Ends with "N passed, M failed" like tests/run.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-/tmp/build-asan}
[ $# -gt 0 ] && shift

if [ -f "$BUILD/build.ninja" ]; then
    meson setup --reconfigure "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false
else
    meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false
fi || { echo "sanitize.sh: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
meson compile -C "$BUILD" ||
    { echo "sanitize.sh: the build failed"; echo "0 passed, 1 failed"; exit 1; }

# halt_on_error + abort_on_error: a UBSan report is a failure (a signal,
# never an exit status 1 that fuzz-regress could take for an error), not
# a line in a log.
# verify_asan_link_order=0: the `linger run` unit tests preload the
# (sanitized) no-op library into programs that do not link libasan.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:verify_asan_link_order=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"

rm -f "$BUILD/meson-logs/testlog.json"
meson test -C "$BUILD" --print-errorlogs --suite unit --suite fuzz-regress "$@"
status=$?

# The shim smoke test (results appended to the test log as meson would).
shim_smoke () {
    py=/usr/bin/python3
    asan=$(${CC:-cc} -print-file-name=libasan.so)
    ubsan=$(${CC:-cc} -print-file-name=libubsan.so)
    if [ ! -x "$py" ] || [ ! -f "$asan" ] || [ ! -f "$BUILD/liblinger.so" ]; then
        echo "sanitize.sh: shim smoke test skipped (no $py, libasan or shim)"
        return 0
    fi
    tmp=$(mktemp -d)
    for sample in finalize_keepalive bound_method_cycle_garbage weakref_callback_keepalive_closure; do
        for native in 0 1; do
            name="shim-asan/$sample/native=$native"
            "$py" -S "samples/python/$sample.py" >"$tmp/bare.out" 2>&1
            bare=$?
            rm -f "$tmp"/t*.trace
            ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0:allow_user_segv_handler=1 \
            LINGER_NATIVE=$native LINGER_OUTPUT="$tmp/t.trace" \
            LD_PRELOAD="$asan $ubsan $BUILD/liblinger.so" \
                "$py" -S "samples/python/$sample.py" >"$tmp/run.out" 2>&1
            got=$?
            result=OK
            if grep -q "Sanitizer\|runtime error" "$tmp/run.out"; then
                result=FAIL; cat "$tmp/run.out"
            elif [ "$got" -ne "$bare" ]; then
                result=FAIL; echo "$name: exit status $got, bare $bare"
            elif ! "$BUILD/linger" report "$tmp/t.trace" >/dev/null; then
                result=FAIL; echo "$name: no readable trace"
            fi
            echo "$name: $result"
            printf '{"name": "%s", "result": "%s"}\n' "$name" "$result" >>"$BUILD/meson-logs/testlog.json"
        done
    done
    rm -rf "$tmp"
}
shim_smoke

python3 - "$BUILD/meson-logs/testlog.json" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
try:
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                r = json.loads(line).get('result')
                if r in ('OK', 'EXPECTEDFAIL'):
                    passed += 1
                elif r == 'SKIP':
                    skipped += 1
                else:
                    failed += 1
except FileNotFoundError:
    pass
if status != 0 and failed == 0:
    failed = 1
line = '{} passed, {} failed'.format(passed, failed)
if skipped:
    line += ', {} skipped'.format(skipped)
print(line)
sys.exit(1 if failed else 0)
PY
