#!/usr/bin/env bash
# redispy-suite.sh -- run redis-py's own test suite (tests/ of a redis-py git tag,
# exported OUTSIDE this repository) against a freshly built Corvid, sync and
# asyncio tests, RESP2 and RESP3, a fresh server (plus a replica) per run.
#
# Usage: bench/redispy-suite.sh [options] [-- PYTEST-ARGS...]
#   --rev REV          build Corvid from this commit (git archive into the scratch dir)
#                      instead of the work tree as it is (default: the work tree)
#   --git-dir DIR      redis-py's git dir      (default $REDISPY_GIT or /work/.mirror/redis+redis-py/repo)
#   --ref REF          tag or commit to export (default v5.0.9)
#   --mode M           sync, async or both     (default both)
#   --protocol P       2, 3 or both            (default both)
#   --port N           server port (default 6379 when it and 6380 are free, since a
#                      few tests hard-code localhost:6379; else a free port in 7100-7900)
#   --no-replica       no replica on port 6380 (the 'replica' tests hard-code it);
#                      deselects those tests instead
#   --test-timeout S   pytest-timeout per test (default 30)
#   --run-timeout S    bound on each whole pytest run (default 900)
#   --server-version V make the suite take the server for Redis V (e.g. 7.4.0) in its
#                      version gates (skip_if_server_version_lt), whatever INFO says;
#                      Corvid says 7.2.4, which skips the hash-field-expiry tests (>= 7.3.240)
#   -o, --out DIR      results: <run>.log, <run>.xml (junit), <run>.failures,
#                      server logs              (default /tmp/corvid-redispy)
#   -h, --help
#   PYTEST-ARGS        passed to pytest; node ids (tests/test_commands.py::TestX::test_y)
#                      replace the default test paths. In --mode both, sync runs
#                      take the node ids not under tests/test_asyncio, async the others.
# Environment:
#   CORVID_BIN   run this binary instead of building ./cmd/corvid, e.g.
#                CORVID_BIN=/usr/bin/redis-server to compare with Redis
#   PYTHON       interpreter (default /usr/bin/python3; needs pytest, pytest-asyncio,
#                pytest-timeout: apt-get install python3-pytest-timeout)
#
# Deselected: Redis Cluster (onlycluster, test_cluster.py), modules (redismod:
# bloom, graph, json, search, timeseries; and the TFUNCTION/TFCALL tests, which
# need the triggers-and-functions module though unmarked), TLS (ssl, test_ssl.py:
# the ssl tests in test_connect.py only test the client). Sentinel tests
# stay: they mock the sentinels and only talk to the server under test.
# The exported redis package (not the system's) is imported: pytest runs from
# inside the exported tree, which is first on PYTHONPATH.
# Prints one line per run: "<run>: N passed, N failed, N skipped, N errors";
# lists timed-out (hung) tests; exit status 0 if every run finished, 1 otherwise.
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GITDIR=${REDISPY_GIT:-/work/.mirror/redis+redis-py/repo}
REF=v5.0.9
MODE=both
PROTO=both
PORT=""
REPLICA=1
TEST_TIMEOUT=30
RUN_TIMEOUT=900
OUTDIR=/tmp/corvid-redispy
SERVER_VERSION=""
PY=${PYTHON:-/usr/bin/python3}
REV=""
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --git-dir) GITDIR=$2; shift 2;;
        --ref) REF=$2; shift 2;;
        --rev) REV=$2; shift 2;;
        --mode) MODE=$2; shift 2;;
        --protocol) PROTO=$2; shift 2;;
        --port) PORT=$2; shift 2;;
        --no-replica) REPLICA=0; shift;;
        --test-timeout) TEST_TIMEOUT=$2; shift 2;;
        --run-timeout) RUN_TIMEOUT=$2; shift 2;;
        --server-version) SERVER_VERSION=$2; shift 2;;
        -o|--out) OUTDIR=$2; shift 2;;
        -h|--help) usage 0;;
        --) shift; EXTRA=("$@"); break;;
        *) echo "redispy-suite.sh: unknown option: $1" >&2; usage 2;;
    esac
done

die() { echo "redispy-suite.sh: $*" >&2; exit 2; }
log() { echo "redispy-suite.sh: $*" >&2; }
inside_repo() { # path -> true when it resolves inside the repository
    local p
    p=$(realpath -m "$1") || return 1
    case "$p/" in "$ROOT"/*) return 0;; esac
    return 1
}
case "$MODE" in sync) MODES=(sync);; async) MODES=(async);; both) MODES=(sync async);; *) die "--mode: sync, async or both";; esac
case "$PROTO" in 2|3) PROTOS=("$PROTO");; both) PROTOS=(2 3);; *) die "--protocol: 2, 3 or both";; esac
git --git-dir="$GITDIR" rev-parse -q --verify "$REF^{commit}" >/dev/null 2>&1 || die "no $REF in git dir $GITDIR (set --git-dir)"
"$PY" -c 'import pytest, pytest_asyncio, pytest_timeout' 2>/dev/null \
    || die "$PY lacks pytest, pytest-asyncio or pytest-timeout (apt-get install python3-pytest python3-pytest-asyncio python3-pytest-timeout)"
inside_repo "$OUTDIR" && die "--out ($OUTDIR) is inside the repository"
if [ -n "${TMPDIR:-}" ] && inside_repo "$TMPDIR"; then export TMPDIR=/tmp; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-redispy.XXXXXX")
SERVER_PIDS=()
stop_servers() {
    local p
    for p in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do kill "$p" 2>/dev/null; done
    for p in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    SERVER_PIDS=()
}
PYTEST_PID=""
cleanup() {
    [ -n "$PYTEST_PID" ] && kill -- -"$PYTEST_PID" 2>/dev/null
    stop_servers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the binary
if [ -n "${CORVID_BIN:-}" ]; then
    BIN=$(command -v "$CORVID_BIN") || die "CORVID_BIN=$CORVID_BIN not found"
    BUILT=$BIN
else
    command -v go >/dev/null || die "go not found on PATH"
    SRC=$ROOT
    if [ -n "$REV" ]; then
        SRC=$WORK/corvid-src
        mkdir -p "$SRC"
        git -C "$ROOT" archive "$REV" | tar -x -C "$SRC" || die "git archive $REV failed"
        BUILT="corvid at $(git -C "$ROOT" rev-parse --short "$REV")"
    else
        BUILT="corvid from the work tree ($(git -C "$ROOT" rev-parse --short HEAD)$( [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^?? bench/redispy-suite.sh$')" ] && echo ' + uncommitted changes'))"
    fi
    log "building $BUILT"
    (cd "$SRC" && timeout 600 go build -o "$WORK/corvid" ./cmd/corvid) || { log "go build failed"; exit 3; }
    BIN=$WORK/corvid
fi

# --- the tests, exported outside the repo
TREE=$WORK/redis-py
mkdir -p "$TREE"
git --git-dir="$GITDIR" archive "$REF" | tar -x -C "$TREE" || die "git archive $REF failed"
[ -f "$TREE/tests/conftest.py" ] || die "$REF has no tests/conftest.py"
# redis/__init__.py takes __version__ from the installed distribution's metadata:
# make the exported tree's own version win over a system redis-py's.
VER=$(sed -n 's/^ *version="\([^"]*\)".*/\1/p' "$TREE/setup.py" | head -1)
if [ -n "$VER" ]; then
    mkdir -p "$TREE/redis-$VER.dist-info"
    printf 'Metadata-Version: 2.1\nName: redis\nVersion: %s\n' "$VER" >"$TREE/redis-$VER.dist-info/METADATA"
fi
got=$(cd "$TREE" && PYTHONPATH=$TREE "$PY" -c 'import redis, os; print(redis.__version__, os.path.dirname(redis.__file__))') \
    || die "cannot import the exported redis package"
case "$got" in *" $TREE/redis") log "redis-py $got";; *) die "imported the wrong redis package: $got";; esac

# --- ports
port_busy() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }
if [ -z "$PORT" ]; then
    if ! port_busy 6379 && ! port_busy 6380; then PORT=6379; else
        for _ in $(seq 40); do
            p=$(( 7100 + RANDOM % 800 ))
            port_busy "$p" || { PORT=$p; break; }
        done
        [ -n "$PORT" ] || die "no free port found in 7100-7900"
        log "6379/6380 busy: using port $PORT; tests that hard-code localhost:6379 will fail"
    fi
fi
REPLICA_PORT=6380
if [ "$REPLICA" = 1 ] && port_busy "$REPLICA_PORT"; then
    log "port $REPLICA_PORT busy: no replica, 'replica' tests deselected"; REPLICA=0
fi

rcmd() { # port args... : one command through the exported redis-py, prints the reply
    (cd "$TREE" && PYTHONPATH=$TREE timeout 10 "$PY" -c '
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=5)
print(r.execute_command(*sys.argv[2:]))' "$@") 2>/dev/null
}
start_server() { # port logfile [extra args]
    local port=$1 logf=$2; shift 2
    # enable-module-command: the MODULE LOAD tests expect "Error loading the extension"
    # (a ModuleError), not the "MODULE command not allowed" of Redis's default
    "$BIN" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command yes \
        --enable-module-command yes \
        --dir "$WORK" --dbfilename "dump-$port.rdb" "$@" >"$logf" 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { log "server on $port exited at start:"; tail -5 "$logf" >&2; return 1; }
        [ "$(rcmd "$port" PING)" = True ] && return 0
        sleep 0.2
    done
    log "server on $port did not answer PING"; return 1
}

mkdir -p "$OUTDIR"
MARK="not onlycluster and not redismod and not ssl"
[ "$REPLICA" = 1 ] || MARK="$MARK and not replica"
IGNORES=()
for f in test_cluster test_bloom test_graph test_json test_search test_timeseries test_ssl \
         test_asyncio/test_cluster test_asyncio/test_bloom test_asyncio/test_graph \
         test_asyncio/test_json test_asyncio/test_search test_asyncio/test_timeseries; do
    IGNORES+=("--ignore=tests/$f.py")
done
IGNORES+=("--ignore=tests/test_graph_utils")
for t in test_tfunction_load_delete test_tfunction_list test_tfcall; do
    IGNORES+=("--deselect=tests/test_commands.py::TestRedisCommands::$t")
done
PLUGIN=()
if [ -n "$SERVER_VERSION" ]; then
    # runs after conftest's pytest_sessionstart, before the test modules' gates are evaluated
    cat >"$TREE/corvid_server_version.py" <<EOF
import pytest
@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    from tests.conftest import REDIS_INFO
    REDIS_INFO["version"] = "$SERVER_VERSION"
EOF
    PLUGIN=(-p corvid_server_version)
fi

# split PYTEST-ARGS into node ids (by mode) and options
SYNC_IDS=(); ASYNC_IDS=(); OPTS=()
for a in ${EXTRA[@]+"${EXTRA[@]}"}; do
    case "$a" in
        tests/test_asyncio*) ASYNC_IDS+=("$a");;
        tests/*) SYNC_IDS+=("$a");;
        *) OPTS+=("$a");;
    esac
done

SUMMARY=()
status=0
for mode in "${MODES[@]}"; do
    if [ ${#SYNC_IDS[@]} -gt 0 ] || [ ${#ASYNC_IDS[@]} -gt 0 ]; then
        if [ "$mode" = sync ]; then TARGETS=(${SYNC_IDS[@]+"${SYNC_IDS[@]}"}); else TARGETS=(${ASYNC_IDS[@]+"${ASYNC_IDS[@]}"}); fi
        [ ${#TARGETS[@]} -gt 0 ] || continue
    elif [ "$mode" = sync ]; then TARGETS=(tests --ignore=tests/test_asyncio)
    else TARGETS=(tests/test_asyncio)
    fi
    for proto in "${PROTOS[@]}"; do
        run="$mode-resp$proto"
        log "run $run: starting the server on $PORT$( [ "$REPLICA" = 1 ] && echo " and a replica on $REPLICA_PORT")"
        stop_servers
        rm -f "$WORK"/dump-*.rdb
        start_server "$PORT" "$OUTDIR/$run.server.log" || { SUMMARY+=("$run: server did not start"); status=1; continue; }
        MAIN_PID=${SERVER_PIDS[0]}
        if [ "$REPLICA" = 1 ]; then
            # REPLICAOF once running: Corvid (996d0e9) takes --replicaof into its config
            # at startup but does not start replicating
            if start_server "$REPLICA_PORT" "$OUTDIR/$run.replica.log"; then
                rcmd "$REPLICA_PORT" REPLICAOF 127.0.0.1 "$PORT" >/dev/null
                up=0
                for _ in $(seq 50); do
                    rcmd "$REPLICA_PORT" INFO replication | grep -q "'master_link_status': 'up'" && { up=1; break; }
                    sleep 0.2
                done
                [ "$up" = 1 ] || log "replica on $REPLICA_PORT did not link up in 10s (the replica tests may fail)"
            else log "replica did not start"; fi
        fi
        xml=$OUTDIR/$run.xml; out=$OUTDIR/$run.log
        rm -f "$xml"
        log "run $run: pytest (per test ${TEST_TIMEOUT}s, whole run ${RUN_TIMEOUT}s), log in $out"
        start=$(date +%s)
        # setsid: own process group, so a timeout kills pytest and anything it spawned
        ( cd "$TREE" && PYTHONPATH=$TREE exec setsid timeout -k 30 "$RUN_TIMEOUT" "$PY" -m pytest \
            -p no:cacheprovider -v -r fEs --tb=short \
            --timeout="$TEST_TIMEOUT" -o faulthandler_timeout="$(awk -v t="$TEST_TIMEOUT" 'BEGIN{print t*2}')" \
            --redis-url="redis://127.0.0.1:$PORT/0" --protocol="$proto" \
            -m "$MARK" "${IGNORES[@]}" ${PLUGIN[@]+"${PLUGIN[@]}"} --junit-xml="$xml" \
            ${OPTS[@]+"${OPTS[@]}"} "${TARGETS[@]}" ) >"$out" 2>&1 </dev/null &
        PYTEST_PID=$!
        wait "$PYTEST_PID"; rc=$?
        PYTEST_PID=""
        secs=$(( $(date +%s) - start ))
        note=""
        last=$(grep -E '^tests/.*::' "$out" | tail -1 | cut -d' ' -f1)
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            note=" [whole run timed out after ${secs}s; last test started: $last]"
            status=1
        elif [ "$rc" -gt 1 ]; then note=" [pytest exit $rc]"; status=1; fi
        [ -f "$xml" ] || [ -n "$note" ] || { note=" [pytest died; last test started: $last]"; status=1; }
        kill -0 "$MAIN_PID" 2>/dev/null || { note="$note [server died: see $OUTDIR/$run.server.log]"; status=1; }
        if [ -f "$xml" ]; then
            line=$("$PY" - "$xml" "$OUTDIR/$run.failures" "$TREE" <<'EOF'
import os, sys, xml.etree.ElementTree as ET
def nodeid(classname, name):  # junit's dotted classname back to a pytest node id
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        path = "/".join(parts[:i]) + ".py"
        if os.path.isfile(os.path.join(sys.argv[3], path)):
            return "::".join([path] + parts[i:] + [name])
    return classname + "::" + name
root = ET.parse(sys.argv[1]).getroot()
# junit gives a test that fails and then errs in teardown two <testcase>s: merge by node id
tests = {}
for tc in root.iter("testcase"):
    name = nodeid(tc.get("classname", ""), tc.get("name", ""))
    t = tests.setdefault(name, {"kinds": set(), "msg": ""})
    for c in tc:
        t["kinds"].add(c.tag)
        if c.tag in ("failure", "error"):
            m = (c.get("message") or "").splitlines()
            t["msg"] = t["msg"] or (m[0][:300] if m else "")
            if "Timeout >" in (c.get("message") or "") + (c.text or ""):
                t["hung"] = True
n = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
bad, hung = [], []
for name, t in tests.items():
    kinds = t["kinds"]
    if t.get("hung"):
        hung.append(name)
    # one count per test: a failing call is "failed" even if teardown errs too;
    # "errors" are tests whose setup or teardown failed otherwise
    if "failure" in kinds:
        n["failed"] += 1; bad.append(("FAIL", name, t["msg"]))
    elif "error" in kinds:
        n["errors"] += 1; bad.append(("ERROR", name, t["msg"]))
    elif "skipped" in kinds:
        n["skipped"] += 1
    else:
        n["passed"] += 1
with open(sys.argv[2], "w") as f:
    for k, name, msg in bad:
        f.write(f"{k}\t{name}\t{msg}\n")
s = f"{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped, {n['errors']} errors"
if hung:
    s += " [timed out: " + " ".join(hung) + "]"
print(s)
EOF
)
        else
            line="no junit report"
        fi
        pyline=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$out" | tail -1 | sed -E 's/^=+ //; s/ =+$//')
        [ -n "$pyline" ] && line="$line; pytest: $pyline"
        SUMMARY+=("$run: $line (${secs}s)$note")
        log "$run: $line (${secs}s)$note"
        stop_servers
    done
done

echo "redis-py $REF against $BUILT: $("$BIN" --version 2>/dev/null | head -1)"
printf '%s\n' "${SUMMARY[@]}"
echo "details: $OUTDIR/<run>.log, <run>.xml, <run>.failures (one failing test a line)"
exit $status
