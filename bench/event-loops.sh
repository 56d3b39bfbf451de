#!/usr/bin/env bash
# How llm-router scales with its event loops: the same jar with `--event-loops 1` and with `--event-loops LOOPS`, on
# the replay-hit path and on the live path, in one sitting.
#
# What it measures, with all traffic to 127.0.0.1:
#   - replay: two routers in their embedded default (replay over cassettes/recorded/, call log on), one with 1 event
#     loop and one with LOOPS; replay-hit Chat ("What is the capital of France?", checked to be CASSETTE_OUTCOME_HIT).
#   - live: two routers in live mode (cassettes "off") over the nginx mock of bench/proxy-overhead.sh, 1 and LOOPS
#     loops; Chat of `mock/gpt-4o-mini` (checked to be the mock's answer, CASSETTE_OUTCOME_LIVE).
#   Each router is warmed up (3 x WARMUP requests), then for each path the two routers are loaded alternately, ROUNDS
#   times each, closed loop (h2load -c CONNS -m STREAMS -t 1, N requests): every run is reported, then the means and
#   the ratios LOOPS loops / 1 loop of req/s and of router CPU per request.
#
# How to read it:
#   - Goal (issue 18): LOOPS loops give at least 1.3 x the req/s of 1 loop, at about the same CPU per request.
#   - h2load (one thread) and the router share the machine's cores (2 on the reference machine), as does nginx on the
#     live path: more loops than cores left free gains nothing. Compare within one run; machines vary from day to day.
#   - The CPU columns are those of bench/replay-throughput.sh (shares of ONE core over the run); "busiest" is the
#     router's busiest thread: at ~100% with 1 loop, that loop is the ceiling.
#
# Usage:   bench/event-loops.sh
# Knobs:   LOOPS=2 N=200000 LIVE_N=100000 CONNS=4 STREAMS=16 ROUNDS=3 WARMUP=100000 JAR=server/target/llm-router.jar
# Needs:   as bench/proxy-overhead.sh (the jar, Java 17, Node 18+, h2load and nginx, curl).
set -euo pipefail
cd "$(dirname "$0")/.."

LOOPS=${LOOPS:-2}
N=${N:-200000}
LIVE_N=${LIVE_N:-100000}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-100000}

REPLAY_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

# shellcheck source=bench/lib.sh
. bench/lib.sh

CHAT_JSON=$MOCK_CHAT_JSON # what check_live sends

bench_prelude
grpc_frame "$REPLAY_JSON" "$WORK/replay.bin"
grpc_frame "$MOCK_CHAT_JSON" "$WORK/live.bin"

print_setup "llm-router event-loop scaling benchmark (1 vs $LOOPS loops)"
start_mock_upstream
cat >"$WORK/live.yaml" <<EOF
listen: 127.0.0.1:0
cassettes: { mode: "off" }
providers:
  - { name: mock, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
EOF

# The four routers: PID and PORT of each, by "<path>-<loops>".
declare -A PIDS PORTS REPLY_BYTES
for loops in 1 "$LOOPS"; do
  start_router --port 0 --event-loops "$loops" --data-dir "$WORK/data-replay-$loops"
  PIDS[replay-$loops]=$ROUTER_PID PORTS[replay-$loops]=$PORT
  start_router --config "$WORK/live.yaml" --event-loops "$loops" --data-dir "$WORK/data-live-$loops"
  PIDS[live-$loops]=$ROUTER_PID PORTS[live-$loops]=$PORT
done
use_router() { ROUTER_PID=${PIDS[$1]} PORT=${PORTS[$1]}; }

# ---- correctness first, and each reply's DATA bytes to check the replies under load ---------------------------------
for loops in 1 "$LOOPS"; do
  use_router "replay-$loops"
  reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$REPLAY_JSON" "http://127.0.0.1:$PORT/$CHAT")
  grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply" || { echo "replay-$loops: not a hit: $reply" >&2; exit 1; }
  use_router "live-$loops"
  if ! why=$(check_live); then echo "live-$loops: $why" >&2; exit 1; fi
  for path in replay live; do
    use_router "$path-$loops"
    h2load_grpc "$WORK/one.txt" "$WORK/$path.bin" "$CHAT" -n 1 -c 1
    REPLY_BYTES[$path-$loops]=$(data_of "$WORK/one.txt")
  done
done
echo "check: replay routers answer CASSETTE_OUTCOME_HIT, live routers the mock's text (CASSETTE_OUTCOME_LIVE)"

echo "warm-up: 3 x $WARMUP requests per router"
for _ in 1 2 3; do
  for key in "replay-1" "replay-$LOOPS" "live-1" "live-$LOOPS"; do
    use_router "$key"
    warm_up_grpc "$key" "$WORK/${key%-*}.bin" "$CHAT" "${REPLY_BYTES[$key]}"
  done
done

# ---- closed-loop throughput, alternating 1 loop and LOOPS loops ------------------------------------------------------
echo
echo "== max throughput: h2load -c $CONNS -m $STREAMS -t 1 (closed loop); -n $N replay, -n $LIVE_N live;" \
  "1 and $LOOPS loops alternating, $ROUNDS rounds"
echo "   (CPU columns: % of one core over the run; see the header of bench/replay-throughput.sh)"
printf '%-6s %-5s %-5s %9s %6s %14s %7s %8s %7s %6s %6s\n' \
  path loops round "req/s" failed "router CPU/req" router busiest nginx h2load other
for key in "replay-1" "replay-$LOOPS" "live-1" "live-$LOOPS"; do : >"$WORK/rps-$key.txt"; : >"$WORK/cpu-$key.txt"; done
for path in replay live; do
  n=$N
  [ "$path" = live ] && n=$LIVE_N
  for round in $(seq "$ROUNDS"); do
    for loops in 1 "$LOOPS"; do
      key=$path-$loops out="$WORK/tp-$path-$loops-$round.txt"
      use_router "$key"
      measured "$out" "$WORK/$path.bin" "$CHAT" -n "$n" -c "$CONNS" -m "$STREAMS" -t 1
      check_replies "$out" "${REPLY_BYTES[$key]}" "$key round $round" >"$WORK/check.txt"
      rps_of "$out" >>"$WORK/rps-$key.txt"
      echo "$CPU_REQ_US" >>"$WORK/cpu-$key.txt"
      printf '%-6s %-5s %-5s %9.0f %6d %11s us %6s%% %7s%% %6s%% %5s%% %5s%%\n' "$path" "$loops" "$round" \
        "$(rps_of "$out")" $(($(total_of "$out") - $(succeeded_of "$out"))) "$CPU_REQ_US" "$ROUTER_PCT" \
        "$BUSIEST_PCT" "$EXTRA_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
      cat "$WORK/check.txt"
    done
  done
done

# ---- summary -------------------------------------------------------------------------------------------------------
mean_of() { awk '{ s += $1 } END { printf "%.1f", s / NR }' "$1"; }
echo
echo "== summary ($(nproc) cores shared by h2load, nginx and the router: compare within the run)"
printf '  %-8s %12s %12s %10s %16s %16s %10s\n' path "req/s 1 loop" "req/s $LOOPS" ratio "CPU/req 1 loop" \
  "CPU/req $LOOPS" ratio
for path in replay live; do
  r1=$(mean_of "$WORK/rps-$path-1.txt") rn=$(mean_of "$WORK/rps-$path-$LOOPS.txt")
  c1=$(mean_of "$WORK/cpu-$path-1.txt") cn=$(mean_of "$WORK/cpu-$path-$LOOPS.txt")
  printf '  %-8s %12.0f %12.0f %10s %13s us %13s us %10s\n' "$path" "$r1" "$rn" \
    "$(awk -v a="$rn" -v b="$r1" 'BEGIN { printf "%.2f", a / b }')" "$c1" "$cn" \
    "$(awk -v a="$cn" -v b="$c1" 'BEGIN { printf "%.2f", a / b }')"
done
echo "  goal: req/s ratio >= 1.3 at a CPU/req ratio of about 1"
print_run_checks 44 "the routers, nginx and h2load"
[ "$BAD_RUNS" = 0 ]
