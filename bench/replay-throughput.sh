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
#   2. Latency of replay-hit Chat at a fixed rate (RATE req/s in total, spread over LAT_CONNS connections, for about
#      LAT_SECONDS s): p50/p90/p99/p99.9/max from h2load's per-request log (duration column, in microseconds).
#
# How to read it:
#   - Goals (from the issue): replay-hit req/s >= 70% of Health/Check req/s, and p99 < 1 ms at 10k req/s.
#   - h2load and the router share the machine's cores (2 on the reference machine), so absolute req/s says as much
#     about the machine as about the router; the replay/no-op ratio from the same run is the figure that matters.
#     Anything else busy (a Maven build...) skews both: the script prints how busy the CPU was before it started.
#   - "router CPU" is the router process's user+system CPU time during a run (from /proc), per request and as a
#     share of one core; "busiest thread" is its busiest thread's share of one core. When that is ~100%, one thread
#     (a Vert.x event loop) is the limit, and max req/s ~ 1 / (its CPU time per request).
#   - "failed" = requests h2load did not see complete with HTTP 2xx. h2load cannot see gRPC status (it is in the
#     trailers), so the script also checks the DATA bytes: every OK reply carries exactly one full message (as long
#     as the one checked with buf curl before load), while a gRPC error is a trailers-only reply with no DATA.
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
# Machine-wide CPU busy % over 2 s (from /proc/stat).
cpu_busy_pct() {
  local u n s i w q sq st b1 t1
  read -r _ u n s i w q sq st _ </proc/stat; b1=$((u + n + s + q + sq + st)); t1=$((b1 + i + w))
  sleep 2
  read -r _ u n s i w q sq st _ </proc/stat; b2=$((u + n + s + q + sq + st)); t2=$((b2 + i + w))
  echo $((100 * (b2 - b1) / (t2 - t1)))
}

# CPU time (user+system, in clock ticks) of each router thread so far: "<stat file> <ticks>" lines. The command
# name in /proc/.../stat may hold spaces, so fields are counted after its closing parenthesis.
thread_ticks() {
  awk '{ sub(/.*\) /, ""); print FILENAME, $12 + $13 }' /proc/"$ROUTER_PID"/task/*/stat 2>/dev/null || true
}
# From two thread_ticks snapshots: "<ticks of the whole process> <ticks of its busiest thread>".
ticks_delta() {
  awk 'FNR == NR { before[$1] = $2; next }
       { d = $2 - before[$1]; total += d; if (d > max) max = d }
       END { print total + 0, max + 0 }' "$1" "$2"
}
TICKS_PER_S=$(getconf CLK_TCK)

# h2load_grpc OUT BODY RPC [h2load options...]: one h2load run of a unary gRPC call; its output goes to OUT.
h2load_grpc() {
  local out=$1 body=$2 rpc=$3
  shift 3
  h2load -H 'content-type: application/grpc' -H 'te: trailers' -d "$body" "$@" "http://127.0.0.1:$PORT/$rpc" >"$out"
}

# Figures out of an h2load output: req/s, total, succeeded (2xx), DATA bytes.
rps_of() { awk '/^finished in/ { print $4 }' "$1"; }
total_of() { awk '/^requests:/ { print $2 }' "$1"; }
succeeded_of() { awk '/^requests:/ { print $8 }' "$1"; }
data_of() { sed -n 's/^traffic:.*(\([0-9]*\)) data.*/\1/p' "$1"; }
wall_s_of() { awk '/^finished in/ { v = $3; sub(/,$/, "", v); if (v ~ /ms$/) { sub(/ms$/, "", v); v /= 1000 } else sub(/s$/, "", v); print v }' "$1"; }

# check_bodies OUT REPLY_BYTES NAME: warns unless every request succeeded with exactly one full reply message.
BAD_RUNS=0
check_bodies() {
  local total ok data
  total=$(total_of "$1"); ok=$(succeeded_of "$1"); data=$(data_of "$1")
  if [ "$ok" != "$total" ] || [ "$data" != $((total * $2)) ]; then
    echo "  WARNING $3: $ok/$total succeeded, $data DATA bytes (expected $((total * $2)) for all-OK replies)"
    BAD_RUNS=$((BAD_RUNS + 1))
  fi
}

# ---- start the router ----------------------------------------------------------------------------------------------
echo "== llm-router replay-hit benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1), $(h2load --version | head -1)"
BUSY_BEFORE=$(cpu_busy_pct)
echo "CPU busy before start: $BUSY_BEFORE% (should be ~0)"
if [ "$BUSY_BEFORE" -gt 20 ]; then
  echo "WARNING: something else is using the CPU (a build?); every figure below is skewed by it:"
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
  check_bodies "$WORK/warm.txt" "$CHAT_REPLY_BYTES" "warm-up Chat"
  h2load_grpc "$WORK/warm.txt" "$WORK/health.bin" "$HEALTH" -n "$WARMUP" -c "$CONNS" -m "$STREAMS" -t 1
  check_bodies "$WORK/warm.txt" "$HEALTH_REPLY_BYTES" "warm-up Health/Check"
done

# ---- 1. max throughput, alternating ---------------------------------------------------------------------------------
echo
echo "== 1. max throughput: h2load -n $N -c $CONNS -m $STREAMS -t 1 (closed loop), alternating, $ROUNDS rounds"
printf '%-6s %-14s %11s %7s %7s %15s %11s %15s\n' round rpc "req/s" failed "wall s" "router CPU/req" "router CPU" "busiest thread"
TOTAL_REQS=0
TOTAL_FAILED=0
declare -A SUM=([chat]=0 [health]=0)
throughput_run() { # round name body rpc reply_bytes
  local out="$WORK/tp-$2-$1.txt" rps total ok wall ticks
  thread_ticks >"$WORK/ticks0.txt"
  h2load_grpc "$out" "$3" "$4" -n "$N" -c "$CONNS" -m "$STREAMS" -t 1
  thread_ticks >"$WORK/ticks1.txt"
  ticks=$(ticks_delta "$WORK/ticks0.txt" "$WORK/ticks1.txt")
  rps=$(rps_of "$out"); total=$(total_of "$out"); ok=$(succeeded_of "$out"); wall=$(wall_s_of "$out")
  TOTAL_REQS=$((TOTAL_REQS + total)); TOTAL_FAILED=$((TOTAL_FAILED + total - ok))
  SUM[$2]=$(awk -v a="${SUM[$2]}" -v b="$rps" 'BEGIN { print a + b }')
  # CPU shares are of one core over the run's wall time.
  awk -v r="$1" -v n="$2" -v rps="$rps" -v f=$((total - ok)) -v w="$wall" -v t="$total" -v hz="$TICKS_PER_S" \
    -v cpu="${ticks% *}" -v top="${ticks#* }" 'BEGIN {
    printf "%-6s %-14s %11.0f %7d %7.2f %12.1f us %10.0f%% %14.0f%%\n", r, n, rps, f, w,
      cpu / hz * 1e6 / t, 100 * cpu / hz / w, 100 * top / hz / w }'
  check_bodies "$out" "$5" "$2 round $1"
}
for round in $(seq "$ROUNDS"); do
  throughput_run "$round" chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  throughput_run "$round" health "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done
CHAT_RPS=$(awk -v s="${SUM[chat]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", s / n }')
HEALTH_RPS=$(awk -v s="${SUM[health]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", s / n }')
RATIO=$(awk -v a="$CHAT_RPS" -v b="$HEALTH_RPS" 'BEGIN { printf "%.2f", a / b }')

# ---- 2. latency at a fixed rate ------------------------------------------------------------------------------------
# h2load --rps is per connection. Each setting of LAT_STREAMS (max streams in flight per connection) is one run of
# Chat and one of Health/Check (the no-op, for what the transport and h2load cost by themselves). With -m 1 (h2load's
# default) a connection waits for its reply before the next request, so a slow reply delays the following ones and
# is under-counted; with more streams the rate holds whatever the replies do.
PER_CONN=$((RATE / LAT_CONNS))
LAT_N=$((RATE * LAT_SECONDS))
echo
echo "== 2. latency at $RATE req/s: h2load -n $LAT_N -c $LAT_CONNS -m M -t 1 --rps $PER_CONN (~${LAT_SECONDS} s each)"
printf '%-4s %-14s %10s %7s %8s %8s %8s %8s %8s
' M rpc "req/s" non-200 "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "max ms"
declare -A P50 P99
latency_run() { # streams name body rpc reply_bytes
  local out="$WORK/lat-$2-$1.txt" log="$WORK/lat-$2-$1.log" total ok
  rm -f "$log" # h2load appends to its log file
  h2load_grpc "$out" "$3" "$4" -n "$LAT_N" -c "$LAT_CONNS" -m "$1" -t 1 --rps "$PER_CONN" --log-file "$log"
  total=$(total_of "$out"); ok=$(succeeded_of "$out")
  TOTAL_REQS=$((TOTAL_REQS + total)); TOTAL_FAILED=$((TOTAL_FAILED + total - ok))
  # Log columns: start time (us since epoch), HTTP status, duration (us). Percentile = nearest rank.
  awk '{ print $3 }' "$log" | sort -n | awk -v m="$1" -v n="$2" -v rps="$(rps_of "$out")" \
    -v bad="$(awk '$2 != 200' "$log" | wc -l)" '
    { v[NR] = $1 }
    function pct(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] / 1000 }
    END { printf "%-4s %-14s %10.0f %7d %8.3f %8.3f %8.3f %8.3f %8.3f\n", m, n, rps, bad,
            pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1) }' | tee "$WORK/lat-row.txt"
  P50[$2-$1]=$(awk '{ print $5 }' "$WORK/lat-row.txt")
  P99[$2-$1]=$(awk '{ print $7 }' "$WORK/lat-row.txt")
  check_bodies "$out" "$5" "latency $2 -m $1"
}
for streams in $LAT_STREAMS; do
  latency_run "$streams" chat "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  latency_run "$streams" health "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done

# ---- the router must still be healthy and replaying after the load --------------------------------------------------
"$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" |
  grep -q CASSETTE_OUTCOME_HIT || { echo "Chat is no longer a gRPC-OK replay hit after the load" >&2; BAD_RUNS=$((BAD_RUNS + 1)); }

# ---- summary -------------------------------------------------------------------------------------------------------
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }
echo
echo "== summary ($(nproc) cores, shared by h2load and the router: compare ratios, not absolute figures;"
echo "   CPU busy before start: $BUSY_BEFORE%)"
printf '  %-44s %s\n' \
  "replay-hit Chat, max req/s (mean of $ROUNDS)" "$CHAT_RPS" \
  "Health/Check (no-op), max req/s (mean of $ROUNDS)" "$HEALTH_RPS" \
  "ratio replay / no-op" "$RATIO   (goal >= 0.70: $(verdict "$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.70) }')"))"
for streams in $LAT_STREAMS; do
  printf '  %-44s %s\n' \
    "Chat at $RATE req/s, -m $streams: p50 / p99" \
    "${P50[chat-$streams]} / ${P99[chat-$streams]} ms   (goal p99 < 1 ms: $(verdict "$(awk -v p="${P99[chat-$streams]}" 'BEGIN { print (p < 1) }')"))" \
    "  no-op Health/Check, same setting" "${P50[health-$streams]} / ${P99[health-$streams]} ms"
done
printf '  %-44s %s\n' \
  "failed requests (not HTTP 2xx), all runs" "$TOTAL_FAILED / $TOTAL_REQS ($(awk -v f="$TOTAL_FAILED" -v t="$TOTAL_REQS" 'BEGIN { printf "%.4f%%", 100 * f / t }'))" \
  "runs with a failed or non-OK reply" "$BAD_RUNS"
[ "$BAD_RUNS" = 0 ]
