#!/usr/bin/env bash
# What the call log costs on the live proxy path: Chat through the router to a local mock OpenAI upstream, with the
# call log off, on (SQLite, the default) and in PostgreSQL, in one run.
#
# What it measures, with all traffic to 127.0.0.1:
#   - The mock: nginx answering POST /v1/chat/completions with a fixed chat.completion from memory (bench/lib.sh,
#     start_mock_upstream), as in proxy-overhead.sh.
#   - Three routers from the same jar, live over that mock (cassettes "off", one provider `mock` of type openai), each
#     with admin_listen (so the metrics are on in all). Their configs differ in their `call_log` line: "on" writes
#     every call to its own data_dir/calls.db; "pg" to a PostgreSQL of its own (Debian's package, started here:
#     `call_log.postgres_url`); "off" writes nothing.
#   1. Maximum throughput, closed loop, -c CONNS -m STREAMS, off, on and pg alternating, ROUNDS times each; every run
#      is reported, then the mean of each and the LOSS = 1 - logged / off.
#   2. Latency at RATE req/s over one connection (-m 1, about LAT_SECONDS s per run), each: p50/p99 from h2load's
#      per-request log.
#   3. Completeness: the calls sent to "on" and "pg" (warm-up included) against the rows in calls.db (sqlite3) or in
#      PostgreSQL (psql) plus the records dropped (llmrouter_call_log_dropped_total from /metrics): every call must be
#      one or the other.
#
# How to read it: as in proxy-overhead.sh (the CPU columns are shares of ONE core over the run; "router/req" is the
# router process's CPU time per request). "writer" is the call log's own thread (redaction check, serialization and
# the inserts, to SQLite or PostgreSQL): the CPU the call log adds beside the event loop. On 2 cores shared with h2load and nginx, that thread
# competes with them, so the loss measured here is an upper bound for a machine with a core to spare. "waiting" is the
# busiest thread's (the event loop's) time spent ready to run but waiting for a core (/proc/.../schedstat), as a share
# of the run: what the writer takes from the event loop when the scheduler puts both on one core.
#
# Usage:   bench/call-log-overhead.sh
# Knobs:   N=100000 CONNS=4 STREAMS=16 ROUNDS=3 WARMUP=100000 RATE=2000 LAT_SECONDS=10
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), h2load, nginx and sqlite3 (apt-installed if
#          missing), PostgreSQL (started as the `postgres` user when run as root), curl.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-100000}
RATE=${RATE:-2000}
LAT_SECONDS=${LAT_SECONDS:-10}

# shellcheck source=bench/lib.sh
. bench/lib.sh # JAR, BUF, CHAT, HEALTH, the mock's request and answer; the helpers
CHAT_JSON=$MOCK_CHAT_JSON

# ---- prerequisites -------------------------------------------------------------------------------------------------
bench_prelude
ensure_tool sqlite3 sqlite3
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"

print_setup "llm-router call log overhead benchmark (live proxy path)"
start_mock_upstream
start_postgres
LOGS_="off on pg"

# ---- the three routers -----------------------------------------------------------------------------------------------
for log in $LOGS_; do
  call_log="{ enabled: true }"
  [ "$log" = off ] && call_log="{ enabled: false }"
  [ "$log" = pg ] && call_log="{ postgres_url: \"$PG_URL\" }"
  cat >"$WORK/router-$log.yaml" <<EOF
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: "$WORK/data-$log"
call_log: $call_log
cassettes: { mode: "off" }
providers:
  - { name: mock, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
EOF
  start_router --config "$WORK/router-$log.yaml"
  if ! why=$(check_live); then echo "$why" >&2; exit 1; fi
  eval "PID_$log=$ROUTER_PID PORT_$log=$PORT ADMIN_$log=$ADMIN_PORT"
done
declare -A SENT=([on]=1 [pg]=1) WRITER_STAT # check_live's call; the call log writer's thread (its name cut to 15)
for log in on pg; do
  WRITER_STAT[$log]=$(grep -l '^llmrouter-call-' /proc/"$(eval echo "\$PID_$log")"/task/*/comm | sed 's/comm$/stat/')
  [ -n "${WRITER_STAT[$log]}" ] || { echo "no call log writer thread in router $log" >&2; exit 1; }
done
echo "check: the three routers answer Chat live (gRPC OK, the mock's text)"

use_router() { # off|on|pg: the router the next h2load run and CPU accounting apply to
  ROUTER_PID=$(eval echo "\$PID_$1"); PORT=$(eval echo "\$PORT_$1")
}
use_router on
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$CHAT" -n 1 -c 1
SENT[on]=$((SENT[on] + 1))
CHAT_REPLY_BYTES=$(data_of "$WORK/one.txt")
echo "check: one OK reply is $CHAT_REPLY_BYTES DATA bytes"

echo "warm-up: 3 x $WARMUP requests on each router, alternating"
for _ in 1 2 3; do
  for log in $LOGS_; do
    use_router "$log"
    warm_up_grpc "$log" "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
    [ "$log" = off ] || SENT[$log]=$((SENT[$log] + $(total_of "$WORK/warm.txt")))
  done
done

run_queue_waits() { # "<stat file> <ns>": how long each router thread has waited for a core so far
  local f
  for f in /proc/"$ROUTER_PID"/task/*/schedstat; do echo "${f%schedstat}stat $(cut -d' ' -f2 "$f")"; done
}
writer_ticks() { # LOG FILE: ticks of LOG's writer thread in a threads file of measured_with
  awk -v f="${WRITER_STAT[$1]}" '$1 == f { print $2 }' "$2"
}
mean() { awk '{ s += $1 } END { printf "%.0f", s / NR }'; }

# ---- 1. max throughput, alternating ---------------------------------------------------------------------------------
echo
echo "== 1. max throughput, closed loop, -n $N -c $CONNS -m $STREAMS -t 1; off, on and pg alternating, $ROUNDS rounds"
echo "   (CPU columns: % of one core over the run)"
printf '%-5s %-4s %9s %6s %7s %10s %7s %8s %8s %7s %6s %7s %6s\n' \
  round log "req/s" failed "wall s" "router/req" router busiest waiting writer nginx h2load other
: >"$WORK/tp-off.txt"; : >"$WORK/tp-on.txt"; : >"$WORK/tp-pg.txt"
for round in $(seq "$ROUNDS"); do
  for log in $LOGS_; do
    use_router "$log"
    out="$WORK/tp-$log-$round.txt"
    run_queue_waits >"$WORK/waits0.txt"
    measured "$out" "$WORK/chat.bin" "$CHAT" -n "$N" -c "$CONNS" -m "$STREAMS" -t 1
    run_queue_waits >"$WORK/waits1.txt"
    waiting=$(awk -v f="$BUSIEST_STAT" -v wall="$(wall_s_of "$out")" '$1 == f { ns[FILENAME] = $2 }
      END { printf "%.0f%%", 100 * (ns[ARGV[2]] - ns[ARGV[1]]) / 1e9 / wall }' "$WORK/waits0.txt" "$WORK/waits1.txt")
    check_replies "$out" "$CHAT_REPLY_BYTES" "round $round $log"
    writer="-"
    if [ "$log" != off ]; then
      SENT[$log]=$((SENT[$log] + $(total_of "$out")))
      writer=$(awk -v a="$(writer_ticks "$log" "$WORK/threads0.txt")" -v b="$(writer_ticks "$log" "$WORK/threads1.txt")" \
        -v hz="$HZ" -v wall="$(wall_s_of "$out")" 'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / wall }')
    fi
    rps=$(rps_of "$out")
    echo "$rps" >>"$WORK/tp-$log.txt"
    printf '%-5s %-4s %9.0f %6d %7.2f %8.1fus %6d%% %7d%% %8s %7s %5d%% %6d%% %5d%%\n' "$round" "$log" "$rps" \
      $(($(total_of "$out") - $(succeeded_of "$out"))) "$(wall_s_of "$out")" "$CPU_REQ_US" "$ROUTER_PCT" \
      "$BUSIEST_PCT" "$waiting" "$writer" "$EXTRA_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  done
done
OFF_RPS=$(mean <"$WORK/tp-off.txt")
ON_RPS=$(mean <"$WORK/tp-on.txt")
PG_RPS=$(mean <"$WORK/tp-pg.txt")

# ---- 2. latency at a fixed rate --------------------------------------------------------------------------------------
echo
echo "== 2. latency at $RATE req/s, one connection, -m 1, $((RATE * LAT_SECONDS)) requests per run"
printf '%-4s %9s %8s %8s %8s %8s\n' log "req/s" non-200 "p50 ms" "p99 ms" "max ms"
for log in $LOGS_; do
  use_router "$log"
  out="$WORK/lat-$log.txt"
  h2load_grpc "$out" "$WORK/chat.bin" "$CHAT" -n $((RATE * LAT_SECONDS)) -c 1 -m 1 -t 1 --rps "$RATE" \
    --log-file "$WORK/lat-$log.log"
  check_replies "$out" "$CHAT_REPLY_BYTES" "latency $log"
  [ "$log" = off ] || SENT[$log]=$((SENT[$log] + $(total_of "$out")))
  read -r p50 _ p99 _ max <<<"$(percentiles "$WORK/lat-$log.log")"
  printf '%-4s %9.0f %8d %8s %8s %8s\n' "$log" "$(rps_of "$out")" $(($(total_of "$out") - $(succeeded_of "$out"))) \
    "$p50" "$p99" "$max"
done

# ---- 3. completeness of the log ---------------------------------------------------------------------------------------
sleep 1 # the writers' last batches
dropped_of() { curl -s "http://127.0.0.1:$(eval echo "\$ADMIN_$1")/metrics" |
  awk '/^llmrouter_call_log_dropped_total / { printf "%.0f", $2 }'; }
echo
for log in on pg; do
  if [ "$log" = on ]; then
    rows=$(sqlite3 "$WORK/data-on/calls.db" 'SELECT COUNT(*) FROM calls')
    where="calls.db ($(du -h "$WORK/data-on/calls.db" | cut -f1) on disk, WAL not counted)"
  else
    rows=$(psql_value 'SELECT COUNT(*) FROM calls')
    where="PostgreSQL ($(psql_value "SELECT pg_size_pretty(pg_total_relation_size('calls'))") with its indexes)"
  fi
  dropped=$(dropped_of "$log")
  echo "== 3. call log of \"$log\": ${SENT[$log]} calls sent, $rows rows in $where, $dropped dropped"
  [ "$((rows + dropped))" = "${SENT[$log]}" ] || echo "WARNING: rows + dropped != calls sent"
done

echo
echo "== summary ($(nproc) cores shared by h2load, nginx and the routers: compare within the run)"
awk -v off="$OFF_RPS" -v on="$ON_RPS" -v pg="$PG_RPS" 'BEGIN {
  printf "max throughput: call log off %d req/s, on (SQLite) %d req/s: ratio on/off %.3f, LOSS %.1f%%\n",
    off, on, on / off, 100 * (1 - on / off)
  printf "                in PostgreSQL %d req/s: ratio pg/off %.3f, LOSS %.1f%% (goal for both: at most 10%%)\n",
    pg, pg / off, 100 * (1 - pg / off) }'
echo "requests: $TOTAL_REQS, failed: $TOTAL_FAILED, runs with unexpected replies: $BAD_RUNS;" \
  "max 'other' CPU in a run: $MAX_OTHER_PCT% of a core"
