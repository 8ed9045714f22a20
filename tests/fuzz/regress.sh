#!/bin/sh
# The fuzz corpus as a regression test: every file of CORPUS_DIR through
# the built `linger report` (text, JSON, every option, --diff).  Each run
# must exit 0, or 1 with a `linger: error:` line on standard error; a
# signal (a crash), a timeout or any other status fails the test.
#
# Usage: regress.sh LINGER CORPUS_DIR
set -u
LINGER=$1
CORPUS=$2
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout -s KILL 60"

runs=0
bad=0
for f in "$CORPUS"/*; do
    [ -f "$f" ] || continue
    for opts in "" "--format=json" "--all --instances --live-cycles --stacks" \
                "--format=json --all" "--diff" "--diff --format=json --instances"; do
        runs=$((runs + 1))
        # shellcheck disable=SC2086  # opts are words on purpose
        NO_COLOR=1 $TIMEOUT "$LINGER" report $opts "$f" >"$TMP/out" 2>"$TMP/err" </dev/null
        status=$?
        case $status in
        0) continue ;;
        1) grep -q '^linger: error: ' "$TMP/err" && continue
           why="exit status 1 without a 'linger: error:' line" ;;
        *) if [ "$status" -gt 128 ]; then
               why="killed by signal $((status - 128))"
           else
               why="exit status $status"
           fi ;;
        esac
        bad=$((bad + 1))
        echo "FAIL: linger report $opts $f: $why"
        head -n 20 "$TMP/err" | sed 's/^/    /'
    done
done
echo "fuzz-regress: $runs runs on $(ls "$CORPUS" | wc -l) corpus files, $bad failed"
[ "$runs" -gt 0 ] || { echo "fuzz-regress: empty corpus $CORPUS"; exit 1; }
[ "$bad" -eq 0 ]
