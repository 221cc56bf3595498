#!/usr/bin/env bash
# memory.sh -- memory footprint of Corvid vs redis-server, measured as RSS.
#
# For each server in turn (Corvid first, then redis-server; one running at a time),
# started with the same arguments (--port P --bind 127.0.0.1 --save '' --appendonly no)
# on a free loopback port in its own temp dir:
#   1. read VmRSS from /proc/<pid>/status (empty server);
#   2. load: redis-benchmark -t set -r KEYS -n REQUESTS -d SIZE -P 16 -c 50
#      (defaults: 1,000,000 keys, 3,000,000 requests, 100-byte values);
#   3. read VmRSS and DBSIZE: bytes/key = (RSS after - RSS before) / DBSIZE;
#   4. keep overwriting the same keyspace with the same command for DURATION
#      seconds, sampling VmRSS every SAMPLE seconds, then read VmRSS and VmHWM
#      (peak) again: growth = RSS after overwrite - RSS after load.
# Prints one row per server and, last, the Corvid/Redis ratio of bytes/key.
#
# Usage: bench/memory.sh [options]
#   -k, --keys N         keyspace (-r)                     (KEYS, default 1000000)
#   -n, --requests N     SETs in the load phase            (REQUESTS, default 3000000)
#   -d, --data-size N    value size in bytes               (DATA_SIZE, default 100)
#   -P, --pipeline N     pipeline depth                    (PIPELINE, default 16)
#   -c, --clients N      connections                       (CLIENTS, default 50)
#   -D, --duration S     overwrite phase length, seconds   (DURATION, default 60; 0 = skip)
#       --sample S       RSS sampling interval in the overwrite phase (SAMPLE, default 10)
#       --timeout S      bound on the load phase           (LOAD_TIMEOUT, default 900)
#       --command CMD    load with this redis-benchmark command instead of -t set,
#                        e.g. "ZADD z __rand_int__ m:__rand_int__"  (LOAD_COMMAND)
#       --count CMD      count the items loaded with this command instead of
#                        DBSIZE (bytes per item), e.g. "ZCARD z"     (COUNT_COMMAND)
#   -h, --help
# Environment: CORVID_BIN (use this binary as "Corvid", skip the build; e.g.
# CORVID_BIN=redis-server to validate), CORVID_GOMAXPROCS, REDIS_BIN,
# CORVID_ARGS / REDIS_ARGS (extra server arguments, word-split).
# With 1M keys the load phase needs roughly 2x 150-250 MB of RAM over the run.
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

KEYS=${KEYS:-1000000}
REQUESTS=${REQUESTS:-3000000}
DATA_SIZE=${DATA_SIZE:-100}
PIPELINE=${PIPELINE:-16}
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-60}
SAMPLE=${SAMPLE:-10}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-900}
LOAD_COMMAND=${LOAD_COMMAND:-}
COUNT_COMMAND=${COUNT_COMMAND:-DBSIZE}

while [ $# -gt 0 ]; do
    case "$1" in
        -k|--keys) KEYS=$2; shift 2;;
        -n|--requests) REQUESTS=$2; shift 2;;
        -d|--data-size) DATA_SIZE=$2; shift 2;;
        -P|--pipeline) PIPELINE=$2; shift 2;;
        -c|--clients) CLIENTS=$2; shift 2;;
        -D|--duration) DURATION=$2; shift 2;;
        --sample) SAMPLE=$2; shift 2;;
        --timeout) LOAD_TIMEOUT=$2; shift 2;;
        --command) LOAD_COMMAND=$2; shift 2;;
        --count) COUNT_COMMAND=$2; shift 2;;
        -h|--help) usage 0;;
        *) echo "memory.sh: unknown argument: $1" >&2; usage 2;;
    esac
done
for v in KEYS REQUESTS DATA_SIZE PIPELINE CLIENTS DURATION SAMPLE LOAD_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "memory.sh: $v must be a number, got '${!v}'" >&2; exit 2; }
done
[ "$SAMPLE" -ge 1 ] || SAMPLE=1
[ "$KEYS" -ge 1 ] || { echo "memory.sh: keys must be >= 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-memory.XXXXXX")
declare -A PID=() PORT=()
CHILD=""

log() { echo "memory.sh: $*" >&2; }

stop_server() { # name
    local p=${PID[$1]:-}
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    PID[$1]=""
}
cleanup() {
    [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
    stop_server corvid
    stop_server redis
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SUDO=()
[ "$(id -u)" = 0 ] || ! command -v sudo >/dev/null || SUDO=(sudo)
install_redis() {
    log "installing redis-server redis-tools with apt-get"
    local apt=(timeout 900 ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get)
    "${apt[@]}" install -y redis-server redis-tools >"$WORK/apt.log" 2>&1 ||
        { "${apt[@]}" update >>"$WORK/apt.log" 2>&1 &&
          "${apt[@]}" install -y redis-server redis-tools >>"$WORK/apt.log" 2>&1; } ||
        { cat "$WORK/apt.log" >&2; log "apt-get install failed"; exit 3; }
    # Debian may start a redis-server service on 6379 on install: we do not use it.
    timeout 60 ${SUDO[@]+"${SUDO[@]}"} service redis-server stop >/dev/null 2>&1 || true
}

REDIS_BIN=${REDIS_BIN:-redis-server}
if ! command -v "$REDIS_BIN" >/dev/null || ! command -v redis-benchmark >/dev/null ||
   ! command -v redis-cli >/dev/null; then
    install_redis
fi
command -v "$REDIS_BIN" >/dev/null || { log "no $REDIS_BIN"; exit 3; }

if [ -n "${CORVID_BIN:-}" ]; then
    command -v "$CORVID_BIN" >/dev/null || { log "CORVID_BIN=$CORVID_BIN not found"; exit 3; }
else
    command -v go >/dev/null || { log "go not found on PATH"; exit 3; }
    log "building corvid"
    (cd "$ROOT" && timeout 600 go build -o "$WORK/corvid-server" ./cmd/corvid) || { log "go build failed"; exit 3; }
    CORVID_BIN=$WORK/corvid-server
fi

ping() { [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]; }
port_busy() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }
start_server() { # name bin extra-args-string [env...]
    local name=$1 bin=$2 extra=$3; shift 3
    local dir=$WORK/$name try port p
    mkdir -p "$dir"
    for try in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_busy "$port" && continue
        # shellcheck disable=SC2086
        ( cd "$dir" && exec env "$@" "$bin" \
            --port "$port" --bind 127.0.0.1 --save '' --appendonly no $extra ) \
            >>"$dir/server.log" 2>&1 </dev/null &
        p=$!
        for _ in $(seq 100); do
            kill -0 "$p" 2>/dev/null || break
            ping "$port" && { PID[$name]=$p; PORT[$name]=$port; return 0; }
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    log "could not start $name ($bin); last log lines:"; tail -n 20 "$dir/server.log" >&2
    return 1
}

status_kb() { # pid field -> kB value of VmRSS/VmHWM from /proc/<pid>/status
    awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print "" }' "/proc/$1/status" 2>/dev/null
}
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }

BENCH=(redis-benchmark -h 127.0.0.1 -r "$KEYS" -d "$DATA_SIZE" -P "$PIPELINE" -c "$CLIENTS" -q)
if [ -n "$LOAD_COMMAND" ]; then
    read -r -a LOADARGS <<<"$LOAD_COMMAND"
else
    LOADARGS=(-t set)
fi

echo "# corvid: $CORVID_BIN (GOMAXPROCS=${CORVID_GOMAXPROCS:-default})"
echo "# redis:  $($REDIS_BIN --version | sed 's/ sha=.*//')"
echo "# load: ${BENCH[*]} -n $REQUESTS ${LOADARGS[*]}; count: $COUNT_COMMAND; overwrite ${DURATION}s; $(nproc) CPUs"

RESULTS=()
FAILED=0
measure() { # name
    local name=$1 pid port rss0 rss1 rss2 hwm keys est="" rc samples="" t0 left nap
    if [ "$name" = corvid ]; then
        local cenv=()
        [ -n "${CORVID_GOMAXPROCS:-}" ] && cenv+=("GOMAXPROCS=$CORVID_GOMAXPROCS")
        start_server corvid "$CORVID_BIN" "${CORVID_ARGS:-}" ${cenv[@]+"${cenv[@]}"} || exit 3
    else
        start_server redis "$REDIS_BIN" "${REDIS_ARGS:-}" || exit 3
    fi
    pid=${PID[$name]} port=${PORT[$name]}
    sleep 1
    rss0=$(status_kb "$pid" VmRSS)
    log "$name (pid $pid, port $port): RSS before $(mib "$rss0") MiB; loading"
    timeout -k 5 "$LOAD_TIMEOUT" "${BENCH[@]}" -p "$port" -n "$REQUESTS" "${LOADARGS[@]}" >"$WORK/load.out" 2>&1 </dev/null &
    CHILD=$!; wait "$CHILD"; rc=$?; CHILD=""
    if [ $rc != 0 ]; then
        log "$name: load exited $rc$([ $rc = 124 ] && echo " (timeout ${LOAD_TIMEOUT}s)")"
        tr '\r' '\n' <"$WORK/load.out" | grep . | tail -n 3 >&2
        FAILED=1
    else
        tr '\r' '\n' <"$WORK/load.out" | grep . | tail -n 1 | sed "s/^/memory.sh: $name load: /" >&2
    fi
    sleep 2
    rss1=$(status_kb "$pid" VmRSS)
    # shellcheck disable=SC2086
    keys=$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" $COUNT_COMMAND 2>/dev/null)
    if ! [[ $keys =~ ^[0-9]+$ ]]; then
        # DBSIZE unsupported: expected distinct keys of REQUESTS uniform draws over KEYS
        keys=$(awk -v k="$KEYS" -v n="$REQUESTS" 'BEGIN { printf "%.0f", k * (1 - exp(-n / k)) }'); est="~"
    fi
    rss2=$rss1
    if [ "$DURATION" -gt 0 ] && [ $rc = 0 ]; then
        log "$name: after load RSS $(mib "$rss1") MiB, $keys keys; overwriting for ${DURATION}s"
        timeout -k 5 "$DURATION" "${BENCH[@]}" -p "$port" -n 2000000000 "${LOADARGS[@]}" >/dev/null 2>&1 </dev/null &
        CHILD=$!
        t0=$SECONDS
        while kill -0 "$CHILD" 2>/dev/null; do
            left=$(( DURATION - (SECONDS - t0) ))
            nap=$(( left < SAMPLE ? left : SAMPLE )); [ "$nap" -ge 1 ] || nap=1
            sleep "$nap"
            kill -0 "$CHILD" 2>/dev/null || break
            samples="$samples $(mib "$(status_kb "$pid" VmRSS)")"
        done
        wait "$CHILD"; CHILD=""
        sleep 2
        rss2=$(status_kb "$pid" VmRSS)
        log "$name: RSS samples during overwrite (MiB):$samples"
        kill -0 "$pid" 2>/dev/null || { log "$name died during the overwrite phase"; FAILED=1; }
    fi
    hwm=$(status_kb "$pid" VmHWM)
    stop_server "$name"
    RESULTS+=("$name	$rss0	$rss1	$keys	$est	$rss2	$hwm")
}

measure corvid
measure redis

printf '%s\n' "${RESULTS[@]}" | awk -F'\t' -v dur="$DURATION" '
    function mb(k) { return k == "" ? "-" : sprintf("%.1f", k / 1024) }
    BEGIN { printf "%-7s %11s %11s %10s %10s %14s %11s %10s\n", "server", "rss0_MiB", "loaded_MiB", "keys",
                "bytes/key", "after_" dur "s_MiB", "growth_MiB", "peak_MiB" }
    {   bpk = ($2 != "" && $3 != "" && $4 > 0) ? ($3 - $2) * 1024 / $4 : ""
        B[$1] = bpk
        growth = ($3 != "" && $6 != "") ? sprintf("%+.1f", ($6 - $3) / 1024) : "-"
        printf "%-7s %11s %11s %10s %10s %14s %11s %10s\n", $1, mb($2), mb($3), $5 $4,
            bpk == "" ? "-" : sprintf("%.1f", bpk), mb($6), growth, mb($7) }
    END {
        if (B["corvid"] != "" && B["redis"] > 0) printf "bytes/key ratio corvid/redis: %.3f\n", B["corvid"] / B["redis"]
        else print "bytes/key ratio corvid/redis: -" }'
exit $FAILED
