#!/usr/bin/env bash
# zset_big.sh -- a sorted set of N members (default 10,000,000) in Corvid and
# in redis-server: resident memory per member, then the latency of ZREVRANK
# (random existing members) and ZREVRANGE 0 9 WITHSCORES under redis-benchmark,
# in ROUNDS alternating rounds (Corvid first in odd rounds, Redis first in even
# ones), with medians.
#
# Each round runs, per server, a closed loop of CLIENTS (default 50) and one of
# FEW_CLIENTS (default 10), plus PING at CLIENTS. A closed loop keeps the
# server saturated: with 50 clients each request waits behind the other 49, so
# the p99 at 50 is queueing, and PING at 50 shows that floor on this machine.
# At 10 clients the server runs at the same throughput with less in flight,
# and the p99 shows the command's own cost.
#
# Usage: bench/zset_big.sh [N]
# Environment: CORVID_BIN (skip the build), CORVID_GOMAXPROCS, REDIS_BIN,
# REQUESTS (per run, default 200000), ROUNDS (default 5), CLIENTS,
# FEW_CLIENTS.
set -uo pipefail
N=${1:-10000000}
REQUESTS=${REQUESTS:-200000}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-50}
FEW_CLIENTS=${FEW_CLIENTS:-10}
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

declare -A PORT
load() { # name bin: start the server, load the set, print memory per member
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
    PORT[$name]=$port
}
load corvid "$CORVID_BIN"
load redis "$REDIS_BIN"

# One run: prints "rps p99" from redis-benchmark's CSV line.
bench() { # port clients args...
    local port=$1 c=$2; shift 2
    timeout 300 redis-benchmark -p "$port" -c "$c" -n "$REQUESTS" -r "$N" --csv "$@" |
        tail -1 | awk '{ gsub(/"/, "", $0); n = split($0, f, ","); print f[2], f[7] }'
}
TESTS=("ZREVRANK c$CLIENTS" "ZREVRANGE c$CLIENTS" "PING c$CLIENTS" "ZREVRANK c$FEW_CLIENTS" "ZREVRANGE c$FEW_CLIENTS")
run_test() { # name test
    local port=${PORT[$1]} cmd=${2% *} c=${2##* c}
    case $cmd in
        ZREVRANK) bench "$port" "$c" ZREVRANK big m:__rand_int__ ;;
        ZREVRANGE) bench "$port" "$c" ZREVRANGE big 0 9 WITHSCORES ;;
        PING) bench "$port" "$c" PING ;;
    esac
}
declare -A RES
for r in $(seq "$ROUNDS"); do
    order=(corvid redis); [ $((r % 2)) = 0 ] && order=(redis corvid)
    for name in "${order[@]}"; do
        for t in "${TESTS[@]}"; do RES["$name|$t"]+="$(run_test "$name" "$t");"; done
    done
done
median() { tr ';' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
echo "# medians of $ROUNDS rounds, $REQUESTS requests per run"
printf '%-16s %12s %12s %12s %12s\n' test corvid_rps redis_rps corvid_p99 redis_p99
for t in "${TESTS[@]}"; do
    row=()
    for col in 1 2; do for name in corvid redis; do
        row+=("$(echo "${RES[$name|$t]}" | tr ';' '\n' | awk -v c=$col 'NF { split($0, f, " "); print f[c] }' | median)")
    done; done
    printf '%-16s %12s %12s %12s %12s\n' "$t" "${row[0]}" "${row[1]}" "${row[2]}" "${row[3]}"
done
echo "# p99 per round (ms): "
for t in "${TESTS[@]}"; do for name in corvid redis; do
    echo "$name $t: $(echo "${RES[$name|$t]}" | tr ';' '\n' | awk 'NF { printf "%s ", $2 }')"
done; done
