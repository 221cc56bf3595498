#!/usr/bin/env bash
# snapshot-latency.sh -- what a client sees while the server persists in the
# background (BGSAVE, a replica's full resync, an AOF rewrite): Corvid and
# redis-server side by side.
#
# For each server in turn (one running at a time; Corvid first in odd rounds,
# redis-server first in even ones), started as
#   SERVER --port P --bind 127.0.0.1 --save '' --appendonly no --dir D
#          --dbfilename dump.rdb --repl-diskless-sync-delay 0
#          --auto-aof-rewrite-percentage 0
# on a free loopback port in its own temp dir:
#   1. load KEYS strings key:000000000000 .. key:<KEYS-1> (the names
#      redis-benchmark -r KEYS draws, so every GET hits and no SET adds a key)
#      of DATA_SIZE-byte incompressible values, and a sorted set "zbig" of
#      ZSET_MEMBERS members, as MSET/ZADD batches of 1000 through redis-cli
#      --pipe; DBSIZE and ZCARD are checked;
#   2. run the load with no background work ("base"): redis-benchmark -t set
#      and -t get at the same time, CLIENTS/2 connections each (CLIENTS in all),
#      REQUESTS requests each, -r KEYS -d DATA_SIZE --csv (two processes, not
#      one -t get,set, which runs SET then GET: the operation would overlap
#      the SET run only). Meanwhile a probe client GETs one key 100 times a
#      second, recording its longest wait, and the server's PSS is sampled
#      every PSS_INTERVAL s: Pss of the server plus its child processes (a
#      fork's copied pages count; shared pages are split, not counted twice);
#   3. run the same load again for each case, and OP_DELAY seconds after it
#      starts, start the background operation and wait for its end (polling
#      INFO every 0.1 s, however long the load lasts, up to OP_TIMEOUT):
#        bgsave    BGSAVE; ends at rdb_bgsave_in_progress:0
#        fullsync  REPLICAOF 127.0.0.1 P sent to a second, empty instance of
#                  the same server (started before the load, own port and
#                  dir); ends when the primary lists the replica state=online
#                  and the replica has master_link_status:up. The primary is
#                  measured. Given up as "resync" once the primary begins a
#                  second full sync (the first failed: the replica was
#                  dropped, e.g. by the output buffer limit, and came back).
#        aofon     CONFIG SET appendonly yes (a rewrite); ends when the reply
#                  came and aof_rewrite_in_progress and aof_rewrite_scheduled
#                  are 0 and aof_enabled is 1
#        aofrw     BGREWRITEAOF with appendonly on; same end. Selecting it runs
#                  aofon first if not selected (appendonly must be on), then
#                  "aofbase", the load with appendonly on and no operation,
#                  the baseline of aofrw.
#      A command that answers only when done (Corvid's BGREWRITEAOF, CONFIG
#      SET appendonly) counts until its reply too.
# Prints one row per server and case (medians over rounds): p99 and max
# latency (ms) of GET and SET, p99 ratio to the baseline, max minus the
# baseline's max (ms), the probe's longest GET, PSS just before the operation
# started and its peak during the operation (MiB), peak/before, the
# operation's duration (s), the total ops/s, and the acceptance check:
# "pass", or what failed of p99 <= 1.5x base, max <= base + 10 ms, PSS peak
# <= 1.1x before, the operation finished. bgsave, fullsync and aofon compare
# with "base", aofrw with "aofbase". The base rows give the noise floor: PSS
# before = at OP_DELAY, peak = over the rest of the load. Notes:
#   bench-max-capped-3s  redis-benchmark's latency histogram ends at 3 s, so a
#                        max of ~3000 ms means 3 s or more; see probe_max_ms
#   op-outlasted-load    the operation ended after the load: the figures miss
#                        its end (raise --requests)
#   full-syncs=N         the primary began N full syncs in the fullsync case
#   bench-failed         a redis-benchmark run failed or timed out: no figures
#
# Usage: bench/snapshot-latency.sh [options]
#   -k, --keys N            string keys                        (KEYS, default 5000000)
#   -z, --zset-members N    members of the sorted set          (ZSET_MEMBERS, default 1000000)
#   -d, --data-size N       value size in bytes                (DATA_SIZE, default 100)
#   -n, --requests N        requests per command (GET, SET) per run
#                                                              (REQUESTS, default 2000000: ~40 s
#                                                              at ~50k/s each on 2 cores, as long
#                                                              as Redis's BGSAVE or full sync of
#                                                              the default data under this load)
#   -c, --clients N         connections in all                 (CLIENTS, default 10)
#   -R, --rounds N          rounds; > 1 reports medians        (ROUNDS, default 1)
#       --cases LIST        comma-separated, of bgsave,fullsync,aofon,aofrw
#                                                              (CASES, default bgsave,fullsync,aofrw)
#       --servers LIST      of corvid,redis                    (SERVERS, default corvid,redis)
#       --serial            one redis-benchmark -t set,get -c CLIENTS (SET run, then GET
#                           run) instead of the two at once: the operation then overlaps
#                           the SET run mostly                 (LOAD_MODE=serial)
#       --op-delay S        seconds from load start to operation start (OP_DELAY, default 1)
#       --pss-interval S    PSS sampling interval              (PSS_INTERVAL, default 0.1)
#       --settle S          pause between runs                 (SETTLE, default 3)
#       --no-purge          no MEMORY PURGE before each run    (PURGE=0)
#       --timeout S         bound on each redis-benchmark run  (BENCH_TIMEOUT, default 900)
#       --op-timeout S      bound on each operation            (OP_TIMEOUT, default 300)
#       --load-timeout S    bound on the initial load          (LOAD_TIMEOUT, default 900)
#       --quick             smoke run: KEYS=200000 ZSET_MEMBERS=50000 REQUESTS=150000
#                           (options given after --quick still apply)
#       --out FILE          also write the table as TSV to FILE
#       --raw FILE          also write every run's numbers as TSV to FILE
#   -h, --help
# Environment:
#   CORVID_BIN         use this binary as Corvid and skip the build
#                      (go build -o TMP/corvid ./cmd/corvid from the repo root)
#   CORVID_GOMAXPROCS  GOMAXPROCS for Corvid (primary and replica; unset = Go's default)
#   REDIS_BIN          redis-server binary (default /usr/bin/redis-server, else
#                      redis-server on PATH), e.g. a 7.2.4 build's src/redis-server
#   CORVID_ARGS, REDIS_ARGS   extra server arguments (word-split), appended
#   REPLICA_NICE       niceness of the fullsync replica, either server (default 0).
#                      In production the replica loads on another machine; here
#                      it shares the primary's cores, and its load (all CPU)
#                      preempts the primary's threads. 19 measures the primary
#                      with the replica as a background consumer.
# Needs redis-cli, redis-benchmark (7.x: --csv with latency columns), python3.
# Memory: with the defaults each server holds ~1 GiB, a fork or snapshot up to
# as much again, and the fullsync replica as much again.
# Exit status: 0 when every run produced numbers and every operation finished,
# 1 otherwise, 2 on usage errors, 3 when a server could not be started or loaded.
set -uo pipefail
export LC_ALL=C

usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

KEYS=${KEYS:-5000000}
ZSET_MEMBERS=${ZSET_MEMBERS:-1000000}
DATA_SIZE=${DATA_SIZE:-100}
REQUESTS=${REQUESTS:-2000000}
CLIENTS=${CLIENTS:-10}
ROUNDS=${ROUNDS:-1}
CASES=${CASES:-bgsave,fullsync,aofrw}
SERVERS=${SERVERS:-corvid,redis}
LOAD_MODE=${LOAD_MODE:-split}
OP_DELAY=${OP_DELAY:-1}
PSS_INTERVAL=${PSS_INTERVAL:-0.1}
SETTLE=${SETTLE:-3}
PURGE=${PURGE:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
OP_TIMEOUT=${OP_TIMEOUT:-300}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-900}
OUT=""
RAW=""

while [ $# -gt 0 ]; do
    case "$1" in
        -k|--keys) KEYS=$2; shift 2;;
        -z|--zset-members) ZSET_MEMBERS=$2; shift 2;;
        -d|--data-size) DATA_SIZE=$2; shift 2;;
        -n|--requests) REQUESTS=$2; shift 2;;
        -c|--clients) CLIENTS=$2; shift 2;;
        -R|--rounds) ROUNDS=$2; shift 2;;
        --cases) CASES=$2; shift 2;;
        --servers) SERVERS=$2; shift 2;;
        --serial) LOAD_MODE=serial; shift;;
        --op-delay) OP_DELAY=$2; shift 2;;
        --pss-interval) PSS_INTERVAL=$2; shift 2;;
        --settle) SETTLE=$2; shift 2;;
        --no-purge) PURGE=0; shift;;
        --timeout) BENCH_TIMEOUT=$2; shift 2;;
        --op-timeout) OP_TIMEOUT=$2; shift 2;;
        --load-timeout) LOAD_TIMEOUT=$2; shift 2;;
        --quick) KEYS=200000; ZSET_MEMBERS=50000; REQUESTS=150000; shift;;
        --out) OUT=$2; shift 2;;
        --raw) RAW=$2; shift 2;;
        -h|--help) usage 0;;
        *) echo "snapshot-latency.sh: unknown argument: $1" >&2; usage 2;;
    esac
done

die2() { echo "snapshot-latency.sh: $*" >&2; exit 2; }
for v in KEYS ZSET_MEMBERS DATA_SIZE REQUESTS CLIENTS ROUNDS BENCH_TIMEOUT OP_TIMEOUT LOAD_TIMEOUT SETTLE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die2 "$v must be a number, got '${!v}'"
done
for v in OP_DELAY PSS_INTERVAL; do
    [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || die2 "$v must be a number of seconds, got '${!v}'"
done
[ "$KEYS" -ge 1 ] || die2 "keys must be >= 1"
[ "$ROUNDS" -ge 1 ] || die2 "rounds must be >= 1"
[ "$CLIENTS" -ge 1 ] || die2 "clients must be >= 1"
[ "$CLIENTS" -ge 2 ] || LOAD_MODE=serial
case $LOAD_MODE in split|serial) ;; *) die2 "LOAD_MODE must be split or serial";; esac
WANT=() # the runs, in order, after base
for c in ${CASES//,/ }; do
    case $c in bgsave|fullsync|aofon|aofrw) ;; *) die2 "unknown case '$c' (bgsave,fullsync,aofon,aofrw)";; esac
done
has_case() { [[ ,$CASES, == *,$1,* ]]; }
for c in bgsave fullsync; do has_case $c && WANT+=("$c"); done
{ has_case aofon || has_case aofrw; } && WANT+=(aofon)
has_case aofrw && WANT+=(aofbase aofrw)
KINDS=()
for s in ${SERVERS//,/ }; do
    case $s in corvid|redis) KINDS+=("$s");; *) die2 "unknown server '$s' (corvid,redis)";; esac
done
[ ${#KINDS[@]} -ge 1 ] || die2 "no servers"
[ -z "$OUT" ] || : >>"$OUT" 2>/dev/null || die2 "cannot write $OUT"
[ -z "$RAW" ] || : >>"$RAW" 2>/dev/null || die2 "cannot write $RAW"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/corvid-snaplat.XXXXXX")
declare -A PID=() PORT=() DIR=()
BG=() # background jobs (benchmarks, operation clients, sampler) to end on exit

log() { echo "snapshot-latency.sh: $*" >&2; }

stop_server() { # instance
    local p=${PID[$1]:-}
    [ -n "$p" ] || return 0
    local kids; kids=$(pgrep -P "$p" 2>/dev/null) # a forked child (BGSAVE, rewrite) may outlive it
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    PID[$1]=""
    # shellcheck disable=SC2086
    [ -n "$kids" ] && kill -KILL $kids 2>/dev/null
    [ -n "${DIR[$1]:-}" ] && rm -rf "${DIR[$1]}"
    DIR[$1]=""
}
end_bg() {
    local j
    for j in ${BG[@]+"${BG[@]}"}; do kill -TERM "$j" 2>/dev/null; done
    for j in ${BG[@]+"${BG[@]}"}; do wait "$j" 2>/dev/null; done
    BG=()
}
cleanup() {
    end_bg
    local i
    for i in "${!PID[@]}"; do stop_server "$i"; done
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

if [ -z "${REDIS_BIN:-}" ]; then
    REDIS_BIN=redis-server
    [ -x /usr/bin/redis-server ] && REDIS_BIN=/usr/bin/redis-server
fi
if ! command -v redis-benchmark >/dev/null || ! command -v redis-cli >/dev/null ||
   { [[ " ${KINDS[*]} " == *" redis "* ]] && ! command -v "$REDIS_BIN" >/dev/null; }; then
    install_redis
fi
command -v python3 >/dev/null || { log "python3 not found"; exit 3; }
declare -A BIN=() LABEL=() XARGS=()
if [[ " ${KINDS[*]} " == *" redis "* ]]; then
    command -v "$REDIS_BIN" >/dev/null || { log "no $REDIS_BIN"; exit 3; }
    BIN[redis]=$REDIS_BIN
    LABEL[redis]=redis-$("$REDIS_BIN" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
    XARGS[redis]=${REDIS_ARGS:-}
fi
if [[ " ${KINDS[*]} " == *" corvid "* ]]; then
    if [ -n "${CORVID_BIN:-}" ]; then
        command -v "$CORVID_BIN" >/dev/null || { log "CORVID_BIN=$CORVID_BIN not found"; exit 3; }
    else
        command -v go >/dev/null || { log "go not found on PATH"; exit 3; }
        log "building corvid"
        (cd "$ROOT" && timeout 600 go build -o "$WORK/corvid" ./cmd/corvid) || { log "go build failed"; exit 3; }
        CORVID_BIN=$WORK/corvid
    fi
    BIN[corvid]=$CORVID_BIN
    LABEL[corvid]=corvid
    XARGS[corvid]=${CORVID_ARGS:-}
fi

# --- helpers written to WORK ---------------------------------------------------
# gen.py N Z SIZE: the load as RESP commands on stdout, for redis-cli --pipe.
# Values are slices of a random hex pool (LZF does not shrink them).
cat >"$WORK/gen.py" <<'EOF'
import os, sys
n, z, size, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 1000
pool = os.urandom(max(1 << 16, size)).hex().encode()
span = len(pool) - size
out = sys.stdout.buffer
vhead = b"$%d\r\n" % size
for b in range(0, n, batch):
    k = min(batch, n - b)
    parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * k)]
    for i in range(b, b + k):
        o = (i * 97) % span
        key = b"key:%012d" % i
        parts.append(b"$%d\r\n%s\r\n%s%s\r\n" % (len(key), key, vhead, pool[o:o + size]))
    out.write(b"".join(parts))
for b in range(0, z, batch):
    k = min(batch, z - b)
    parts = [b"*%d\r\n$4\r\nZADD\r\n$4\r\nzbig\r\n" % (2 + 2 * k)]
    for i in range(b, b + k):
        s, m = b"%d" % i, b"m:%012d" % i
        parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(s), s, len(m), m))
    out.write(b"".join(parts))
EOF
# pss.py PID INTERVAL FILE: appends "unix-time total-kB pid-kB children full"
# lines until PID is gone or the sampler is killed. total = Pss of PID plus
# that of its children: a fork shares pages and Pss splits them, so the sum
# is what parent and child use together. smaps_rollup walks the page tables
# (~25 ms per GiB mapped), too dear to read 10 times a second, so while PID
# has no children its Pss is taken as VmRSS (a counter in /proc/PID/status)
# minus its shared part (Rss - Pss), read from smaps_rollup at most every 2 s;
# while it has children, parent and children are read in full, no more than a
# third of the time (the interval stretches to 3x the reading's cost).
cat >"$WORK/pss.py" <<'EOF'
import os, sys, time, signal
pid, interval, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
def rollup(p):  # (Rss, Pss) in kB
    rss = pss = None
    try:
        with open("/proc/%d/smaps_rollup" % p, "rb") as f:
            for line in f:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None if rss is None or pss is None else (rss, pss)
def vmrss(p):
    try:
        with open("/proc/%d/status" % p, "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None
def children(p):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
            if int(s[s.rindex(b")") + 2:].split()[1]) == p:
                kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids
shared, last_full = None, 0.0
with open(path, "a", buffering=1) as f:
    while True:
        t = time.time()
        kids = children(pid)
        full = bool(kids) or shared is None or t - last_full >= 2.0
        if full:
            r = rollup(pid)
            if r is None:
                break
            shared, last_full, main = r[0] - r[1], t, r[1]
            kidpss = [k[1] for k in (rollup(c) for c in kids) if k is not None]
        else:
            v = vmrss(pid)
            if v is None:
                break
            main, kidpss = v - shared, []
        cost = time.time() - t
        f.write("%.3f %d %d %d %d\n" % (t, main + sum(kidpss), main, len(kidpss), full))
        time.sleep(max(interval - cost, 2 * cost if kids else 0.0))
EOF
# probe.py PORT KEY INTERVAL FILE: one more client, GET KEY every INTERVAL s;
# on exit writes "max-ms requests over-10ms over-100ms over-1s" to FILE. Its
# max is not capped: redis-benchmark's latency histogram stops at 3 s (a
# longer stall shows there as max 3000 ms). A request still unanswered at the
# end counts with its age.
cat >"$WORK/probe.py" <<'EOF'
import socket, sys, time, signal
port, key, interval, path = int(sys.argv[1]), sys.argv[2].encode(), float(sys.argv[3]), sys.argv[4]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
req = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)
mx, n, over, sent = 0.0, 0, [0, 0, 0], None
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(None)
    r = s.makefile("rb")
    while True:
        sent = time.monotonic()
        s.sendall(req)
        line = r.readline()
        if not line:
            break
        if line[:1] == b"$" and int(line[1:]) >= 0:
            r.read(int(line[1:]) + 2)
        d, sent = time.monotonic() - sent, None
        n += 1
        mx = max(mx, d)
        for i, lim in enumerate((0.01, 0.1, 1.0)):
            over[i] += d > lim
        time.sleep(interval)
finally:
    if sent is not None:
        mx = max(mx, time.monotonic() - sent)
    with open(path, "w") as f:
        f.write("%.3f %d %d %d %d\n" % (mx * 1000, n, over[0], over[1], over[2]))
EOF

# --- servers -------------------------------------------------------------------
cli() { # port args... (bounded)
    local port=$1; shift
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}
ping() { [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]; }
port_busy() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }
info_field() { # port section field
    cli "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print substr($0, length(f) + 2); exit }'
}
start_server() { # instance kind
    local name=$1 kind=$2 dir=$WORK/$1 try port p envs=() niceness=0
    mkdir -p "$dir"
    [ "$kind" = corvid ] && [ -n "${CORVID_GOMAXPROCS:-}" ] && envs+=("GOMAXPROCS=$CORVID_GOMAXPROCS")
    [ "$name" = replica ] && niceness=${REPLICA_NICE:-0}
    for try in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_busy "$port" && continue
        # shellcheck disable=SC2086
        ( cd "$dir" && exec nice -n "$niceness" env ${envs[@]+"${envs[@]}"} "${BIN[$kind]}" \
            --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir" --dbfilename dump.rdb --repl-diskless-sync-delay 0 \
            --auto-aof-rewrite-percentage 0 ${XARGS[$kind]} ) \
            >>"$dir/server.log" 2>&1 </dev/null &
        p=$!
        for _ in $(seq 100); do
            kill -0 "$p" 2>/dev/null || break
            ping "$port" && { PID[$name]=$p; PORT[$name]=$port; DIR[$name]=$dir; return 0; }
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    log "could not start $name (${BIN[$kind]}); last log lines:"; tail -n 20 "$dir/server.log" >&2
    return 1
}

load_data() { # instance
    local port=${PORT[$1]} rc n z t0=$EPOCHREALTIME
    timeout -k 5 "$LOAD_TIMEOUT" bash -c 'python3 "$1" "$2" "$3" "$4" | redis-cli -h 127.0.0.1 -p "$5" --pipe' \
        _ "$WORK/gen.py" "$KEYS" "$ZSET_MEMBERS" "$DATA_SIZE" "$port" >"$WORK/load.out" 2>&1 </dev/null &
    BG=("$!"); wait "$!"; rc=$?; BG=()
    n=$(cli "$port" DBSIZE); z=$(cli "$port" ZCARD zbig)
    local want=$(( KEYS + (ZSET_MEMBERS > 0 ? 1 : 0) ))
    if [ $rc != 0 ] || [ "$n" != "$want" ] || [ "$z" != "$ZSET_MEMBERS" ]; then
        log "$1: load failed (exit $rc, DBSIZE '$n' of $want, ZCARD '$z' of $ZSET_MEMBERS)"
        tail -n 5 "$WORK/load.out" >&2
        return 1
    fi
    log "$1: loaded $KEYS keys + zset of $ZSET_MEMBERS in $(secs "$t0" "$EPOCHREALTIME") s;" \
        "used_memory $(info_field "$port" memory used_memory_human)"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- one run: the load, and the operation started OP_DELAY s into it -----------
# start_load port: the redis-benchmark processes in the background (LOADJOBS),
# their CSVs to WORK/run.{set,get,all}.csv.
start_load() { # port
    local port=$1 common=(-h 127.0.0.1 -p "$1" -r "$KEYS" -d "$DATA_SIZE" -n "$REQUESTS" --csv)
    rm -f "$WORK"/run.*.csv
    if [ "$LOAD_MODE" = split ]; then
        timeout -k 5 "$BENCH_TIMEOUT" redis-benchmark "${common[@]}" -c $(( (CLIENTS + 1) / 2 )) -t set \
            >"$WORK/run.set.csv" 2>"$WORK/run.set.err" </dev/null &
        LOADJOBS=("$!")
        timeout -k 5 "$BENCH_TIMEOUT" redis-benchmark "${common[@]}" -c $(( CLIENTS / 2 )) -t get \
            >"$WORK/run.get.csv" 2>"$WORK/run.get.err" </dev/null &
        LOADJOBS+=("$!")
    else
        timeout -k 5 "$BENCH_TIMEOUT" redis-benchmark "${common[@]}" -c "$CLIENTS" -t set,get \
            >"$WORK/run.all.csv" 2>"$WORK/run.all.err" </dev/null &
        LOADJOBS=("$!")
    fi
    BG+=("${LOADJOBS[@]}")
}
load_running() { local j; for j in "${LOADJOBS[@]}"; do kill -0 "$j" 2>/dev/null && return 0; done; return 1; }
wait_load() { # -> 0 when every benchmark exited 0
    local j rc=0 r
    for j in "${LOADJOBS[@]}"; do
        wait "$j"; r=$?
        [ $r = 0 ] || { rc=$r; log "redis-benchmark exited $r$([ $r = 124 ] && echo " (timeout ${BENCH_TIMEOUT}s)")"; }
    done
    return $rc
}

# op_start case: launches the operation's command in the background (OPJOB).
op_start() {
    local port=${PORT[primary]}
    case $1 in
        bgsave)   set -- BGSAVE;;
        aofon)    set -- CONFIG SET appendonly yes;;
        aofrw)    set -- BGREWRITEAOF;;
        fullsync) port=${PORT[replica]}; set -- REPLICAOF 127.0.0.1 "${PORT[primary]}";;
    esac
    timeout -k 5 "$OP_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" "$@" >"$WORK/op.out" 2>&1 </dev/null &
    OPJOB=$!; BG+=("$OPJOB")
}
# op_done case -> 0 when the operation is over (its command answered too)
op_done() {
    local p=${PORT[primary]}
    kill -0 "$OPJOB" 2>/dev/null && return 1
    case $1 in
        bgsave) [ "$(info_field "$p" persistence rdb_bgsave_in_progress)" = 0 ];;
        aofon|aofrw)
            local info; info=$(cli "$p" INFO persistence | tr -d '\r')
            grep -qx 'aof_rewrite_in_progress:0' <<<"$info" && grep -qx 'aof_rewrite_scheduled:0' <<<"$info" &&
                grep -qx 'aof_enabled:1' <<<"$info";;
        fullsync)
            cli "$p" INFO replication | tr -d '\r' | grep -q '^slave0:.*state=online' &&
                [ "$(info_field "${PORT[replica]}" replication master_link_status)" = up ];;
    esac
}
# op_ok case -> 0 when the operation reports success
op_ok() {
    local p=${PORT[primary]} reply
    reply=$(tr -d '\r' <"$WORK/op.out")
    case $1 in
        bgsave) [[ $reply == "Background saving started"* ]] &&
                [ "$(info_field "$p" persistence rdb_last_bgsave_status)" = ok ];;
        aofon) [ "$reply" = OK ] && [ "$(info_field "$p" persistence aof_last_bgrewrite_status)" = ok ];;
        aofrw) [[ $reply == "Background append only file rewriting"* ]] &&
               [ "$(info_field "$p" persistence aof_last_bgrewrite_status)" = ok ];;
        fullsync) [ "$reply" = OK ];;
    esac
}

# pss_window file from to -> "before peak": the last sample at or before
# "from" (else the first one), and the largest from "from" to "to" (at least
# the first sample after "from").
pss_window() {
    awk -v a="$1" -v b="$2" '
        { t = $1 + 0; v = $2 + 0 }
        t <= a { before = v; next }
        { if (before == "") before = v
          if (t <= b || !seen) { if (v > peak) peak = v; seen = 1 } }
        END { if (before == "") before = "-"; if (peak == "") peak = "-"; print before, peak }' "$3"
}

# csv_fields file test -> "rps p50 p99 max" of that test in redis-benchmark's CSV
csv_fields() {
    awk -v want="$2" '
        { line = $0; sub(/\r$/, "", line); sub(/^"/, "", line); sub(/"$/, "", line); n = split(line, f, /","/) }
        f[1] == "test" { for (i = 1; i <= n; i++) col[f[i]] = i; next }
        f[1] == want {
            printf "%s %s %s %s\n", f[2], ("p50_latency_ms" in col) ? f[col["p50_latency_ms"]] : "-",
                ("p99_latency_ms" in col) ? f[col["p99_latency_ms"]] : "-",
                ("max_latency_ms" in col) ? f[col["max_latency_ms"]] : "-"; found = 1 }
        END { if (!found) print "- - - -" }' "$1"
}

RES=$WORK/results.tsv
: >"$RES"
FAILED=0

# wait_idle port: until no save or rewrite runs or is scheduled (bounded)
wait_idle() {
    local info
    for _ in $(seq 600); do
        info=$(cli "$1" INFO persistence | tr -d '\r')
        grep -qx 'rdb_bgsave_in_progress:0' <<<"$info" && grep -qx 'aof_rewrite_in_progress:0' <<<"$info" &&
            grep -qx 'aof_rewrite_scheduled:0' <<<"$info" && return 0
        sleep 0.1
    done
    log "the server is still saving or rewriting after 60 s"
    return 1
}

addnote() { NOTE=${NOTE:+$NOTE,}$1; }

run_case() { # kind round case
    local kind=$1 round=$2 case=$3 port=${PORT[primary]} pid=${PID[primary]}
    local status=ok t_load0 t_op0 t_op1="" t_load1 sampler probe deadline setf getf syncs0=0 syncs i=0
    NOTE=""
    if [ "$case" = fullsync ]; then
        start_server replica "$kind" || { log "replica did not start"; status=no-replica; }
    fi
    wait_idle "$port"
    # what the previous operation freed goes back to the OS first (Go keeps a
    # grown heap for minutes; jemalloc keeps dirty pages): PSS before is the
    # dataset's, not the last run's leftovers
    [ "$PURGE" = 1 ] && { cli "$port" MEMORY PURGE >/dev/null; sleep 1; }
    python3 "$WORK/pss.py" "$pid" "$PSS_INTERVAL" "$WORK/pss.txt" </dev/null &
    sampler=$!; BG+=("$sampler")
    rm -f "$WORK/probe.txt"
    python3 "$WORK/probe.py" "$port" key:000000000000 0.01 "$WORK/probe.txt" </dev/null 2>/dev/null &
    probe=$!; BG+=("$probe")
    : >"$WORK/op.out"
    sleep 0.3
    t_load0=$EPOCHREALTIME
    start_load "$port"
    sleep "$OP_DELAY"
    t_op0=$EPOCHREALTIME
    case $case in base|aofbase) ;; *)
        if [ "$status" = ok ]; then
            [ "$case" = fullsync ] && syncs0=$(info_field "$port" stats sync_full)
            t_op0=$EPOCHREALTIME
            op_start "$case"
            deadline=$(( SECONDS + OP_TIMEOUT ))
            while :; do
                if op_done "$case"; then t_op1=$EPOCHREALTIME; break; fi
                if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
                # a second full sync: the replica was dropped and came back
                if [ "$case" = fullsync ] && [ $(( ++i % 10 )) = 0 ]; then
                    syncs=$(info_field "$port" stats sync_full)
                    [[ $syncs =~ ^[0-9]+$ ]] && [ $(( syncs - ${syncs0:-0} )) -ge 2 ] && { status=resync; break; }
                fi
                sleep 0.1
            done
            if [ -z "$t_op1" ]; then
                t_op1=$EPOCHREALTIME
                if ! kill -0 "$pid" 2>/dev/null; then status=server-died
                elif [ "$status" = ok ]; then status=op-timeout; fi
                kill -TERM "$OPJOB" 2>/dev/null
                [ "$case" = fullsync ] && stop_server replica # it would sync again and again
            elif ! op_ok "$case"; then
                status=op-failed; log "$case: reply '$(tr -d '\r' <"$WORK/op.out" | head -c 200)'"
            fi
            if [ "$case" = fullsync ]; then
                syncs=$(info_field "$port" stats sync_full)
                [[ $syncs =~ ^[0-9]+$ ]] && [ $(( syncs - ${syncs0:-0} )) != 1 ] && addnote "full-syncs=$(( syncs - ${syncs0:-0} ))"
            fi
            load_running || addnote op-outlasted-load
        fi;;
    esac
    wait_load || { [ "$status" = ok ] && status=bench-failed; addnote bench-failed; }
    t_load1=$EPOCHREALTIME
    [ -n "$t_op1" ] || t_op1=$t_load1
    kill -TERM "$sampler" "$probe" 2>/dev/null; wait "$sampler" "$probe" 2>/dev/null
    kill -0 "$pid" 2>/dev/null || status=server-died
    read -r PSS0 PSS1 < <(pss_window "$t_op0" "$t_op1" "$WORK/pss.txt")
    local pr_max=- pr_n=- pr_10=- pr_100=- pr_1s=-
    [ -s "$WORK/probe.txt" ] && read -r pr_max pr_n pr_10 pr_100 pr_1s <"$WORK/probe.txt"
    rm -f "$WORK/pss.txt" "$WORK/probe.txt"
    if [ "$LOAD_MODE" = split ]; then setf=$WORK/run.set.csv getf=$WORK/run.get.csv
    else setf=$WORK/run.all.csv getf=$WORK/run.all.csv; fi
    read -r g_rps g_p50 g_p99 g_max < <(csv_fields "$getf" GET)
    read -r s_rps s_p50 s_p99 s_max < <(csv_fields "$setf" SET)
    [ "$g_p99" != - ] && [ "$s_p99" != - ] || { [ "$status" = ok ] && status=no-numbers; }
    # redis-benchmark's histogram ends at 3 s: a max of ~3000 ms means "3 s or more"
    awk -v g="$g_max" -v s="$s_max" 'BEGIN { exit !((g + 0) >= 2999 || (s + 0) >= 2999) }' && addnote bench-max-capped-3s
    local op_s=-
    case $case in base|aofbase) ;; *) op_s=$(secs "$t_op0" "$t_op1");; esac
    [ "$status" = ok ] || FAILED=1
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "${LABEL[$kind]}" "$round" "$case" "$status" "$g_rps" "$g_p50" "$g_p99" "$g_max" \
        "$s_rps" "$s_p50" "$s_p99" "$s_max" "$PSS0" "$PSS1" "$op_s" "$(secs "$t_load0" "$t_load1")" \
        "$pr_max" "$pr_100" "$(cut -d' ' -f1 /proc/loadavg)" "${NOTE:--}" >>"$RES"
    log "$kind $case: $status; GET p99/max $g_p99/$g_max ms, SET p99/max $s_p99/$s_max ms," \
        "probe max $pr_max ms ($pr_100 of $pr_n over 100 ms)," \
        "PSS $(awk -v a="$PSS0" -v b="$PSS1" 'BEGIN { printf "%.0f -> %.0f MiB", a / 1024, b / 1024 }')," \
        "op $op_s s, load $(secs "$t_load0" "$t_load1") s${NOTE:+ ($NOTE)}"
    BG=()
    [ "$case" = fullsync ] && stop_server replica
    rm -f "${DIR[primary]}"/dump.rdb "${DIR[primary]}"/temp-*.rdb
    [ "$status" = server-died ] && return 1
    return 0
}

run_server() { # kind round
    local kind=$1 round=$2 c
    log "round $round/$ROUNDS: ${LABEL[$kind]}"
    start_server primary "$kind" || exit 3
    load_data primary || exit 3
    sleep "$SETTLE"
    for c in base "${WANT[@]}"; do
        run_case "$kind" "$round" "$c" || { log "${LABEL[$kind]} died; its remaining cases are skipped"; break; }
        sleep "$SETTLE"
    done
    stop_server primary
}

{
    for k in "${KINDS[@]}"; do
        case $k in
            corvid) echo "# corvid: ${BIN[corvid]} (GOMAXPROCS=${CORVID_GOMAXPROCS:-default})${CORVID_ARGS:+ args: $CORVID_ARGS}";;
            redis) echo "# ${LABEL[redis]}: ${BIN[redis]}${REDIS_ARGS:+ args: $REDIS_ARGS}";;
        esac
    done
    echo "# data: $KEYS keys of $DATA_SIZE bytes + zset of $ZSET_MEMBERS; $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    if [ "$LOAD_MODE" = split ]; then
        echo "# load: redis-benchmark -t set -c $(( (CLIENTS + 1) / 2 )) and -t get -c $(( CLIENTS / 2 )) at once, -n $REQUESTS -r $KEYS -d $DATA_SIZE each"
    else
        echo "# load: redis-benchmark -t set,get -c $CLIENTS -n $REQUESTS -r $KEYS -d $DATA_SIZE"
    fi
    echo "# operation starts ${OP_DELAY}s into the load; PSS every ${PSS_INTERVAL}s; $ROUNDS round(s)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows in max latencies)"
}

for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order=("${KINDS[@]}")
    else order=(); for ((i = ${#KINDS[@]} - 1; i >= 0; i--)); do order+=("${KINDS[$i]}"); done; fi
    for k in "${order[@]}"; do run_server "$k" "$round"; done
done

RAWHDR='server	round	case	status	get_rps	get_p50_ms	get_p99_ms	get_max_ms	set_rps	set_p50_ms	set_p99_ms	set_max_ms	pss_before_kb	pss_peak_kb	op_s	load_s	probe_max_ms	probe_over_100ms	loadavg1_after	note'
[ -n "$RAW" ] && { echo "$RAWHDR"; cat "$RES"; } >"$RAW"

# The table: per server and case, medians over rounds; ratios are taken per
# round against that round's baseline, then the median.
TABLE=$WORK/table.tsv
awk -F'\t' -v OFS='\t' -v mode="$LOAD_MODE" '
    function median(list,   a, n, i, j, t) {
        n = split(list, a, " ")
        if (n == 0) return ""
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function num(v) { return v != "" && v != "-" && v ~ /^[0-9.eE+-]+$/ }
    function add(k, v) { if (num(v)) L[k] = L[k] " " v }
    NR == FNR { R[$1 SUBSEP $2 SUBSEP $3] = $0; next }
    {
        s = $1; c = $3; k = s SUBSEP c
        if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
        base = (c == "aofrw") ? "aofbase" : (c == "aofbase") ? "aofbase" : "base"
        split(R[s SUBSEP $2 SUBSEP base], b, "\t")
        add(k SUBSEP "grps", $5); add(k SUBSEP "srps", $9)
        add(k SUBSEP "gp99", $7); add(k SUBSEP "gmax", $8); add(k SUBSEP "sp99", $11); add(k SUBSEP "smax", $12)
        add(k SUBSEP "pss0", $13); add(k SUBSEP "pss1", $14); add(k SUBSEP "op", $15); add(k SUBSEP "probe", $17)
        if (num($13) && num($14) && $13 > 0) add(k SUBSEP "pssx", $14 / $13)
        if (num($7) && num(b[7]) && b[7] > 0) add(k SUBSEP "gx", $7 / b[7])
        if (num($11) && num(b[11]) && b[11] > 0) add(k SUBSEP "sx", $11 / b[11])
        if (num($8) && num(b[8])) add(k SUBSEP "gd", $8 - b[8])
        if (num($12) && num(b[12])) add(k SUBSEP "sd", $12 - b[12])
        if ($4 != "ok") ST[k] = ST[k] (ST[k] == "" ? "" : ",") $4
        nn = split($20 == "-" ? "" : $20, na, ",")
        for (j = 1; j <= nn; j++) if (index("," NOTE[k] ",", "," na[j] ",") == 0) NOTE[k] = NOTE[k] (NOTE[k] == "" ? "" : ",") na[j]
        n[k]++
    }
    function m(k, w) { return median(L[k SUBSEP w]) }
    function f(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
    function mib(v) { return v == "" ? "" : v / 1024 }
    END {
        print "server", "case", "get_p99_ms", "get_max_ms", "set_p99_ms", "set_max_ms", "get_p99_x", "set_p99_x",
            "get_max_plus_ms", "set_max_plus_ms", "probe_max_ms", "pss_before_mib", "pss_peak_mib", "pss_peak_x", "op_s", "kops", "check", "notes"
        for (i = 1; i <= nk; i++) {
            k = order[i]; split(k, kk, SUBSEP)
            gx = m(k, "gx"); sx = m(k, "sx"); gd = m(k, "gd"); sd = m(k, "sd"); px = m(k, "pssx")
            g = m(k, "grps"); s = m(k, "srps")  # serial: the two runs one after the other
            kops = (g != "" && s != "") ? (g + s) / (mode == "serial" ? 2000 : 1000) : ""
            chk = "-"
            if (kk[2] != "base" && kk[2] != "aofbase") {
                chk = ""
                if (gx == "" || sx == "" || gx > 1.5 || sx > 1.5) chk = chk ",p99"
                if (gd == "" || sd == "" || gd > 10 || sd > 10) chk = chk ",max"
                if (px == "" || px > 1.1) chk = chk ",pss"
                if (ST[k] != "") chk = chk ",op"
                chk = (chk == "") ? "pass" : "FAIL:" substr(chk, 2)
            }
            notes = ST[k] (ST[k] != "" && NOTE[k] != "" ? "," : "") NOTE[k]
            if (n[k] > 1) notes = notes (notes == "" ? "" : ",") n[k] "-rounds"
            print kk[1], kk[2], f(m(k, "gp99"), "%.3f"), f(m(k, "gmax"), "%.3f"), f(m(k, "sp99"), "%.3f"), f(m(k, "smax"), "%.3f"),
                f(gx, "%.2f"), f(sx, "%.2f"), f(gd, "%+.1f"), f(sd, "%+.1f"), f(m(k, "probe"), "%.1f"),
                f(mib(m(k, "pss0")), "%.0f"), f(mib(m(k, "pss1")), "%.0f"), f(px, "%.2f"), f(m(k, "op"), "%.1f"),
                f(kops, "%.1f"), chk, notes == "" ? "-" : notes
        }
    }' "$RES" "$RES" >"$TABLE"
[ -n "$OUT" ] && cp "$TABLE" "$OUT"
column -t -s $'\t' "$TABLE" 2>/dev/null || cat "$TABLE"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); run took $(( SECONDS / 60 ))m$(( SECONDS % 60 ))s"
echo "# *_x: ratio to the baseline's p99 (aofrw: to aofbase); *_plus_ms: max minus the baseline's max;"
echo "# probe_max_ms: longest GET of a separate 100/s probe client (not capped; redis-benchmark's max stops at 3000 ms);"
echo "# pss: server + forked children, before the operation and peak during it;"
echo "# check: p99 <= 1.5x, max <= +10 ms, PSS <= 1.1x, and the operation finished (op)"
exit $FAILED
