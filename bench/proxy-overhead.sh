#!/usr/bin/env bash
# Live proxy overhead of llm-router: Chat through the router to a local mock OpenAI upstream, against the same mock
# called directly.
#
# What it measures, in one run, with all traffic to 127.0.0.1:
#   - The mock: nginx (apt-installed if missing) from a generated config in a temp dir, one worker, on a free port.
#     POST /v1/chat/completions returns a fixed chat.completion ("Hello from the mock.", with usage) from memory.
#   - The router: the jar in live mode over it (cassettes "off", one provider `mock` of type openai), on a free port.
#     Before any load, buf curl checks that Chat of `mock/gpt-4o-mini` "Hi" is gRPC OK, with the mock's text and
#     origin CASSETTE_OUTCOME_LIVE; and again after the load.
#   - "direct" sends the mock the very JSON body the router sends it for that Chat, over HTTP/1.1 keep-alive
#     (h2load --h1). "router" sends the router the Chat as a gRPC frame over HTTP/2; the router then makes one
#     HTTP/1.1 call to the mock (pooled keep-alive connections) per request.
#   1. Maximum throughput, closed loop, direct (-c DIRECT_CONNS -m 1) and router (-c CONNS -m STREAMS), alternating,
#      ROUNDS times each; every run is reported, then the mean of each and the ratio router / direct.
#   2. Latency at fixed rates (each of RATES req/s in total, over each of LAT_CONNS connections, -m 1, about
#      LAT_SECONDS s per run): direct, router, and the router's no-op (grpc.health.v1.Health/Check on the same port: the
#      share of the gRPC server alone). p50/p90/p99/p99.9/max from h2load's per-request log (duration column,
#      microseconds), and the ADDED latency: router minus direct, at p50 and p99, same rate, same connections. A rate
#      above MAX_SHARE x the router's max req/s from step 1 is skipped (the router would not keep up).
#
# How to read it:
#   - h2load, nginx and the router share the machine's cores (2 on the reference machine): absolute figures say as much
#     about the machine as about the router; compare the two paths within one run.
#   - Per run, CPU time from /proc (shares are of ONE core over the run's wall time), as in replay-throughput.sh:
#       router CPU/req   the router process's CPU time per request (gRPC in, JSON out, HTTP call, JSON in, gRPC out);
#       nginx CPU/req    the mock's (master and worker) CPU time per request: what the direct path costs upstream;
#       router, busiest  the router process, and its busiest thread (~100% = that thread is the limit);
#       nginx, h2load    the mock and the load generator;
#       other            everything else (kernel softirq; a build running beside skews the run: rerun when idle).
#   - "failed" = requests h2load did not see complete with HTTP 2xx. For the router, h2load cannot see the gRPC status
#     (trailers), so the DATA bytes are checked too: every OK reply carries exactly one full message (as long as the
#     one checked with buf curl), while a gRPC error is a trailers-only reply with no DATA. For direct, every reply
#     must be the mock's full body.
#   - Latency with -m 1: a connection waits for its reply before sending the next request, so a slow reply delays the
#     next ones and is under-counted (coordinated omission); the achieved req/s shows whether the rate held.
#   - h2load paces --rps with one timer per connection, and with -t 1 they all fire together: over C connections the
#     requests come in bursts of C every C/RATE s, and the last of a burst waits for the others. Latency over 10
#     connections is then mostly queueing behind the burst (per-request cost x burst size, on both paths); over 1
#     connection there is no burst, and the added latency is the router's own time per request.
#
# Usage:   bench/proxy-overhead.sh
# Knobs:   N=100000 DIRECT_CONNS=4 CONNS=4 STREAMS=16 ROUNDS=2 WARMUP=100000 RATES="2000 5000" LAT_CONNS="10 1"
#          LAT_SECONDS=10 MAX_SHARE=0.8 EVENT_LOOPS= (the router's --event-loops; empty: its default, one per core)
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), h2load and nginx (apt-installed if
#          missing), curl.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
DIRECT_CONNS=${DIRECT_CONNS:-4}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-100000}
RATES=${RATES:-"2000 5000"}
LAT_CONNS=${LAT_CONNS:-"10 1"}
LAT_SECONDS=${LAT_SECONDS:-10}
MAX_SHARE=${MAX_SHARE:-0.8}
EVENT_LOOPS=${EVENT_LOOPS:-}

# shellcheck source=bench/lib.sh
. bench/lib.sh # JAR, BUF, CHAT, HEALTH, the mock's request and answer; the helpers
CHAT_JSON=$MOCK_CHAT_JSON

# ---- prerequisites -------------------------------------------------------------------------------------------------
bench_prelude

# ---- request bodies ------------------------------------------------------------------------------------------------
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"

# ---- helpers -------------------------------------------------------------------------------------------------------

# h2load_direct OUT [h2load options...]: one h2load run against the mock, HTTP/1.1 keep-alive; its output goes to OUT.
h2load_direct() {
  local out=$1
  shift
  h2load --h1 -H 'content-type: application/json' -d "$WORK/upstream.json" "$@" \
    "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" >"$out"
}

mean() { awk '{ s += $1 } END { printf "%.0f", s / NR }'; }

# ---- start the mock ------------------------------------------------------------------------------------------------
print_setup "llm-router live proxy overhead benchmark"

start_mock_upstream

# ---- start the router, live over the mock --------------------------------------------------------------------------
cat >"$WORK/router.yaml" <<EOF
listen: 127.0.0.1:0
data_dir: "$WORK/data"
cassettes: { mode: "off" }
providers:
  - { name: mock, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
EOF
start_router --config "$WORK/router.yaml" --port 0 ${EVENT_LOOPS:+--event-loops "$EVENT_LOOPS"}

# ---- correctness first: Chat must be answered live by the mock, gRPC OK --------------------------------------------
if ! why=$(check_live); then echo "$why" >&2; exit 1; fi
echo "check: Chat is gRPC OK, origin CASSETTE_OUTCOME_LIVE, text: \"$MOCK_TEXT\""

# The DATA bytes of one OK reply on each path, to check the replies under load.
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$CHAT" -n 1 -c 1
CHAT_REPLY_BYTES=$(data_of "$WORK/one.txt")
h2load_direct "$WORK/one.txt" -n 1 -c 1
MOCK_REPLY_BYTES=$(data_of "$WORK/one.txt")
h2load_grpc "$WORK/one.txt" "$WORK/health.bin" "$HEALTH" -n 1 -c 1
HEALTH_REPLY_BYTES=$(data_of "$WORK/one.txt")
echo "check: one OK reply is $CHAT_REPLY_BYTES DATA bytes through the router, $MOCK_REPLY_BYTES body bytes direct," \
  "$HEALTH_REPLY_BYTES for Health/Check"

# ---- warm-up (JIT) -------------------------------------------------------------------------------------------------
echo "warm-up: 3 x $WARMUP requests on each path (and of Health/Check), alternating"
for _ in 1 2 3; do
  h2load_direct "$WORK/warm.txt" -n "$WARMUP" -c "$DIRECT_CONNS" -m 1 -t 1
  check_replies "$WORK/warm.txt" "$MOCK_REPLY_BYTES" "warm-up direct"
  warm_up_grpc router "$WORK/chat.bin" "$CHAT" "$CHAT_REPLY_BYTES"
  warm_up_grpc Health/Check "$WORK/health.bin" "$HEALTH" "$HEALTH_REPLY_BYTES"
done

# ---- 1. max throughput, alternating ---------------------------------------------------------------------------------
echo
echo "== 1. max throughput, closed loop, -n $N -t 1: direct h2load --h1 -c $DIRECT_CONNS -m 1," \
  "router -c $CONNS -m $STREAMS; alternating, $ROUNDS rounds"
echo "   (CPU columns: % of one core over the run; see the header of this script)"
printf '%-5s %-6s %9s %6s %7s %10s %10s %7s %8s %6s %7s %6s\n' \
  round path "req/s" failed "wall s" "router/req" "nginx/req" router busiest nginx h2load other
: >"$WORK/tp-direct.txt"; : >"$WORK/tp-router.txt"; : >"$WORK/cpu-router.txt"
BUSIEST_THREADS=
throughput_run() { # round path
  local out="$WORK/tp-$2-$1.txt"
  if [ "$2" = direct ]; then
    measured_with h2load_direct "$out" -n "$N" -c "$DIRECT_CONNS" -m 1 -t 1
    check_replies "$out" "$MOCK_REPLY_BYTES" "direct round $1" >"$WORK/check.txt"
  else
    measured "$out" "$WORK/chat.bin" "$CHAT" -n "$N" -c "$CONNS" -m "$STREAMS" -t 1
    check_replies "$out" "$CHAT_REPLY_BYTES" "router round $1" >"$WORK/check.txt"
    echo "$CPU_REQ_US" >>"$WORK/cpu-router.txt"
    BUSIEST_THREADS="$BUSIEST_THREADS $BUSIEST_NAME ($BUSIEST_PCT%)"
  fi
  rps_of "$out" >>"$WORK/tp-$2.txt"
  printf '%-5s %-6s %9.0f %6d %7.2f %7s us %7s us %6s%% %7s%% %5s%% %6s%% %5s%%\n' "$1" "$2" "$(rps_of "$out")" \
    $(($(total_of "$out") - $(succeeded_of "$out"))) "$(wall_s_of "$out")" \
    "$CPU_REQ_US" "$EXTRA_REQ_US" "$ROUTER_PCT" "$BUSIEST_PCT" "$EXTRA_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  cat "$WORK/check.txt"
}
for round in $(seq "$ROUNDS"); do
  throughput_run "$round" direct
  throughput_run "$round" router
done
DIRECT_RPS=$(mean <"$WORK/tp-direct.txt")
ROUTER_RPS=$(mean <"$WORK/tp-router.txt")
RATIO=$(awk -v a="$ROUTER_RPS" -v b="$DIRECT_RPS" 'BEGIN { printf "%.2f", a / b }')
ROUTER_CPU_REQ=$(awk '{ s += $1 } END { printf "%.1f", s / NR }' "$WORK/cpu-router.txt")

# ---- 2. latency at fixed rates -------------------------------------------------------------------------------------
# h2load --rps is per connection: RATE / C each.
echo
echo "== 2. latency at fixed rates: -n RATE*$LAT_SECONDS -c C -m 1 -t 1 --rps RATE/C (~${LAT_SECONDS} s each);" \
  "direct, router, then the router's no-op (Health/Check) as a baseline"
printf '%-6s %-3s %-6s %7s %7s %7s %7s %7s %8s %7s %10s %6s %6s %6s %6s\n' \
  rate C path "req/s" non-200 "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "max ms" "router/req" router nginx h2load other
declare -A P50 P99 ACHIEVED
DONE=
latency_run() { # rate conns path
  local key="$3-$1-$2" out="$WORK/lat-$3-$1-$2.txt" log="$WORK/lat-$3-$1-$2.log" row
  local per_conn=$(($1 / $2)) n=$(($1 * LAT_SECONDS))
  rm -f "$log" # h2load appends to its log file
  case $3 in
    direct)
      measured_with h2load_direct "$out" -n "$n" -c "$2" -m 1 -t 1 --rps "$per_conn" --log-file "$log"
      check_replies "$out" "$MOCK_REPLY_BYTES" "latency $key" >"$WORK/check.txt" ;;
    router)
      measured "$out" "$WORK/chat.bin" "$CHAT" -n "$n" -c "$2" -m 1 -t 1 --rps "$per_conn" --log-file "$log"
      check_replies "$out" "$CHAT_REPLY_BYTES" "latency $key" >"$WORK/check.txt" ;;
    noop)
      measured "$out" "$WORK/health.bin" "$HEALTH" -n "$n" -c "$2" -m 1 -t 1 --rps "$per_conn" --log-file "$log"
      check_replies "$out" "$HEALTH_REPLY_BYTES" "latency $key" >"$WORK/check.txt" ;;
  esac
  row=$(percentiles "$log")
  read -r p50 p90 p99 p999 pmax <<<"$row"
  P50[$key]=$p50
  P99[$key]=$p99
  ACHIEVED[$key]=$(rps_of "$out")
  printf '%-6s %-3s %-6s %7.0f %7d %7s %7s %7s %8s %7s %7s us %5s%% %5s%% %5s%% %5s%%\n' "$1" "$2" "$3" \
    "$(rps_of "$out")" "$(awk '$2 != 200' "$log" | wc -l)" "$p50" "$p90" "$p99" "$p999" "$pmax" "$CPU_REQ_US" \
    "$ROUTER_PCT" "$EXTRA_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  cat "$WORK/check.txt"
}
for rate in $RATES; do
  if awk -v r="$rate" -v max="$ROUTER_RPS" -v s="$MAX_SHARE" 'BEGIN { exit !(r > s * max) }'; then
    echo "$rate: skipped, above $MAX_SHARE x the router's max throughput ($ROUTER_RPS req/s)"
    continue
  fi
  for conns in $LAT_CONNS; do
    for path in direct router noop; do latency_run "$rate" "$conns" "$path"; done
    DONE="$DONE $rate-$conns"
  done
done

# ---- the router must still answer live after the load ---------------------------------------------------------------
if ! why=$(check_live); then
  echo "WARNING: after the load: $why"
  BAD_RUNS=$((BAD_RUNS + 1))
fi

# ---- summary -------------------------------------------------------------------------------------------------------
echo
echo "== summary ($(nproc) cores shared by h2load, nginx and the router: compare within the run, not across machines)"
printf '  %-54s %s\n' \
  "mock direct, max req/s (mean of $ROUNDS, -c $DIRECT_CONNS -m 1)" "$DIRECT_RPS" \
  "through the router, max req/s (mean of $ROUNDS, -c $CONNS -m $STREAMS)" "$ROUTER_RPS" \
  "ratio router / direct" "$RATIO" \
  "router CPU per proxied request (max throughput)" "$ROUTER_CPU_REQ us" \
  "router's busiest thread per round" "${BUSIEST_THREADS# }"
for rc in $DONE; do
  rate=${rc%-*} conns=${rc#*-}
  printf '  %-54s %s\n' \
    "at $rate req/s over $conns conns: direct p50 / p99" \
    "${P50[direct-$rc]} / ${P99[direct-$rc]} ms (${ACHIEVED[direct-$rc]} req/s)" \
    "  router p50 / p99" "${P50[router-$rc]} / ${P99[router-$rc]} ms (${ACHIEVED[router-$rc]} req/s)" \
    "  ADDED by the router (router - direct), p50 / p99" "$(awk -v a="${P50[router-$rc]}" -v b="${P50[direct-$rc]}" \
      -v c="${P99[router-$rc]}" -v d="${P99[direct-$rc]}" 'BEGIN { printf "%.3f / %.3f ms", a - b, c - d }')" \
    "  no-op Health/Check on the router, p50 / p99" "${P50[noop-$rc]} / ${P99[noop-$rc]} ms"
  if awk -v a="${ACHIEVED[router-$rc]}" -v r="$rate" 'BEGIN { exit !(a < 0.98 * r) }'; then
    echo "  WARNING: the router did not keep up with $rate req/s over $conns conns (${ACHIEVED[router-$rc]} req/s)"
  fi
done
print_run_checks 54 "the router, nginx and h2load"
[ "$BAD_RUNS" = 0 ]
