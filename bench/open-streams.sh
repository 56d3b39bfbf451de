#!/usr/bin/env bash
# What 10 000 open streams cost one router: heap and RSS while STREAMS concurrent StreamChat calls are held open by
# paced replay, against the same router idle.
#
# What it measures: one router in replay mode over cassettes/recorded/ (call log on, metrics on an admin listener),
# then h2load opens CONNS connections x STREAMS_PER_CONN concurrent StreamChat calls of the demo request with
# `x-cassette-pace: GAP_MS` (each stream stays open about 4 x GAP_MS: the demo answer has four events). Once the
# router's `llmrouter_open_streams{rpc="StreamChat"}` gauge shows them all open, it reads the heap in use after a full
# GC (the live set: `jcmd GC.run`, then `GC.heap_info`), the heap committed and the process RSS; then it waits for
# every stream to end OK and reads them again.
#
# How to read it:
#   - Goal (issue 18): 10 000 open streams on one replica in at most 1 GiB of heap.
#   - "per stream" is (live heap with the streams open - live heap idle) / open streams.
#
# Usage:   bench/open-streams.sh
# Knobs:   CONNS=100 STREAMS_PER_CONN=100 GAP_MS=5000 JAR=server/target/llm-router.jar
# Needs:   the jar, Java 17 (jcmd), h2load (apt-installed if missing), curl.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-100}
STREAMS_PER_CONN=${STREAMS_PER_CONN:-100}
GAP_MS=${GAP_MS:-5000}
TOTAL=$((CONNS * STREAMS_PER_CONN))
STREAM_CHAT=llmrouter.v1.ChatService/StreamChat

CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_prelude
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"
print_setup "llm-router open-stream footprint ($TOTAL paced StreamChat calls)"
cat >"$WORK/router.yaml" <<EOF
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: "$WORK/data"
cassettes: { dir: cassettes/recorded, mode: replay }
providers:
  - { name: openai, type: openai, base_url: https://api.openai.com/v1 }
EOF
start_router --config "$WORK/router.yaml"
open_streams() {
  curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '/^llmrouter_open_streams\{.*rpc="StreamChat"/ { n = int($2) } END { print n + 0 }'
}
# footprint LABEL: live heap after a full GC, heap committed, RSS (MiB); sets LIVE_MIB.
footprint() {
  local info used committed rss
  jcmd "$ROUTER_PID" GC.run >/dev/null
  info=$(jcmd "$ROUTER_PID" GC.heap_info)
  used=$(sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\2/p' <<<"$info" | head -1)
  committed=$(sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\1/p' <<<"$info" | head -1)
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$ROUTER_PID/status")
  LIVE_MIB=$(awk -v k="$used" 'BEGIN { printf "%.1f", k / 1024 }')
  printf '  %-28s live heap %7s MiB   heap committed %6.0f MiB   RSS %6.0f MiB   open streams %s\n' "$1" \
    "$LIVE_MIB" "$(awk -v k="$committed" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
    "$(open_streams)"
}

# Warm-up: unpaced streams, so that the idle figure counts the code paths' classes and caches; one stream's DATA
# bytes, to check that every stream under load got the whole answer (a gRPC error is HTTP 200 with no DATA).
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$STREAM_CHAT" -n 1 -c 1
REPLY_BYTES=$(data_of "$WORK/one.txt")
[ "$REPLY_BYTES" -gt 0 ] || { echo "StreamChat of the demo request answered no events" >&2; exit 1; }
h2load_grpc "$WORK/warm.txt" "$WORK/chat.bin" "$STREAM_CHAT" -n 2000 -c 4 -m 16 -t 1
check_replies "$WORK/warm.txt" "$REPLY_BYTES" warm-up
echo
echo "== heap and RSS"
footprint "idle, after warm-up"
IDLE_MIB=$LIVE_MIB

CALL_HEADERS=(-H "x-cassette-pace: $GAP_MS")
h2load_grpc "$WORK/load.txt" "$WORK/chat.bin" "$STREAM_CHAT" -n "$TOTAL" -c "$CONNS" -m "$STREAMS_PER_CONN" -t 1 &
LOAD_PID=$!
for _ in $(seq 300); do
  [ "$(open_streams)" -ge "$TOTAL" ] && break
  sleep 0.1
done
OPEN_COUNT=$(open_streams)
footprint "$TOTAL streams open"
OPEN_MIB=$LIVE_MIB
wait "$LOAD_PID"
check_replies "$WORK/load.txt" "$REPLY_BYTES" "paced streams"
footprint "after they all ended"

echo
echo "== summary"
printf '  %-40s %s\n' \
  "streams open at once (gauge)" "$OPEN_COUNT of $TOTAL" \
  "streams that ended with the whole answer" "$(( $(data_of "$WORK/load.txt") / REPLY_BYTES )) of $(total_of "$WORK/load.txt")" \
  "live heap with them open" "$OPEN_MIB MiB   (goal <= 1024 MiB: $(awk -v m="$OPEN_MIB" 'BEGIN { print (m <= 1024) ? "met" : "NOT met" }'))" \
  "per open stream" "$(awk -v a="$OPEN_MIB" -v b="$IDLE_MIB" -v n="$OPEN_COUNT" 'BEGIN { printf "%.1f KiB", (a - b) * 1024 / (n > 0 ? n : 1) }')"
[ "$OPEN_COUNT" -ge "$TOTAL" ] && [ "$BAD_RUNS" = 0 ]
