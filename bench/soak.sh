#!/usr/bin/env bash
# Soak: MINUTES of mixed traffic through one router, with its heap and RSS sampled, to show that memory stays flat.
#
# What it runs, all to 127.0.0.1: the router (replay mode over cassettes/recorded/, call log on, as shipped) with a
# second provider, a mock OpenAI upstream (nginx, from bench/lib.sh); two h2load clients at fixed rates side by side:
#   - replayed Chat: the demo request "What is the capital of France?", a cassette hit, REPLAY_RATE req/s;
#   - live Chat: a request to the mock with `x-cassette-mode: off` (allow_mode_override), LIVE_RATE req/s.
# Every SAMPLE_S seconds it prints the heap in use and the old generation (jstat), the RSS and the router's threads;
# at the end, the first warm sample and the last side by side, and how many requests failed.
#
# How to read it: the heap in use swings with the young generation; the old generation holds what survives
# collections, so a leak grows it steadily. The RSS should level off once warm (JIT, heap growth, the call log's pages).
#
# Usage:   bench/soak.sh
# Knobs:   MINUTES=5 REPLAY_RATE=2000 LIVE_RATE=500 CONNS=8 SAMPLE_S=15
# Needs:   server/target/llm-router.jar (mvn -B -q -DskipTests package), Java 17 with jstat, Node, h2load and nginx
#          (both apt-installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${MINUTES:-5}
REPLAY_RATE=${REPLAY_RATE:-2000}
LIVE_RATE=${LIVE_RATE:-500}
CONNS=${CONNS:-8}
SAMPLE_S=${SAMPLE_S:-15}

# shellcheck source=bench/lib.sh
. bench/lib.sh # JAR, BUF, CHAT, HEALTH, the mock's request and answer; the helpers
REPLAY_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

bench_prelude
grpc_frame "$REPLAY_JSON" "$WORK/replay.bin"
grpc_frame "$MOCK_CHAT_JSON" "$WORK/live.bin"

print_setup "llm-router soak, $MINUTES min of mixed replayed and live traffic"
start_mock_upstream
cat >"$WORK/router.yaml" <<EOF
listen: 127.0.0.1:0
data_dir: "$WORK/data"
cassettes: { dir: cassettes/recorded, mode: replay, allow_mode_override: true }
providers:
  - { name: openai, type: openai, base_url: https://api.openai.com/v1, models: [gpt-4o-mini] }
  - { name: mock, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
EOF
start_router --config "$WORK/router.yaml" --port 0

# ---- correctness first: one hit and one live answer, gRPC OK -------------------------------------------------------
reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$REPLAY_JSON" "http://127.0.0.1:$PORT/$CHAT")
grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply" || { echo "not a replay hit: $reply" >&2; exit 1; }
reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -H 'x-cassette-mode: off' -d "$MOCK_CHAT_JSON" \
  "http://127.0.0.1:$PORT/$CHAT")
grep -q '"cassette": "CASSETTE_OUTCOME_LIVE"' <<<"$reply" || { echo "not a live answer: $reply" >&2; exit 1; }
echo "check: the replayed and the live Chat are gRPC OK (hit, live)"

# ---- sampling ------------------------------------------------------------------------------------------------------
# sample SECONDS_IN: one line of heap in use and old generation (MiB), RSS (MiB) and threads.
sample() {
  local gc rss threads
  gc=$(jstat -gc "$ROUTER_PID" | awk 'NR == 2 { printf "%.1f %.1f", ($3 + $4 + $6 + $8) / 1024, $8 / 1024 }')
  rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$ROUTER_PID/status")
  threads=$(ls "/proc/$ROUTER_PID/task" | wc -l)
  echo "$1 $gc $rss $threads"
}

SECONDS_TOTAL=$((MINUTES * 60))
echo
echo "== $MINUTES min: replayed Chat at $REPLAY_RATE req/s and live Chat at $LIVE_RATE req/s, $CONNS connections each"
printf '%6s %14s %10s %9s %8s\n' "t (s)" "heap in use" "old gen" "RSS" threads
# h2load --rps is per connection, and -n bounds the run: RATE x seconds requests each.
h2load_grpc "$WORK/replay.txt" "$WORK/replay.bin" "$CHAT" --rps $((REPLAY_RATE / CONNS)) -c "$CONNS" -t 1 \
  -n $((REPLAY_RATE * SECONDS_TOTAL)) &
REPLAY_LOAD=$!
h2load -H 'content-type: application/grpc' -H 'te: trailers' -H 'x-cassette-mode: off' -d "$WORK/live.bin" \
  --rps $((LIVE_RATE / CONNS)) -c "$CONNS" -t 1 -n $((LIVE_RATE * SECONDS_TOTAL)) \
  "http://127.0.0.1:$PORT/$CHAT" >"$WORK/live.txt" &
LIVE_LOAD=$!
: >"$WORK/samples.txt"
for ((t = 0; t <= SECONDS_TOTAL; t += SAMPLE_S)); do
  sample "$t" | tee -a "$WORK/samples.txt" | awk '{ printf "%6s %14s %10s %9s %8s\n", $1, $2, $3, $4, $5 }'
  [ "$t" -lt "$SECONDS_TOTAL" ] && sleep "$SAMPLE_S"
done
wait "$REPLAY_LOAD" "$LIVE_LOAD"

# ---- summary -------------------------------------------------------------------------------------------------------
echo
first=$(sed -n 2p "$WORK/samples.txt") # after the first interval: warm
last=$(tail -1 "$WORK/samples.txt")
read -r _ heap0 old0 rss0 _ <<<"$first"
read -r _ heap1 old1 rss1 _ <<<"$last"
echo "summary (first warm sample -> last):"
printf "  %-28s %s -> %s MiB\n" "heap in use" "$heap0" "$heap1" "old generation" "$old0" "$old1" "RSS" "$rss0" "$rss1"
for run in replay live; do
  printf "  %-28s %s of %s requests succeeded, %s req/s\n" "$run Chat" "$(succeeded_of "$WORK/$run.txt")" \
    "$(total_of "$WORK/$run.txt")" "$(rps_of "$WORK/$run.txt")"
done
echo "  CPU busy before start: $BUSY_BEFORE%"
