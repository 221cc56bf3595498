#!/usr/bin/env bash
# compare.sh -- side-by-side redis-benchmark of Corvid and redis-server.
#
# Builds Corvid (go build -o TMP/corvid ./cmd/corvid, from the repo root), starts
# Corvid and redis-server with the same arguments (--port P --bind 127.0.0.1
# --save '' --appendonly no), each on its own free loopback port and in its own
# temp dir, then runs redis-benchmark against each in turn for R rounds (the
# order alternates every round: C,R then R,C ...) and prints one row per test:
# median ops/s of each, the ratio Corvid/Redis, and median p50/p99 latencies (ms,
# when redis-benchmark's --csv gives them, as 7.x does). The LAST line is the
# geometric mean of the ratios.
#
# Usage: bench/compare.sh [options]
#   -t, --tests LIST        redis-benchmark tests             (TESTS, default get,set,incr,mset)
#   -c, --clients N         parallel connections              (CLIENTS, default 50)
#   -n, --requests N        requests per test                 (REQUESTS, default 100000)
#   -P, --pipeline N        pipeline depth                    (PIPELINE, default 1)
#   -R, --rounds N          rounds per server                 (ROUNDS, default 5)
#   -d, --data-size N       SET/GET value size in bytes       (DATA_SIZE, default 3)
#   -r, --keyspace N        random keys in [0,N); unset = one key for all requests
#                                                             (KEYSPACE, default unset)
#       --threads N         redis-benchmark --threads         (BENCH_THREADS, default unset)
#       --cpu-pin           pin servers and benchmark client to disjoint CPUs with taskset
#                           (CPU_PIN=1; SERVER_CPUS / BENCH_CPUS override the default
#                           split: servers on the first half of the CPUs, client on the rest)
#       --timeout S         bound on each redis-benchmark run (BENCH_TIMEOUT, default 300)
#       --raw FILE          also write every round's numbers as TSV to FILE
#       --no-flush          do not FLUSHALL before each run
#       --tls               serve and benchmark over TLS only (TLS=1): throwaway CA and
#                           certificates (openssl), --port 0 --tls-port P, mutual TLS,
#                           redis-benchmark --tls; redis-server must be built with TLS
#   -h, --help
# Environment:
#   CORVID_BIN         use this server binary as "Corvid" and skip the build
#                      (e.g. CORVID_BIN=redis-server for a redis-vs-redis sanity run)
#   CORVID_GOMAXPROCS  GOMAXPROCS for Corvid (unset = Go's default)
#   REDIS_BIN          redis-server binary (default: redis-server on PATH)
#   CORVID_ARGS, REDIS_ARGS   extra server arguments (word-split), appended
#
# The MSET test of redis-benchmark sets 10 keys per command ("MSET (10 keys)").
# Exit status: 0 when every run produced numbers, 1 when some did not, 2 on usage
# errors, 3 when a server could not be started.
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

TESTS=${TESTS:-get,set,incr,mset}
CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-100000}
PIPELINE=${PIPELINE:-1}
ROUNDS=${ROUNDS:-5}
DATA_SIZE=${DATA_SIZE:-3}
KEYSPACE=${KEYSPACE:-}
BENCH_THREADS=${BENCH_THREADS:-}
CPU_PIN=${CPU_PIN:-0}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
RAW=""
FLUSH=1

while [ $# -gt 0 ]; do
    case "$1" in
        -t|--tests) TESTS=$2; shift 2;;
        -c|--clients) CLIENTS=$2; shift 2;;
        -n|--requests) REQUESTS=$2; shift 2;;
        -P|--pipeline) PIPELINE=$2; shift 2;;
        -R|--rounds) ROUNDS=$2; shift 2;;
        -d|--data-size) DATA_SIZE=$2; shift 2;;
        -r|--keyspace) KEYSPACE=$2; shift 2;;
        --threads) BENCH_THREADS=$2; shift 2;;
        --cpu-pin) CPU_PIN=1; shift;;
        --timeout) BENCH_TIMEOUT=$2; shift 2;;
        --raw) RAW=$2; shift 2;;
        --no-flush) FLUSH=0; shift;;
        --tls) TLS=1; shift;;
        -h|--help) usage 0;;
        *) echo "compare.sh: unknown argument: $1" >&2; usage 2;;
    esac
done

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in CLIENTS REQUESTS PIPELINE ROUNDS DATA_SIZE BENCH_TIMEOUT; do
    isnum "${!v}" || { echo "compare.sh: $v must be a number, got '${!v}'" >&2; exit 2; }
done
[ -z "$KEYSPACE" ] || isnum "$KEYSPACE" || { echo "compare.sh: bad keyspace '$KEYSPACE'" >&2; exit 2; }
[ -z "$BENCH_THREADS" ] || isnum "$BENCH_THREADS" || { echo "compare.sh: bad --threads" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] || { echo "compare.sh: rounds must be >= 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-compare.XXXXXX")
TLS=${TLS:-0}
CLI_TLS=() SERVER_TLS=""
if [ "$TLS" = 1 ]; then
    t=$WORK/tls; mkdir -p "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/ca.key" -out "$t/ca.crt" -days 2 -subj /CN=bench-ca 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout "$t/server.key" -out "$t/server.csr" -subj /CN=localhost 2>/dev/null &&
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 -out "$t/server.crt" 2>/dev/null ||
        { echo "compare.sh: --tls: could not make certificates (openssl)" >&2; exit 3; }
    CLI_TLS=(--tls --cacert "$t/ca.crt" --cert "$t/server.crt" --key "$t/server.key")
    SERVER_TLS="--tls-cert-file $t/server.crt --tls-key-file $t/server.key --tls-ca-cert-file $t/ca.crt"
fi
declare -A PID=() PORT=() DIR=()
CHILD=""

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

log() { echo "compare.sh: $*" >&2; }

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

# --- CPU pinning -------------------------------------------------------------
SERVER_PIN=() BENCH_PIN=()
if [ "$CPU_PIN" = 1 ]; then
    ncpu=$(nproc 2>/dev/null || echo 1)
    if ! command -v taskset >/dev/null; then
        log "--cpu-pin: taskset not found (util-linux), not pinning"
    elif [ -z "${SERVER_CPUS:-}" ] && [ "$ncpu" -lt 2 ]; then
        log "--cpu-pin: only $ncpu CPU, not pinning"
    else
        half=$(( ncpu / 2 ))
        SERVER_CPUS=${SERVER_CPUS:-0-$((half - 1))}
        BENCH_CPUS=${BENCH_CPUS:-$half-$((ncpu - 1))}
        SERVER_PIN=(taskset -c "$SERVER_CPUS")
        BENCH_PIN=(taskset -c "$BENCH_CPUS")
    fi
fi

# --- servers -----------------------------------------------------------------
ping() { # port -> true when PONG
    [ "$(timeout 3 redis-cli ${CLI_TLS[@]+"${CLI_TLS[@]}"} -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]
}
port_busy() { # port -> true when something accepts connections on 127.0.0.1:port
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}
start_server() { # name bin extra-args-string [env...]
    local name=$1 bin=$2 extra=$3; shift 3
    local dir=$WORK/$name try port p
    mkdir -p "$dir"
    for try in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_busy "$port" && continue
        # shellcheck disable=SC2086
        local ports="--port $port"
        [ "$TLS" = 1 ] && ports="--port 0 --tls-port $port $SERVER_TLS"
        # shellcheck disable=SC2086
        ( cd "$dir" && exec env "$@" ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} "$bin" \
            $ports --bind 127.0.0.1 --save '' --appendonly no $extra ) \
            >>"$dir/server.log" 2>&1 </dev/null &
        p=$!
        for _ in $(seq 100); do
            kill -0 "$p" 2>/dev/null || break
            ping "$port" && { PID[$name]=$p; PORT[$name]=$port; DIR[$name]=$dir; return 0; }
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    log "could not start $name ($bin); last log lines:"; tail -n 20 "$dir/server.log" >&2
    return 1
}

CENV=()
[ -n "${CORVID_GOMAXPROCS:-}" ] && CENV+=("GOMAXPROCS=$CORVID_GOMAXPROCS")
start_corvid() { start_server corvid "$CORVID_BIN" "${CORVID_ARGS:-}" ${CENV[@]+"${CENV[@]}"}; }
start_redis() { start_server redis "$REDIS_BIN" "${REDIS_ARGS:-}"; }
start_corvid || exit 3
start_redis || exit 3

BENCH=(redis-benchmark ${CLI_TLS[@]+"${CLI_TLS[@]}"} -h 127.0.0.1 -t "$TESTS" -c "$CLIENTS" -n "$REQUESTS" -P "$PIPELINE" -d "$DATA_SIZE" --csv)
[ -n "$KEYSPACE" ] && BENCH+=(-r "$KEYSPACE")
[ -n "$BENCH_THREADS" ] && BENCH+=(--threads "$BENCH_THREADS")

{
    echo "# corvid: $CORVID_BIN on 127.0.0.1:${PORT[corvid]} (GOMAXPROCS=${CORVID_GOMAXPROCS:-default})"
    echo "# redis:  $($REDIS_BIN --version | sed 's/ sha=.*//') on 127.0.0.1:${PORT[redis]}"
    echo "# $(nproc) CPUs; pinning: ${SERVER_PIN[*]:-none} (servers) ${BENCH_PIN[*]:-none} (client)"
    [ "$TLS" = 1 ] && echo "# over TLS (mutual, RSA 2048)"
    echo "# redis-benchmark -t $TESTS -c $CLIENTS -n $REQUESTS -P $PIPELINE -d $DATA_SIZE${KEYSPACE:+ -r $KEYSPACE}${BENCH_THREADS:+ --threads $BENCH_THREADS}; $ROUNDS rounds"
}

RES=$WORK/results.tsv   # server round test rps p50 p99
: > "$RES"
FAILED=0
run_one() { # name round
    local name=$1 round=$2 out=$WORK/run.csv rc
    if ! ping "${PORT[$name]}"; then
        log "$name stopped answering; restarting it"
        stop_server "$name"; "start_$name" || { FAILED=1; return 1; }
    fi
    [ "$FLUSH" = 1 ] && timeout 60 redis-cli ${CLI_TLS[@]+"${CLI_TLS[@]}"} -h 127.0.0.1 -p "${PORT[$name]}" FLUSHALL >/dev/null 2>&1
    ${BENCH_PIN[@]+"${BENCH_PIN[@]}"} timeout -k 5 "$BENCH_TIMEOUT" "${BENCH[@]}" -p "${PORT[$name]}" \
        >"$out" 2>"$WORK/run.err" </dev/null &
    CHILD=$!; wait "$CHILD"; rc=$?; CHILD=""
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    awk -v s="$name" -v r="$round" '
        { line=$0; sub(/\r$/, "", line); sub(/^"/, "", line); sub(/"$/, "", line)
          n = split(line, f, /","/) }
        NR == 1 && f[1] == "test" { for (i = 1; i <= n; i++) col[f[i]] = i; hdr = 1; next }
        n >= 2 && f[2] ~ /^[0-9.]+$/ {
            p50 = (hdr && ("p50_latency_ms" in col)) ? f[col["p50_latency_ms"]] : "-"
            p99 = (hdr && ("p99_latency_ms" in col)) ? f[col["p99_latency_ms"]] : "-"
            printf "%s\t%s\t%s\t%s\t%s\t%s\n", s, r, f[1], f[2], p50, p99 }' "$out" >>"$RES"
    if [ $rc != 0 ] || ! grep -q . "$out"; then
        log "round $round $name: redis-benchmark exited $rc$( [ $rc = 124 ] && echo " (timeout ${BENCH_TIMEOUT}s)")"
        sed 's/^/    /' "$WORK/run.err" | tail -n 5 >&2
        FAILED=1
    fi
}

for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="corvid redis"; else order="redis corvid"; fi
    for name in $order; do
        log "round $round/$ROUNDS: $name"
        run_one "$name" "$round"
    done
done

[ -n "$RAW" ] && { printf 'server\tround\ttest\trps\tp50_ms\tp99_ms\n'; cat "$RES"; } > "$RAW"

awk -F'\t' '
    function median(list,   a, n, i, j, t) {
        n = split(list, a, " ")
        if (n == 0) return ""
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(k, v) { if (v != "-" && v != "") L[k] = L[k] " " v }
    { if (!($3 in seen)) { seen[$3] = 1; order[++nt] = $3; if (length($3) > w) w = length($3) }
      add($1 SUBSEP $3 SUBSEP "rps", $4); add($1 SUBSEP $3 SUBSEP "p50", $5); add($1 SUBSEP $3 SUBSEP "p99", $6) }
    function m(s, t, what) { return median(L[s SUBSEP t SUBSEP what]) }
    function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }
    END {
        if (w < 16) w = 16
        printf "%-" w "s %12s %12s %8s %9s %9s %9s %9s\n", "test", "corvid_ops/s", "redis_ops/s", "ratio", "c_p50_ms", "r_p50_ms", "c_p99_ms", "r_p99_ms"
        for (i = 1; i <= nt; i++) {
            t = order[i]; c = m("corvid", t, "rps"); r = m("redis", t, "rps"); ratio = ""
            if (c != "" && r != "" && r > 0 && c > 0) { ratio = c / r; sl += log(ratio); k++ }
            printf "%-" w "s %12s %12s %8s %9s %9s %9s %9s\n", t, fmt(c, "%.0f"), fmt(r, "%.0f"), fmt(ratio, "%.3f"),
                fmt(m("corvid", t, "p50"), "%.3f"), fmt(m("redis", t, "p50"), "%.3f"),
                fmt(m("corvid", t, "p99"), "%.3f"), fmt(m("redis", t, "p99"), "%.3f")
        }
        if (k > 0) printf "geomean ratio corvid/redis: %.3f (%d tests)\n", exp(sl / k), k
        else print "geomean ratio corvid/redis: - (no test measured on both)"
    }' "$RES"

exit $FAILED
