#!/bin/sh
# The fuzz corpora as regression tests, through the built `linger report`.
# Each run must exit 0, or 1 with a `linger: error:` line on standard
# error; a signal (a crash), a timeout or any other status fails the test.
#
#   regress.sh LINGER CORPUS_DIR
#       every file of CORPUS_DIR (traces, fuzz_report's corpus) as a
#       trace: text, JSON, every option, --diff.
#   regress.sh LINGER CORPUS_DIR --text TRACE
#       every file of CORPUS_DIR (fuzz_text_inputs' corpus) without its
#       first byte, which picked the parser (even: --baseline JSON, odd:
#       suppressions), given as --baseline or --suppressions for TRACE.
set -u
LINGER=$1
CORPUS=$2
TEXT_TRACE=
if [ $# -ge 4 ] && [ "$3" = --text ]; then
    TEXT_TRACE=$4
fi
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout -s KILL 60"

runs=0
bad=0

# judge STATUS WHAT: counts a run of `linger report WHAT` that ended with
# STATUS, with its stderr in $TMP/err.
judge () {
    runs=$((runs + 1))
    case $1 in
    0) return ;;
    1) grep -q '^linger: error: ' "$TMP/err" && return
       why="exit status 1 without a 'linger: error:' line" ;;
    *) if [ "$1" -gt 128 ]; then
           why="killed by signal $(($1 - 128))"
       else
           why="exit status $1"
       fi ;;
    esac
    bad=$((bad + 1))
    echo "FAIL: linger report $2: $why"
    head -n 20 "$TMP/err" | sed 's/^/    /'
}

for f in "$CORPUS"/*; do
    [ -f "$f" ] || continue
    if [ -n "$TEXT_TRACE" ]; then
        first=$(od -An -tu1 -N1 "$f" | tr -d ' ')
        [ -n "$first" ] || continue
        tail -c +2 "$f" >"$TMP/input"
        if [ $((first % 2)) -eq 0 ]; then
            opt="--baseline=$TMP/input"
        else
            opt="--suppressions=$TMP/input"
        fi
        (cd "$TMP" && NO_COLOR=1 $TIMEOUT "$LINGER" report --no-default-suppressions "$opt" "$TEXT_TRACE" \
            >"$TMP/out" 2>"$TMP/err" </dev/null)
        judge $? "$opt ($f)"
        continue
    fi
    for opts in "" "--format=json" "--all --instances --live-cycles --stacks" \
                "--format=json --all" "--diff" "--diff --format=json --instances"; do
        # shellcheck disable=SC2086  # opts are words on purpose
        NO_COLOR=1 $TIMEOUT "$LINGER" report $opts "$f" >"$TMP/out" 2>"$TMP/err" </dev/null
        judge $? "$opts $f"
    done
done
echo "fuzz-regress: $runs runs on $(ls "$CORPUS" | wc -l) corpus files, $bad failed"
[ "$runs" -gt 0 ] || { echo "fuzz-regress: empty corpus $CORPUS"; exit 1; }
[ "$bad" -eq 0 ]
