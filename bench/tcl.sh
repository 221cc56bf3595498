#!/usr/bin/env bash
# tcl.sh -- run Redis's Tcl test suite (an exported 7.2.4 tree kept OUTSIDE this
# repository) against a freshly built Corvid, a fresh server per test file, and
# compare with the redis-server 7.2.4 baseline.
#
# Usage: bench/tcl.sh [-o OUTDIR] [--port N] [--portable] [FILE...]
#   FILE...          test files, e.g. unit/type/string unit/expire (default: the list below)
#   -o, --out DIR    where tcl.tsv, tcl-failures.tsv and logs/ (per-file output,
#                    server.log) go                       (default /tmp/corvid-tcl)
#   --port N         server port (default: a free port in 7100-7900)
#   --portable       pass --portable to the runner (skip DEBUG/SYNC/SAVE... tests)
#   -h, --help
# Environment:
#   REDIS_TESTS      the exported tree holding tests/   (default /work/scratch/redis-7.2.4)
#   CORVID_BIN       run this binary instead of building ./cmd/corvid
#                    (e.g. CORVID_BIN=redis-server to check the setup)
#   TCL_SUITE        the runner     (default <repo>/../shared/tools/redis-tcl-suite.sh)
#   TCL_BASELINE     --expect TSV   (default <repo>/../shared/tcl/tcl-baseline-7.2.4.tsv)
#   TCL_SUITE_ARGS   extra runner options, word-split (e.g. "--file-timeout 600")
#
# Getting the tree (never into the repo):
#   git --git-dir=<redis clone's git dir> archive 7.2.4 tests | tar -x -C /work/scratch/redis-7.2.4
# Prints the runner's per-file lines; the last line is "passed N of M (P%)".
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

DEFAULT_FILES="unit/type/string unit/type/incr unit/expire unit/keyspace unit/info-command
unit/protocol unit/quit unit/querybuf unit/introspection unit/introspection-2 unit/slowlog
unit/latency-monitor unit/pause"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=/tmp/corvid-tcl
PORT=""
PORTABLE=()
FILES=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--out) OUTDIR=$2; shift 2;;
        --port) PORT=$2; shift 2;;
        --portable) PORTABLE=(--portable); shift;;
        -h|--help) usage 0;;
        -*) echo "tcl.sh: unknown option: $1" >&2; usage 2;;
        *) FILES+=("$1"); shift;;
    esac
done
[ ${#FILES[@]} -gt 0 ] || read -r -d '' -a FILES <<<"$DEFAULT_FILES"

die() { echo "tcl.sh: $*" >&2; exit 2; }
inside_repo() { # path -> true when it resolves inside the repository
    local p
    p=$(realpath -m "$1") || return 1
    case "$p/" in "$ROOT"/*) return 0;; esac
    return 1
}

SUITE=${TCL_SUITE:-$ROOT/../shared/tools/redis-tcl-suite.sh}
BASELINE=${TCL_BASELINE:-$ROOT/../shared/tcl/tcl-baseline-7.2.4.tsv}
TREE=${REDIS_TESTS:-/work/scratch/redis-7.2.4}
# accept either the tree (holding tests/) or its tests/ dir itself
[ -f "$TREE/tests/test_helper.tcl" ] || { [ -f "$TREE/test_helper.tcl" ] && TREE=$(dirname "$TREE"); }
[ -f "$TREE/tests/test_helper.tcl" ] || die "no Redis test tree at $TREE (set REDIS_TESTS; see --help for the git archive recipe)"
[ -x "$SUITE" ] || [ -f "$SUITE" ] || die "runner not found: $SUITE (set TCL_SUITE)"
[ -f "$BASELINE" ] || die "baseline not found: $BASELINE (set TCL_BASELINE)"
command -v tclsh >/dev/null || die "tclsh not found (apt-get install tcl)"
inside_repo "$TREE" && die "REDIS_TESTS ($TREE) is inside the repository: keep Redis's tests out of it"

# The runner copies the tree into a mktemp dir under TMPDIR: keep that outside the repo too.
if [ -n "${TMPDIR:-}" ] && inside_repo "$TMPDIR"; then export TMPDIR=/tmp; fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-tcl.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${CORVID_BIN:-}" ]; then
    BIN=$(command -v "$CORVID_BIN") || die "CORVID_BIN=$CORVID_BIN not found"
else
    command -v go >/dev/null || die "go not found on PATH"
    echo "tcl.sh: building corvid" >&2
    (cd "$ROOT" && timeout 600 go build -o "$WORK/corvid" ./cmd/corvid) || { echo "tcl.sh: go build failed" >&2; exit 3; }
    BIN=$WORK/corvid
fi

port_busy() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }
if [ -z "$PORT" ]; then
    # the runner's test_helper also listens on [port+18, port+50): keep those free too
    for _ in $(seq 40); do
        p=$(( 7100 + RANDOM % 800 ))
        port_busy "$p" || port_busy $((p + 18)) || port_busy $((p + 49)) || { PORT=$p; break; }
    done
    [ -n "$PORT" ] || die "no free port found in 7100-7900"
fi

mkdir -p "$OUTDIR"
rm -rf "$OUTDIR/logs"; mkdir -p "$OUTDIR/logs"
printf -v Q '%q' "$BIN"
# shellcheck disable=SC2086
"${BASH:-bash}" "$SUITE" --src "$TREE" --port "$PORT" --fresh \
    --server-cmd "$Q --port $PORT --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command yes" \
    --expect "$BASELINE" --out "$OUTDIR/tcl.tsv" --failures "$OUTDIR/tcl-failures.tsv" \
    --logdir "$OUTDIR/logs" ${PORTABLE[@]+"${PORTABLE[@]}"} ${TCL_SUITE_ARGS:-} \
    --files "${FILES[*]}" &
CHILD=$!
trap 'kill -TERM $CHILD 2>/dev/null; wait $CHILD; rm -rf "$WORK"' EXIT
wait "$CHILD"
rc=$?
echo "tcl.sh: results in $OUTDIR/tcl.tsv, failing tests in $OUTDIR/tcl-failures.tsv, logs in $OUTDIR/logs" >&2
exit $rc
