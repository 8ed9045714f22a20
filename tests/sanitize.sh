#!/bin/sh
# The whole test suite with the analyzer under ASan + UBSan (+ LSan).
#
# Configures BUILD (default build-asan/) with
# -Db_sanitize=address,undefined: the `linger` command, its library, the
# unit tests and the benchmark trace generator are sanitized; the shim
# (liblinger.so), its writer and the C programs it is preloaded into
# (samples/c, bench workloads, the unit tests' no-op preload) are not
# (`override_options: no_sanitize` in their meson.build), so the
# end-to-end suites run unsanitized Pythons and C programs with a normal
# shim under a sanitized `linger`.  Then it runs every meson test there
# (unit, samples, cli, snapshots, baseline, host, c-samples, fuzz-regress,
# bench, huge, ...), with the timeouts tripled.
#
# A sanitizer report in a sanitized process aborts it (abort_on_error,
# halt_on_error), which fails the test that ran it.  ASan and LSan reports
# also go to BUILD/sanitizer-reports/, which this script prints and counts
# as failures even if a test did not look at the exit status; GCC's UBSan
# writes its reports to standard error whatever log_path says (and its
# log_path would take ASan's reports away from ASAN_OPTIONS's), so it
# relies on the abort alone.  The profiled programs are not sanitized: they ignore the
# *SAN_OPTIONS variables they inherit.
#
# Then a smoke test of the shim itself, sanitized (liblinger-sanitized.so,
# built only in this configuration): libasan, libubsan and it preloaded
# into Debian's /usr/bin/python3 (pyenv's interpreters crash with libasan
# preloaded) on a few samples, Python and native tracking.
#
# Usage: tests/sanitize.sh [BUILD] [extra meson test arguments, e.g. --suite cli]
# Ends with "N passed, M failed" like tests/run.sh.  The whole suite took
# 68 minutes on two cores shared with other work (1381 passed, 0 failed,
# 5 skipped): most of the time is spent in the profiled programs, which
# are not slowed down; the sanitized fuzz-regress alone takes about 10.
# Not part of tests/run.sh (CI): `tests/sanitize.sh build-asan --suite unit`
# is a quick subset.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build-asan}
[ $# -gt 0 ] && shift

if [ -f "$BUILD/build.ninja" ]; then
    meson setup --reconfigure "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false
else
    meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false
fi || { echo "sanitize.sh: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
meson compile -C "$BUILD" ||
    { echo "sanitize.sh: the build failed"; echo "0 passed, 1 failed"; exit 1; }

REPORTS=$(cd "$BUILD" && pwd)/sanitizer-reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"

# abort_on_error: a report is a SIGABRT, never an exit status 1 that a
# test could take for linger's own "error" status.  log_path: each ASan or
# LSan report also lands in a file (REPORTS/asan.PID) counted below.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1:log_path=$REPORTS/asan}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"

started=$(date +%s)
rm -f "$BUILD/meson-logs/testlog.json"
meson test -C "$BUILD" --print-errorlogs --timeout-multiplier 3 "$@"
status=$?

# The shim smoke test (results appended to the test log as meson would).
shim_smoke () {
    py=/usr/bin/python3
    asan=$(${CC:-cc} -print-file-name=libasan.so)
    ubsan=$(${CC:-cc} -print-file-name=libubsan.so)
    shim=$BUILD/liblinger-sanitized.so
    if [ ! -x "$py" ] || [ ! -f "$asan" ] || [ ! -f "$shim" ]; then
        echo "sanitize.sh: shim smoke test skipped (no $py, libasan or $shim)"
        return 0
    fi
    tmp=$(mktemp -d)
    for sample in finalize_keepalive bound_method_cycle_garbage weakref_callback_keepalive_closure; do
        for native in 0 1; do
            name="shim-asan/$sample/native=$native"
            "$py" -S "samples/python/$sample.py" >"$tmp/bare.out" 2>&1
            bare=$?
            rm -f "$tmp"/t*.trace
            # Python itself is not sanitized: no leak check of it, and
            # its own signal handlers stay its own.
            ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0:allow_user_segv_handler=1 \
            UBSAN_OPTIONS=print_stacktrace=1 \
            LINGER_NATIVE=$native LINGER_OUTPUT="$tmp/t.trace" \
            LD_PRELOAD="$asan $ubsan $shim" \
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

# Reports a test let pass (it did not check the exit status) still fail.
for f in "$REPORTS"/*; do
    [ -f "$f" ] || continue
    echo "sanitize.sh: sanitizer report $f:"
    cat "$f"
    printf '{"name": "sanitizer-report/%s", "result": "FAIL"}\n' "$(basename "$f")" >>"$BUILD/meson-logs/testlog.json"
done
echo "sanitize.sh: $(( $(date +%s) - started )) s of tests"

/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" "$status" <<'PY'
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
