#!/usr/bin/env bash
# zset_big.sh -- a sorted set of N members (default 10,000,000) in Corvid and
# in redis-server, one server at a time: resident memory per member, then the
# latency of ZREVRANK (random existing members) and ZREVRANGE 0 9 WITHSCORES
# under redis-benchmark (50 clients, bounded request counts).
#
# Usage: bench/zset_big.sh [N]
# Environment: CORVID_BIN (skip the build), CORVID_GOMAXPROCS, REDIS_BIN,
# REQUESTS (per latency test, default 200000).
set -uo pipefail
N=${1:-10000000}
REQUESTS=${REQUESTS:-200000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-zbig.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
REDIS_BIN=${REDIS_BIN:-redis-server}
if [ -z "${CORVID_BIN:-}" ]; then
    (cd "$ROOT" && go build -o "$WORK/corvid-server" ./cmd/corvid) || exit 3
    CORVID_BIN=$WORK/corvid-server
fi
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# The load: ZADD big <n> m:<n, 12 digits> in commands of 1000 members, as
# the RESP protocol redis-cli --pipe sends. Member names match
# redis-benchmark's __rand_int__ (12 zero-padded digits).
gen() {
    awk -v n="$N" 'BEGIN {
        for (b = 0; b * 1000 < n; b++) {
            k = (n - b * 1000 < 1000) ? n - b * 1000 : 1000
            printf "*%d\r\n$4\r\nZADD\r\n$3\r\nbig\r\n", 2 + 2 * k
            for (i = 0; i < k; i++) {
                x = b * 1000 + i; s = x ""; m = sprintf("m:%012d", x)
                printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(s), s, length(m), m
            }
        }
    }'
}
gen >"$WORK/load.resp"

run() { # name bin
    local name=$1 bin=$2 port pid rss0 rss1
    port=$(( 20000 + RANDOM % 30000 ))
    mkdir -p "$WORK/$name"
    local envs=()
    [ "$name" = corvid ] && [ -n "${CORVID_GOMAXPROCS:-}" ] && envs+=("GOMAXPROCS=$CORVID_GOMAXPROCS")
    (cd "$WORK/$name" && exec env ${envs[@]+"${envs[@]}"} "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no) >"$WORK/$name/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    sleep 1
    rss0=$(rss_kb "$pid")
    timeout 900 redis-cli -p "$port" --pipe <"$WORK/load.resp" >/dev/null
    sleep 2
    rss1=$(rss_kb "$pid")
    local card; card=$(redis-cli -p "$port" zcard big)
    echo "$name: members=$card rss_loaded_MiB=$(( rss1 / 1024 )) bytes/member=$(( (rss1 - rss0) * 1024 / card ))"
    redis-benchmark -p "$port" -c 50 -n "$REQUESTS" -r "$N" --csv ZREVRANK big m:__rand_int__ | tail -1 | sed "s/^/$name ZREVRANK: /"
    redis-benchmark -p "$port" -c 50 -n "$REQUESTS" --csv ZREVRANGE big 0 9 WITHSCORES | tail -1 | sed "s/^/$name ZREVRANGE 0 9: /"
    kill "$pid"; wait "$pid" 2>/dev/null
}
echo "# csv columns: test, rps, avg_ms, min_ms, p50_ms, p95_ms, p99_ms, max_ms"
run corvid "$CORVID_BIN"
run redis "$REDIS_BIN"
