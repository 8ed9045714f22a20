#!/bin/sh
# The text-input fuzz corpus (tests/fuzz/corpus-text, made by
# fuzz_text_inputs) as a regression test: each file, without its first
# byte (which picked the parser: even = --baseline JSON, odd =
# suppressions), is given to the built `linger report` as --baseline or
# --suppressions for TRACE.  Each run must exit 0, or 1 with a
# `linger: error:` line; a signal, a timeout or another status fails.
#
# Usage: regress_text.sh LINGER CORPUS_DIR TRACE
set -u
LINGER=$1
CORPUS=$2
TRACE=$3
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout -s KILL 60"

runs=0
bad=0
for f in "$CORPUS"/*; do
    [ -f "$f" ] || continue
    first=$(od -An -tu1 -N1 "$f" | tr -d ' ')
    [ -n "$first" ] || continue
    tail -c +2 "$f" >"$TMP/input"
    if [ $((first % 2)) -eq 0 ]; then
        opt="--baseline=$TMP/input"
    else
        opt="--suppressions=$TMP/input"
    fi
    runs=$((runs + 1))
    (cd "$TMP" && NO_COLOR=1 $TIMEOUT "$LINGER" report --no-default-suppressions "$opt" "$TRACE" \
        >"$TMP/out" 2>"$TMP/err" </dev/null)
    status=$?
    case $status in
    0) continue ;;
    1) grep -q '^linger: error: ' "$TMP/err" && continue
       why="exit status 1 without a 'linger: error:' line" ;;
    *) if [ "$status" -gt 128 ]; then why="killed by signal $((status - 128))"; else why="exit status $status"; fi ;;
    esac
    bad=$((bad + 1))
    echo "FAIL: linger report $opt ($f): $why"
    head -n 20 "$TMP/err" | sed 's/^/    /'
done
echo "fuzz-regress-text: $runs runs, $bad failed"
[ "$runs" -gt 0 ] || { echo "fuzz-regress-text: empty corpus $CORPUS"; exit 1; }
[ "$bad" -eq 0 ]
