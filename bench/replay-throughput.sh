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
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), and h2load (apt-installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-100000}
RATE=${RATE:-10000}
LAT_CONNS=${LAT_CONNS:-10}
LAT_STREAMS=${LAT_STREAMS:-"1 32"}
LAT_SECONDS=${LAT_SECONDS:-10}

JAR=server/target/llm-router.jar
NODE_DIR=client-stub/examples/node
BUF=$NODE_DIR/node_modules/.bin/buf
CHAT=llmrouter.v1.ChatService/Chat
HEALTH=grpc.health.v1.Health/Check
CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

# ---- prerequisites -------------------------------------------------------------------------------------------------
if [ ! -f "$JAR" ]; then
  echo "missing $JAR; build it first with:  mvn -B -q -DskipTests package" >&2
  exit 1
fi
if ! command -v h2load >/dev/null; then
  echo "installing h2load (nghttp2-client)..."
  apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null
fi
if [ ! -d "$NODE_DIR/node_modules/protobufjs" ] || [ ! -x "$BUF" ]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
fi

WORK=$(mktemp -d)
ROUTER_PID=
cleanup() {
  if [ -n "$ROUTER_PID" ]; then kill "$ROUTER_PID" 2>/dev/null || true; wait "$ROUTER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- request bodies: gRPC length-prefixed frames (flag 0, 4-byte big-endian length, protobuf bytes) ----------------
PROTO_DIR=$PWD/proto
(cd "$NODE_DIR" && node -e '
  const fs = require("node:fs"), path = require("node:path"), protobuf = require("protobufjs");
  const [json, protoDir, out] = process.argv.slice(1);
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.resolve(protoDir, target); // google/protobuf/* are built into protobufjs
  root.loadSync("llmrouter/v1/chat.proto");
  const ChatRequest = root.lookupType("llmrouter.v1.ChatRequest");
  const bytes = ChatRequest.encode(ChatRequest.fromObject(JSON.parse(json))).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  fs.writeFileSync(out, Buffer.concat([prefix, bytes]));
' "$CHAT_JSON" "$PROTO_DIR" "$WORK/chat.bin")
printf '\0\0\0\0\0' >"$WORK/health.bin" # an empty HealthCheckRequest

# ---- helpers -------------------------------------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)

# Machine-wide busy CPU time so far, in clock ticks (user, nice, system, irq, softirq, steal).
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Machine-wide CPU busy % over 2 s.
cpu_busy_pct() {
  local b0 b1
  b0=$(machine_ticks); sleep 2; b1=$(machine_ticks)
  echo $(((b1 - b0) * 100 / (2 * HZ * $(nproc))))
}

# CPU time (user+system, clock ticks) of each router thread so far, as "<stat file> <ticks>" lines. A thread's name
# in /proc/.../stat may hold spaces, so fields are counted after its closing parenthesis.
thread_ticks() {
  awk '{ sub(/.*\) /, ""); print FILENAME, $12 + $13 }' /proc/"$ROUTER_PID"/task/*/stat 2>/dev/null || true
}

# h2load_grpc OUT BODY RPC [h2load options...]: one h2load run of a unary gRPC call; its output goes to OUT.
h2load_grpc() {
  local out=$1 body=$2 rpc=$3
  shift 3
  h2load -H 'content-type: application/grpc' -H 'te: trailers' -d "$body" "$@" "http://127.0.0.1:$PORT/$rpc" >"$out"
}

# measured OUT BODY RPC [h2load options...]: h2load_grpc, plus where the CPU went meanwhile. Sets CPU_REQ_US (router
# CPU per request) and the shares of one core ROUTER_PCT, BUSIEST_PCT, H2LOAD_PCT, OTHER_PCT.
measured() {
  local out=$1 m0 m1 h2 wall total figures TIMEFORMAT='%U %S'
  thread_ticks >"$WORK/threads0.txt"; m0=$(machine_ticks)
  { time h2load_grpc "$@"; } 2>"$WORK/time.txt" # bash's `time` gives h2load's user and system CPU seconds
  thread_ticks >"$WORK/threads1.txt"; m1=$(machine_ticks)
  h2=$(awk 'END { print $1 + $2 }' "$WORK/time.txt")
  wall=$(wall_s_of "$out"); total=$(total_of "$out")
  figures=$(awk -v hz="$HZ" -v machine=$((m1 - m0)) -v h2="$h2" -v wall="$wall" -v total="$total" '
    FNR == NR { before[$1] = $2; next }
    { d = $2 - before[$1]; router += d; if (d > busiest) busiest = d }
    END {
      other = machine / hz - router / hz - h2; if (other < 0) other = 0
      printf "%.1f %.0f %.0f %.0f %.0f", router / hz * 1e6 / total, 100 * router / hz / wall,
        100 * busiest / hz / wall, 100 * h2 / wall, 100 * other / wall }' "$WORK/threads0.txt" "$WORK/threads1.txt")
  read -r CPU_REQ_US ROUTER_PCT BUSIEST_PCT H2LOAD_PCT OTHER_PCT <<<"$figures"
  if [ "$OTHER_PCT" -gt "$MAX_OTHER_PCT" ]; then MAX_OTHER_PCT=$OTHER_PCT; fi
}
MAX_OTHER_PCT=0

# Figures out of an h2load output: req/s, total, succeeded (2xx), DATA bytes, wall time in seconds.
rps_of() { awk '/^finished in/ { print $4 }' "$1"; }
total_of() { awk '/^requests:/ { print $2 }' "$1"; }
succeeded_of() { awk '/^requests:/ { print $8 }' "$1"; }
data_of() { sed -n 's/^traffic:.*(\([0-9]*\)) data.*/\1/p' "$1"; }
wall_s_of() {
  awk '/^finished in/ { v = $3; sub(/,$/, "", v)
    if (v ~ /ms$/) { sub(/ms$/, "", v); v /= 1000 } else if (v ~ /us$/) { sub(/us$/, "", v); v /= 1e6 } else sub(/s$/, "", v)
    print v }' "$1"
}

# check_replies OUT REPLY_BYTES NAME: counts the run's requests, and warns unless every request got HTTP 2xx with
# exactly one full reply message.
TOTAL_REQS=0
TOTAL_FAILED=0
BAD_RUNS=0
check_replies() {
  local total ok data
  total=$(total_of "$1"); ok=$(succeeded_of "$1"); data=$(data_of "$1")
  TOTAL_REQS=$((TOTAL_REQS + total)); TOTAL_FAILED=$((TOTAL_FAILED + total - ok))
  if [ "$ok" != "$total" ] || [ "$data" != $((total * $2)) ]; then
    echo "  WARNING $3: $ok/$total succeeded, $data DATA bytes (expected $((total * $2)) for all-OK replies)"
    BAD_RUNS=$((BAD_RUNS + 1))
  fi
}

# ---- start the router ----------------------------------------------------------------------------------------------
echo "== llm-router replay-hit benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1), $(h2load --version | head -1)"
echo "jar: $JAR, built $(date -u -r "$JAR" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$JAR" | cut -c1-12);" \
  "tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- server cassettes proto 2>/dev/null || echo ' (modified)')"
BUSY_BEFORE=$(cpu_busy_pct)
echo "CPU busy before start: $BUSY_BEFORE% (should be ~0)"
if [ "$BUSY_BEFORE" -gt 20 ]; then
  echo "WARNING: something else is using the CPU (a build?); the figures below are skewed by it:"
  ps -eo pid,pcpu,comm --sort=-pcpu | sed -n '2,4p'
fi

# A private copy of the jar, so that a rebuild in this tree during the run cannot pull it from under the JVM.
cp "$JAR" "$WORK/llm-router.jar"
java -jar "$WORK/llm-router.jar" --port 0 >"$WORK/router.log" 2>&1 &
ROUTER_PID=$!
PORT=
for _ in $(seq 150); do
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/router.log")
  [ -n "$PORT" ] && break
  if ! kill -0 "$ROUTER_PID" 2>/dev/null; then echo "router did not start:" >&2; cat "$WORK/router.log" >&2; exit 1; fi
  sleep 0.2
done
[ -n "$PORT" ] || { echo "router did not report its port in 30 s:" >&2; cat "$WORK/router.log" >&2; exit 1; }
echo "router: pid $ROUTER_PID, $(head -1 "$WORK/router.log")"

# Wait until Health/Check answers over HTTP/2.
for _ in $(seq 50); do
  if h2load_grpc "$WORK/probe.txt" "$WORK/health.bin" "$HEALTH" -n 1 -c 1 2>/dev/null &&
    [ "$(succeeded_of "$WORK/probe.txt")" = 1 ]; then break; fi
  sleep 0.2
done

# ---- correctness first: the Chat request must be a replay hit, answered gRPC OK ------------------------------------
if ! reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" 2>&1); then
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
# Until the JIT has compiled the hot paths, CPU per request is ~1.5x higher: warm up well.
echo "warm-up: 3 x $WARMUP requests of each RPC, alternating"
for _ in 1 2 3; do
  h2load_grpc "$WORK/warm.txt" "$WORK/chat.bin" "$CHAT" -n "$WARMUP" -c "$CONNS" -m "$STREAMS" -t 1
  check_replies "$WORK/warm.txt" "$CHAT_REPLY_BYTES" "warm-up Chat"
  h2load_grpc "$WORK/warm.txt" "$WORK/health.bin" "$HEALTH" -n "$WARMUP" -c "$CONNS" -m "$STREAMS" -t 1
  check_replies "$WORK/warm.txt" "$HEALTH_REPLY_BYTES" "warm-up Health/Check"
done

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
  row=$(awk '{ print $3 }' "$log" | sort -n | awk '
    { v[NR] = $1 }
    function pct(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] / 1000 }
    END { printf "%.3f %.3f %.3f %.3f %.3f", pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1) }')
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
printf '  %-44s %s\n' \
  "failed requests (not HTTP 2xx), all runs" "$TOTAL_FAILED / $TOTAL_REQS ($(awk -v f="$TOTAL_FAILED" -v t="$TOTAL_REQS" 'BEGIN { printf "%.4f%%", 100 * f / t }'))" \
  "runs with a failed or non-OK reply" "$BAD_RUNS" \
  "CPU busy before start; max 'other' in a run" "$BUSY_BEFORE%; $MAX_OTHER_PCT% of a core"
if [ "$MAX_OTHER_PCT" -gt 15 ]; then
  echo "WARNING: something besides the router and h2load used the CPU during a run (see 'other'): rerun when idle."
fi
[ "$BAD_RUNS" = 0 ]
