#!/usr/bin/env bash
# custom.sh -- side-by-side redis-benchmark of one arbitrary command against
# Corvid and redis-server, alternating rounds, medians. For commands
# redis-benchmark has no -t test for: PUBLISH (with subscribers attached),
# EVALSHA (the script loaded first), XADD…
#
# Usage: bench/custom.sh [-P N] [-n N] [-c N] [-R rounds] [--setup "CMD"]
#                        [--subscribe CHANNEL] -- COMMAND ARGS...
#   --setup CMD       run once on each server before the rounds (word-split);
#                     the literal SHA1 in COMMAND may be written as {sha},
#                     replaced by the reply of the setup command
#   --subscribe CH    keep one redis-cli subscriber on CH attached to each
# Environment: CORVID_BIN (skip the build), CORVID_GOMAXPROCS, REDIS_BIN.
set -uo pipefail
P=1 N=200000 C=50 R=5 SETUP="" SUB=""
while [ $# -gt 0 ]; do
    case "$1" in
        -P) P=$2; shift 2;; -n) N=$2; shift 2;; -c) C=$2; shift 2;; -R) R=$2; shift 2;;
        --setup) SETUP=$2; shift 2;; --subscribe) SUB=$2; shift 2;;
        --) shift; break;;
        *) echo "custom.sh: unknown argument $1" >&2; exit 2;;
    esac
done
[ $# -gt 0 ] || { echo "custom.sh: no command" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-custom.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
if [ -z "${CORVID_BIN:-}" ]; then
    (cd "$ROOT" && go build -o "$WORK/corvid-server" ./cmd/corvid) || exit 3
    CORVID_BIN=$WORK/corvid-server
fi
declare -A PORT CMD
start() { # name bin [env]
    local port=$(( 20000 + RANDOM % 30000 ))
    mkdir -p "$WORK/$1"
    (cd "$WORK/$1" && exec env ${3:-X=1} "$2" --port "$port" --bind 127.0.0.1 --save '' --appendonly no) >"$WORK/$1/log" 2>&1 &
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    PORT[$1]=$port
    local args=("$@"); local cmd="${*:4}"
    CMD[$1]=""
    if [ -n "$SETUP" ]; then
        # shellcheck disable=SC2086
        local sha; sha=$(redis-cli -p "$port" $SETUP)
        CMD[$1]=$sha
    fi
    if [ -n "$SUB" ]; then
        # A subscriber that reads as fast as the socket delivers: redis-cli
        # formats every message and falls behind a pipelined PUBLISH, and
        # either server then cuts it off at the pubsub output limit, after
        # which PUBLISH has nobody to deliver to.
        ( exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'SUBSCRIBE %s\r\n' "$SUB" >&3 && exec cat <&3 >/dev/null ) &
    fi
}
start corvid "$CORVID_BIN" "${CORVID_GOMAXPROCS:+GOMAXPROCS=$CORVID_GOMAXPROCS}"
start redis "${REDIS_BIN:-redis-server}"
sleep 0.5
declare -A RES
for round in $(seq "$R"); do
    order="corvid redis"; [ $((round % 2)) = 0 ] && order="redis corvid"
    for name in $order; do
        args=()
        for a in "$@"; do args+=("${a//\{sha\}/${CMD[$name]}}"); done
        rps=$(redis-benchmark -p "${PORT[$name]}" -c "$C" -n "$N" -P "$P" -r 100000 --csv "${args[@]}" | tail -1 | cut -d, -f2 | tr -d '"')
        RES[$name]="${RES[$name]:-} $rps"
    done
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c=$(echo "${RES[corvid]}" | med); r=$(echo "${RES[redis]}" | med)
echo "command: $* (-P $P, -c $C, -n $N, $R rounds; corvid GOMAXPROCS=${CORVID_GOMAXPROCS:-default})"
echo "corvid rounds:${RES[corvid]}"
echo "redis  rounds:${RES[redis]}"
awk -v c="$c" -v r="$r" 'BEGIN { printf "median corvid %.0f  redis %.0f  ratio %.3f\n", c, r, c / r }'
if [ -n "$SUB" ]; then
    # A subscriber cut off mid-run makes the figures meaningless: say so.
    for name in corvid redis; do
        echo "$name subscribers on $SUB at the end: $(redis-cli -p "${PORT[$name]}" pubsub numsub "$SUB" | tail -1)"
    done
fi
