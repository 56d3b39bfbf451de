#!/usr/bin/env bash
# Replay-hit throughput and latency of llm-router, compared with a no-op unary RPC on the same server.
#
# What it measures, in one run, with all traffic to 127.0.0.1 (the router is started here, on a free port, in its
# embedded default: replay mode over cassettes/recorded/):
#   1. Maximum throughput, closed loop (h2load: CONNS connections x STREAMS concurrent streams, N requests), of
#        - replay-hit Chat: llmrouter.v1.ChatService/Chat with the demo request "What is the capital of France?",
#          answered from cassettes/recorded/default/ (checked to be CASSETTE_OUTCOME_HIT before any load), and
#        - the no-op: grpc.health.v1.Health/Check with an empty request, same Vert.x gRPC server, same port.
#      The two run alternately, ROUNDS times each; every run is reported, then the mean of each and the ratio.
#   2. Latency at a fixed rate (RATE req/s in total over LAT_CONNS connections, about LAT_SECONDS s per run) of
#      replay-hit Chat, and of Health/Check as a baseline: p50/p90/p99/p99.9/max from h2load's per-request log
#      (duration column, microseconds). Once per LAT_STREAMS setting (h2load -m, streams in flight per connection).
#
# How to read it:
#   - Goals (from the issue): replay-hit req/s >= 70% of Health/Check req/s, and p99 < 1 ms at 10k req/s.
#   - Caller keys cost: bench/auth-overhead.sh.
#   - CALL_LOG=on (the default, as shipped) logs every replayed call to SQLite (data_dir in the work dir); at tens of
#     thousands of calls per second the writer shares the cores and drops what it cannot keep up with.
#     CALL_LOG=off measures the cassette path alone.
#   - h2load and the router share the machine's cores (2 on the reference machine), so absolute req/s says as much
#     about the machine as about the router; the replay/no-op ratio from the same run is the figure that matters.
#   - Per run, CPU time from /proc (shares are of ONE core over the run's wall time):
#       router CPU/req   the router process's CPU time per request (robust to noise: compare Chat with Health/Check);
#       router, busiest  the router process, and its busiest thread. Busiest thread ~100% = one thread (a Vert.x
#                        event loop) is the limit, and max req/s ~ 1 / (that thread's CPU time per request);
#       h2load           the load generator;
#       other            everything else on the machine (kernel softirq, and any build running beside: then the
#                        row is skewed; the script also prints how busy the CPU was before it started).
#   - "failed" = requests h2load did not see complete with HTTP 2xx. h2load cannot see gRPC status (it is in the
#     trailers), so the script also checks the DATA bytes: every OK reply carries exactly one full message (as long
#     as the one checked with buf curl before load), while a gRPC error is a trailers-only reply with no DATA.
#   - Latency with -m 1 (h2load's default): a connection waits for its reply before sending the next request, so a
#     slow reply delays the next ones and is under-counted. With -m 32 the rate holds whatever the replies do.
#
# Usage:   bench/replay-throughput.sh
# Knobs:   N=200000 CONNS=4 STREAMS=16 ROUNDS=2 WARMUP=100000 RATE=10000 LAT_CONNS=10 LAT_STREAMS="1 32" LAT_SECONDS=10
#          CALL_LOG=on EVENT_LOOPS= (the router's --event-loops; empty: its default, one per core)
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), and h2load (apt-installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
CALL_LOG=${CALL_LOG:-on}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-100000}
RATE=${RATE:-10000}
LAT_CONNS=${LAT_CONNS:-10}
LAT_STREAMS=${LAT_STREAMS:-"1 32"}
LAT_SECONDS=${LAT_SECONDS:-10}
EVENT_LOOPS=${EVENT_LOOPS:-}

CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

# shellcheck source=bench/lib.sh
. bench/lib.sh # JAR, BUF, CHAT, HEALTH; the helpers below (prerequisites, CPU accounting, h2load output, router start)

# ---- prerequisites -------------------------------------------------------------------------------------------------
bench_prelude

# ---- request bodies: gRPC length-prefixed frames --------------------------------------------------------------------
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"

# ---- start the router ----------------------------------------------------------------------------------------------
print_setup "llm-router replay-hit benchmark"
start_router --port 0 --data-dir "$WORK/data" --call-log "$CALL_LOG" ${EVENT_LOOPS:+--event-loops "$EVENT_LOOPS"}

# ---- correctness first: the Chat request must be a replay hit, answered gRPC OK ------------------------------------
if ! reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" \
  "http://127.0.0.1:$PORT/$CHAT" 2>&1); then
  echo "Chat failed (not gRPC OK):" >&2; echo "$reply" >&2; exit 1
fi
if ! grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply"; then
  echo "Chat is not a replay hit:" >&2; echo "$reply" >&2; exit 1
fi
echo "check: Chat is gRPC OK, origin CASSETTE_OUTCOME_HIT, text: $(grep -o '"text": "[^"]*"' <<<"$reply" | head -1)"
health_reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$PORT/$HEALTH")
grep -q SERVING <<<"$health_reply" || { echo "Health/Check is not SERVING: $health_reply" >&2; exit 1; }

# The DATA bytes of one OK reply of each RPC (5-byte prefix + message), to check the replies under load.
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$CHAT" -n 1 -c 1
CHAT_REPLY_BYTES=$(data_of "$WORK/one.txt")
h2load_grpc "$WORK/one.txt" "$WORK/health.bin" "$HEALTH" -n 1 -c 1
HEALTH_REPLY_BYTES=$(data_of "$WORK/one.txt")
echo "check: one OK reply is $CHAT_REPLY_BYTES DATA bytes for Chat, $HEALTH_REPLY_BYTES for Health/Check"

# ---- warm-up (JIT) -------------------------------------------------------------------------------------------------
echo "warm-up: 3 x $WARMUP requests of each RPC, alternating"
for _ in 1 2 3; do
  warm_up_grpc Chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  warm_up_grpc Health/Check "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done
settle_jit Chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"

# ---- 1. max throughput, alternating ---------------------------------------------------------------------------------
echo
echo "== 1. max throughput: h2load -n $N -c $CONNS -m $STREAMS -t 1 (closed loop), alternating, $ROUNDS rounds"
echo "   (CPU columns: % of one core over the run; see the header of this script)"
printf '%-5s %-7s %9s %6s %7s %14s %8s %8s %7s %6s\n' \
  round rpc "req/s" failed "wall s" "router CPU/req" router busiest h2load other
declare -A SUM=([chat]=0 [health]=0)
throughput_run() { # round name body rpc reply_bytes
  local out="$WORK/tp-$2-$1.txt" rps
  measured "$out" "$3" "$4" -n "$N" -c "$CONNS" -m "$STREAMS" -t 1
  rps=$(rps_of "$out")
  SUM[$2]=$(awk -v a="${SUM[$2]}" -v b="$rps" 'BEGIN { print a + b }')
  printf '%-5s %-7s %9.0f %6d %7.2f %11s us %7s%% %7s%% %6s%% %5s%%\n' "$1" "$2" "$rps" \
    $(($(total_of "$out") - $(succeeded_of "$out"))) "$(wall_s_of "$out")" \
    "$CPU_REQ_US" "$ROUTER_PCT" "$BUSIEST_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  check_replies "$out" "$5" "$2 round $1"
}
for round in $(seq "$ROUNDS"); do
  throughput_run "$round" chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  throughput_run "$round" health "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done
CHAT_RPS=$(awk -v s="${SUM[chat]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", s / n }')
HEALTH_RPS=$(awk -v s="${SUM[health]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", s / n }')
RATIO=$(awk -v a="$CHAT_RPS" -v b="$HEALTH_RPS" 'BEGIN { printf "%.2f", a / b }')

# ---- 2. latency at a fixed rate ------------------------------------------------------------------------------------
# h2load --rps is per connection: RATE / LAT_CONNS each.
PER_CONN=$((RATE / LAT_CONNS))
LAT_N=$((RATE * LAT_SECONDS))
echo
echo "== 2. latency at $RATE req/s: h2load -n $LAT_N -c $LAT_CONNS -m M -t 1 --rps $PER_CONN (~${LAT_SECONDS} s each)"
printf '%-3s %-7s %7s %7s %7s %7s %7s %8s %7s %7s %6s %6s\n' \
  M rpc "req/s" non-200 "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "max ms" router h2load other
declare -A P50 P99
latency_run() { # streams name body rpc reply_bytes
  local out="$WORK/lat-$2-$1.txt" log="$WORK/lat-$2-$1.log" row
  rm -f "$log" # h2load appends to its log file
  measured "$out" "$3" "$4" -n "$LAT_N" -c "$LAT_CONNS" -m "$1" -t 1 --rps "$PER_CONN" --log-file "$log"
  # Log columns: start time (us since epoch), HTTP status, duration (us). Percentiles by nearest rank, in ms.
  row=$(percentiles "$log")
  read -r p50 p90 p99 p999 pmax <<<"$row"
  P50[$2-$1]=$p50
  P99[$2-$1]=$p99
  printf '%-3s %-7s %7.0f %7d %7s %7s %7s %8s %7s %6s%% %5s%% %5s%%\n' "$1" "$2" "$(rps_of "$out")" \
    "$(awk '$2 != 200' "$log" | wc -l)" "$p50" "$p90" "$p99" "$p999" "$pmax" "$ROUTER_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  check_replies "$out" "$5" "latency $2 -m $1"
}
for streams in $LAT_STREAMS; do
  latency_run "$streams" chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  latency_run "$streams" health "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done

# ---- the router must still be healthy and replaying after the load --------------------------------------------------
if ! "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" |
  grep -q CASSETTE_OUTCOME_HIT; then
  echo "WARNING: Chat is no longer a gRPC-OK replay hit after the load"
  BAD_RUNS=$((BAD_RUNS + 1))
fi

# ---- summary -------------------------------------------------------------------------------------------------------
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }
echo
echo "== summary ($(nproc) cores shared by h2load and the router: compare ratios, not absolute figures)"
printf '  %-44s %s\n' \
  "replay-hit Chat, max req/s (mean of $ROUNDS)" "$CHAT_RPS" \
  "Health/Check (no-op), max req/s (mean of $ROUNDS)" "$HEALTH_RPS" \
  "ratio replay / no-op" "$RATIO   (goal >= 0.70: $(verdict "$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.70) }')"))"
for streams in $LAT_STREAMS; do
  printf '  %-44s %s\n' \
    "Chat at $RATE req/s, -m $streams: p50 / p99" \
    "${P50[chat-$streams]} / ${P99[chat-$streams]} ms   (goal p99 < 1 ms: $(verdict "$(awk -v p="${P99[chat-$streams]}" 'BEGIN { print (p < 1) }')"))" \
    "  Health/Check, same setting: p50 / p99" "${P50[health-$streams]} / ${P99[health-$streams]} ms"
done
print_run_checks 44 "the router and h2load"
[ "$BAD_RUNS" = 0 ]
