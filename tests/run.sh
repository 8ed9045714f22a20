#!/bin/sh
# The project's test command: configure build/ (or refresh its
# configuration, which also picks up new samples and interpreters),
# compile, run every meson test, and finish with one line
# "N passed, M failed" (", K skipped" when some were skipped).
# Exit status: non-zero if the build failed or any test failed.
#
# Extra arguments go to `meson test` (e.g. `--suite cli`, a test name).
set -u

cd "$(dirname "$0")/.." || exit 2
BUILD=${LINGER_BUILD_DIR:-build}

PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

if [ -f "$BUILD/build.ninja" ]; then
    meson setup --reconfigure "$BUILD"
else
    meson setup "$BUILD"
fi || { echo "tests/run.sh: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
meson compile -C "$BUILD" ||
    { echo "tests/run.sh: the build failed"; echo "0 passed, 1 failed"; exit 1; }

rm -f "$BUILD/meson-logs/testlog.json"
meson test -C "$BUILD" --print-errorlogs "$@"
status=$?

"$PYTHON" - "$BUILD/meson-logs/testlog.json" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
try:
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            result = json.loads(line).get('result')
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
                failed += 1
except FileNotFoundError:
    pass
if status != 0 and failed == 0:
    failed = 1   # meson test itself failed (no test log, or it was interrupted)
line = '{} passed, {} failed'.format(passed, failed)
if skipped:
    line += ', {} skipped'.format(skipped)
print(line)
sys.exit(1 if failed else 0)
PY
