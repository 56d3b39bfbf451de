#!/usr/bin/env bash
# The HTTP ingress (issue 16) against nginx: POST /v1/chat/completions, JSON and SSE, through the router live, through
# nginx as a bare reverse proxy, and to the mock upstream direct; then replay hits through the ingress.
#
# What it measures, in one run, with all traffic to 127.0.0.1:
#   - The mock: nginx (bench/lib.sh, start_mock_upstream), one worker. POST /v1/chat/completions returns a fixed
#     chat.completion ("Hello from the mock."), POST /sse/v1/chat/completions the same answer as SSE chunks ending in
#     `data: [DONE]` (nginx cannot choose by the body's "stream", so the two answers have two paths).
#   - "router": the jar live over the mock (cassettes "off"), two providers of type openai: `mock` (base_url .../v1)
#     for JSON and `mocksse` (.../sse/v1) for SSE. The caller's JSON is read into the neutral request, the router calls
#     the mock over pooled keep-alive HTTP/1.1, and renders the answer again in OpenAI's dialect.
#   - "nginx": a second nginx, one worker, as a bare reverse proxy of the mock: proxy_buffering off, HTTP/1.1 keep-alive
#     connections to the mock. It passes the mock's bytes through.
#   - "direct": the mock itself.
#   Every path gets the same caller body per mode (`"stream": true` for SSE), and every answer is checked with curl
#   before any load: HTTP 200, and the text read back from the JSON or from the SSE deltas is the mock's, the stream
#   ending in `data: [DONE]`; through the router, `x-cassette-outcome: live`.
#   0. Warm-up: each router runs its loads in turn until its JIT is quiet (see the warm-up section).
#   1. Throughput, closed loop: wrk -c CONNS -t WRK_THREADS -d DURATION, one keep-alive HTTP/1.1 connection per
#      request in flight (what the SDKs open); per mode (json, sse), direct, nginx and router in turn, ROUNDS rounds.
#   2. Time to first byte at one connection: curl (one process, one keep-alive connection, TTFB_N requests back to
#      back, in ROUNDS batches alternating the paths), %{time_starttransfer}: when the head and the first bytes came.
#      On the router's SSE path the head goes out with the first chunk, so this is the first streamed byte. The ADDED
#      time is router (or nginx) minus direct, at p50.
#   3. Replay hits through the ingress: a second router in its embedded default (replay over cassettes/recorded/), the
#      demo request {"model": "openai/gpt-4o-mini", ... "What is the capital of France?"} as JSON and as SSE (checked
#      `x-cassette-outcome: hit` first), and the same request over gRPC (llmrouter.v1.ChatService/Chat, h2load -c 4
#      -m CONNS/4: the same calls in flight as wrk's CONNS, over few HTTP/2 connections as gRPC clients do).
#
# How to read it:
#   - Goals (issue 16): router req/s >= 0.5 x nginx's, in both modes; router CPU per request <= 3 x nginx's; added
#     time to first streamed byte p50 <= 0.5 ms at one connection. The summary says met or NOT met for each.
#   - wrk, the proxy under test and the mock share the machine's cores (2 on the reference machine): req/s says as much
#     about the machine as about the proxy. Compare paths within one run (the ratios); CPU per request is the steadier
#     figure. The router serves every connection on one event loop (issue 18 is about using every core), nginx on its
#     one worker: both proxies are one busy thread.
#   - CPU columns, from /proc (as in replay-throughput.sh; shares are of ONE core over the run's wall time):
#       proxy/req        CPU time per request of the proxy under test: the router process (all its threads: event
#                        loop, call log writer, GC, JIT), or the nginx proxy's worker; "-" for direct;
#       mock/req         the mock's CPU time per request (the same work on every path);
#       proxy, busiest   the proxy process, and its busiest thread (the router's event loop at ~100% is its limit);
#       jit              the router's JIT compiler threads (part of "proxy"): near 0 once warm;
#       mock, wrk, other the mock, the load generator, everything else (kernel softirq; a build running beside skews
#                        the run: the script waits for Maven builds to end before each phase, up to IDLE_WAIT_MIN).
#   - "failed": requests wrk saw end with a non-2xx status, or a socket error. B/req: bytes wrk read per response
#     (head and body); a run whose B/req differs from the checked warm-up's by more than 1% is flagged (a 200 with
#     another body, e.g. an error event in a stream).
#   - CALL_LOG=on (as shipped): both routers log every call to SQLite on a thread of their own, which counts in the
#     router's CPU; CALL_LOG=off leaves it out.
#
# Usage:   bench/ingress-overhead.sh
# Knobs:   CONNS=32 WRK_THREADS=1 DURATION=5 ROUNDS=3 WARMUP=10 WARMUP_TURNS=6 TTFB_N=2000 CALL_LOG=on IDLE_WAIT_MIN=60
#          (DURATION, WARMUP in seconds per run; a short try: DURATION=1 WARMUP=1 WARMUP_TURNS=1 ROUNDS=1 TTFB_N=100
#          IDLE_WAIT_MIN=0)
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), wrk, nginx and h2load (apt-installed if
#          missing), curl.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-1}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-10}
WARMUP_TURNS=${WARMUP_TURNS:-6}
TTFB_N=${TTFB_N:-2000}
CALL_LOG=${CALL_LOG:-on}
IDLE_WAIT_MIN=${IDLE_WAIT_MIN:-60}
GRPC_CONNS=4

# The demo request of the README, a hit in cassettes/recorded/, as gRPC's ChatRequest JSON (for the gRPC comparison).
CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'
REPLAY_TEXT='The capital of France is Paris.'

# shellcheck source=bench/lib.sh
. bench/lib.sh # JAR, BUF, CHAT, the mock's answers; the helpers

# ---- prerequisites -------------------------------------------------------------------------------------------------
bench_prelude
ensure_tool wrk wrk
MODES="json sse"
PATHS="direct nginx router"

# ---- request bodies ------------------------------------------------------------------------------------------------
declare -A BODY
live_body() { # model, then what follows the messages
  echo "{\"model\": \"$1\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]$2}"
}
live_body mock/gpt-4o-mini "" >"$WORK/live-json.json"
live_body mocksse/gpt-4o-mini ', "stream": true' >"$WORK/live-sse.json"
demo='{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is the capital of France?"}]'
echo "$demo}" >"$WORK/replay-json.json"
echo "$demo, \"stream\": true}" >"$WORK/replay-sse.json"
for mode in $MODES; do BODY[live-$mode]=$WORK/live-$mode.json BODY[replay-$mode]=$WORK/replay-$mode.json; done
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"

# wrk's script: POST the body in the file WRK_BODY; at the end, the figures in h2load's words (the lines lib.sh's
# rps_of, wall_s_of, total_of and succeeded_of read), plus latency and bytes. Socket errors count as failed requests.
cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.body = file:read("*a")
file:close()

function done(summary, latency, requests)
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("finished in %.2fs, %.2f req/s\n", seconds, summary.requests / seconds))
  io.write(string.format("requests: %d total, %d started, %d done, %d succeeded, %d failed\n",
    summary.requests + socket_errors, summary.requests, summary.requests, summary.requests - e.status,
    e.status + socket_errors))
  io.write(string.format("latency: %.3f %.3f ms (p50 p99)\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
  io.write(string.format("bytes: %d\n", summary.bytes))
end
EOF

# ---- helpers -------------------------------------------------------------------------------------------------------

# wrk_load OUT URL BODY SECONDS: one wrk run; its output goes to OUT.
wrk_load() {
  WRK_BODY=$3 wrk -t "$WRK_THREADS" -c "$CONNS" -d "$4s" -s "$WORK/post.lua" "$2" >"$1"
}
bytes_per_req() { awk '/^bytes:/ { b = $2 } /^requests:/ { n = $6 } END { printf "%.0f", b / n }' "$1"; }
latency_of() { awk '/^latency:/ { print $2, $3 }' "$1"; }

# reply_text FILE json|sse: the answer's text, from a chat.completion or from the deltas of its chunks; fails unless
# the stream is data events ending in `data: [DONE]`.
reply_text() {
  node -e '
    const [file, mode] = process.argv.slice(1);
    const body = require("node:fs").readFileSync(file, "utf8");
    if (mode === "json") {
      console.log(JSON.parse(body).choices[0].message.content);
      process.exit(0);
    }
    const events = body.split("\n\n");
    if (events.pop() !== "" || events.pop() !== "data: [DONE]") throw new Error("not ended by data: [DONE]");
    console.log(events.map(e => {
      if (!e.startsWith("data: ")) throw new Error("not a data event: " + e);
      const choices = JSON.parse(e.slice(6)).choices;
      return choices.length ? choices[0].delta.content ?? "" : "";
    }).join(""));
  ' "$1" "$2"
}

# Every load has a LABEL, PATH-MODE: PATH is direct, nginx, router (live) or replay; MODE is json, sse, or grpc (replay
# only). URL[LABEL] is where it goes (for grpc, the replay router's port), PROXY_PID[PATH] the process whose CPU counts
# as the proxy's (measured_with's ROUTER_PID; none for direct), ROUTER_LOGS[PATH] a router's log.
declare -A URL PROXY_PID REF_BYTES ROUTER_LOGS
body_of() { # LABEL: the caller's body
  local mode=${1#*-}
  if [ "${1%%-*}" = replay ]; then echo "${BODY[replay-$mode]}"; else echo "${BODY[live-$mode]}"; fi
}
: >"$WORK/figures.txt"
RUNS=0

# check_reply LABEL [WHEN]: one curl POST of the load LABEL; exits unless the answer is HTTP 200 with the expected text
# (the mock's, or the cassette's for replay) and, through a router, the expected x-cassette-outcome.
check_reply() {
  local path=${1%%-*} mode=${1#*-} status text want=$MOCK_TEXT outcome=
  case $path in router) outcome=live ;; replay) outcome=hit want=$REPLAY_TEXT ;; esac
  status=$(curl -sS -o "$WORK/reply.txt" -D "$WORK/reply-head.txt" -w '%{http_code}' \
    -H 'content-type: application/json' --data-binary "@$(body_of "$1")" "${URL[$1]}")
  if [ "$status" != 200 ] || ! text=$(reply_text "$WORK/reply.txt" "$mode" 2>&1) || [ "$text" != "$want" ] ||
    { [ -n "$outcome" ] && ! grep -qi "^x-cassette-outcome: $outcome"$'\r'"$" "$WORK/reply-head.txt"; }; then
    echo "$1${2:+ $2}: not the expected answer (HTTP $status, text \"$text\", want \"$want\"${outcome:+, $outcome}):" >&2
    cat "$WORK/reply-head.txt" "$WORK/reply.txt" >&2
    exit 1
  fi
  echo "check $1${2:+ $2}: HTTP 200, $(wc -c <"$WORK/reply.txt") body bytes, text \"$text\"${outcome:+, x-cassette-outcome: $outcome}"
}

# run_load LABEL SECONDS: one measured run (wrk; h2load for grpc), checked, and its row; sets OUT and JIT_PCT. A wrk
# run's B/req is checked against REF_BYTES[LABEL] once the warm-up has set it.
run_load() {
  local path=${1%%-*} failed bytes=- latency="- -" j0 j1
  OUT="$WORK/run-$1-$((++RUNS)).txt"
  ROUTER_PID=${PROXY_PID[$path]}
  j0=$(jit_ticks)
  if [ "$1" = replay-grpc ]; then
    measured_with grpc_load "$OUT" "$2"
    check_replies "$OUT" "$GRPC_REPLY_BYTES" "$1, round $ROUND"
  else
    measured_with wrk_load "$OUT" "${URL[$1]}" "$(body_of "$1")" "$2"
    bytes=$(bytes_per_req "$OUT")
    latency=$(latency_of "$OUT")
  fi
  j1=$(jit_ticks)
  JIT_PCT=$(awk -v t=$((j1 - j0)) -v hz="$HZ" -v wall="$(wall_s_of "$OUT")" 'BEGIN { printf "%.0f", 100 * t / hz / wall }')
  failed=$(($(total_of "$OUT") - $(succeeded_of "$OUT")))
  # shellcheck disable=SC2086 # latency is two columns
  row "$1" "$failed" "$bytes" $latency
  [ "$1" = replay-grpc ] && return # check_replies counted it
  TOTAL_REQS=$((TOTAL_REQS + $(total_of "$OUT"))); TOTAL_FAILED=$((TOTAL_FAILED + failed))
  if [ -z "${REF_BYTES[$1]:-}" ]; then
    REF_BYTES[$1]=$bytes
  elif [ "$failed" != 0 ] || awk -v b="$bytes" -v r="${REF_BYTES[$1]}" 'BEGIN { exit !(b < 0.99 * r || b > 1.01 * r) }'
  then
    echo "  WARNING $1: $failed failed, $bytes bytes per response (warm-up: ${REF_BYTES[$1]})"
    if [ -n "${ROUTER_LOGS[$path]:-}" ]; then tail -3 "${ROUTER_LOGS[$path]}" | sed 's/^/    its log: /'; fi
    BAD_RUNS=$((BAD_RUNS + 1))
  fi
}

# row LABEL FAILED B/REQ P50 P99: the row of the run in OUT, with measured_with's CPU figures. The rounds' rows (not
# the warm-up's) go to figures.txt too ("LABEL req/s proxy-CPU/req"), for the summary.
row() {
  local proxy_req="$CPU_REQ_US us" jit="$JIT_PCT%"
  if [ "${1%%-*}" = direct ]; then proxy_req=-; fi
  if [ "${1%%-*}" = direct ] || [ "${1%%-*}" = nginx ]; then jit=-; fi
  printf '%-5s %-12s %9.0f %6d %6s %6s %6s %10s %8s us %5s%% %6s%% %4s %4s%% %4s%% %5s%%\n' "$ROUND" "$1" \
    "$(rps_of "$OUT")" "$2" "$3" "$4" "$5" "$proxy_req" "$EXTRA_REQ_US" "$ROUTER_PCT" "$BUSIEST_PCT" "$jit" \
    "$EXTRA_PCT" "$H2LOAD_PCT" "$OTHER_PCT"
  [ "$ROUND" = warm ] || echo "$1 $(rps_of "$OUT") $CPU_REQ_US" >>"$WORK/figures.txt"
}
header() {
  printf '%-5s %-12s %9s %6s %6s %6s %6s %10s %11s %6s %7s %4s %5s %5s %6s\n' round load "req/s" failed "B/req" \
    "p50 ms" "p99 ms" "proxy/req" "mock/req" proxy busiest jit mock wrk other
}
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }'; }

# ---- the mock, the nginx proxy, the routers ------------------------------------------------------------------------
print_setup "llm-router HTTP ingress against nginx (issue 16)"
echo "load: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), -c $CONNS -t $WRK_THREADS; curl $(curl --version | head -1 | cut -d' ' -f2)"
start_mock_upstream

proxy_conf() { # PORT: a bare reverse proxy of the mock, as one would put nginx in front of an upstream
  cat <<EOF
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64; # idle keep-alive connections to the mock, so that no request pays a connect
  }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off; # every byte passed on as it comes, as a stream must be
    }
  }
EOF
}
start_nginx proxy proxy_conf
echo "nginx proxy: master pid $NGINX_PID, worker pid $NGINX_WORKER, 127.0.0.1:$NGINX_PORT -> 127.0.0.1:$MOCK_PORT"
PROXY_PID[nginx]=$NGINX_WORKER
PROXY_PID[direct]=
for mode in $MODES; do
  sse=; [ "$mode" = sse ] && sse=/sse
  URL[direct-$mode]=http://127.0.0.1:$MOCK_PORT$sse/v1/chat/completions
  URL[nginx-$mode]=http://127.0.0.1:$NGINX_PORT$sse/v1/chat/completions
done

enabled=false; [ "$CALL_LOG" = on ] && enabled=true
cat >"$WORK/router.yaml" <<EOF
listen: 127.0.0.1:0
data_dir: "$WORK/data-live"
call_log: { enabled: $enabled }
cassettes: { mode: "off" }
providers:
  - { name: mock, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
  - { name: mocksse, type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/sse/v1" }
EOF
start_router --config "$WORK/router.yaml"
PROXY_PID[router]=$ROUTER_PID ROUTER_LOGS[router]=$ROUTER_LOG
for mode in $MODES; do URL[router-$mode]=http://127.0.0.1:$PORT/v1/chat/completions; done

start_router --port 0 --data-dir "$WORK/data-replay" --call-log "$CALL_LOG" # the embedded default: replay
PROXY_PID[replay]=$ROUTER_PID ROUTER_LOGS[replay]=$ROUTER_LOG
for mode in $MODES; do URL[replay-$mode]=http://127.0.0.1:$PORT/v1/chat/completions; done
URL[replay-grpc]=$PORT

# ---- correctness first ---------------------------------------------------------------------------------------------
for mode in $MODES; do
  for path in $PATHS replay; do check_reply "$path-$mode"; done
done
if ! reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" 2>&1) ||
  ! grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply"; then
  echo "gRPC Chat is not a replay hit: $reply" >&2; exit 1
fi
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$CHAT" -n 1 -c 1
GRPC_REPLY_BYTES=$(data_of "$WORK/one.txt")
echo "check replay grpc: gRPC OK, CASSETTE_OUTCOME_HIT, $GRPC_REPLY_BYTES DATA bytes"

# grpc_load OUT SECONDS: the replay router's gRPC Chat, as many calls in flight as wrk's connections.
grpc_load() { h2load_grpc "$1" "$WORK/chat.bin" "$CHAT" -D "$2" -c "$GRPC_CONNS" -m $((CONNS / GRPC_CONNS)) -t 1; }

# ---- warm-up -------------------------------------------------------------------------------------------------------
# Until the JIT has compiled the hot paths, a router spends several times the CPU per request, and its compiler
# threads (counted in the router's CPU) take a core. Each router runs its loads in turn, WARMUP s each, until its
# compiler threads used at most 5% of a core in every run of a turn (at most WARMUP_TURNS turns); direct and nginx
# need no warm-up, only a first short run that sets their bytes per response.
warm_up() { # LABEL...: the loads of one router
  local turn label quiet
  for turn in $(seq "$WARMUP_TURNS"); do
    quiet=1
    for label in "$@"; do
      run_load "$label" "$WARMUP"
      [ "$JIT_PCT" -le 5 ] || quiet=0
    done
    [ "$quiet" = 1 ] && return
  done
  echo "  WARNING: the JIT was still compiling after $WARMUP_TURNS turns: the router's figures below include it"
}
wait_for_idle warm-up
echo "warm-up: wrk (h2load for grpc) -d ${WARMUP}s per load, in turns until the router's JIT is quiet" \
  "(the jit column: its compiler threads, % of a core)"
ROUND=warm
header
for label in direct-json nginx-json direct-sse nginx-sse; do run_load "$label" 1; done
warm_up router-json router-sse
warm_up replay-json replay-sse replay-grpc
MAX_OTHER_PCT=0 # what ran beside the warm-up (a build ending, the JIT) does not skew the measured rounds

# ---- 1. throughput -------------------------------------------------------------------------------------------------
echo
wait_for_idle "1. throughput"
echo "== 1. throughput, closed loop: wrk -c $CONNS -t $WRK_THREADS -d ${DURATION}s per run; per mode direct, nginx," \
  "router in turn; $ROUNDS rounds"
header
for ROUND in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    for path in $PATHS; do run_load "$path-$mode" "$DURATION"; done
  done
done

# ---- 2. time to first byte at one connection -----------------------------------------------------------------------
# One curl process per batch: the connection opened by its first request serves the others. time_starttransfer is
# from the start of each request to its first response byte.
ttfb_batch() { # path mode n: appends n requests to ttfb-path-mode.log and the new connections made to connects.txt
  local i
  for i in $(seq "$3"); do printf 'url = "%s"\noutput = "/dev/null"\n' "${URL[$1-$2]}"; done >"$WORK/ttfb.curl"
  curl -sS -H 'content-type: application/json' --data-binary "@$(body_of "$1-$2")" \
    -w '%{http_code} %{time_starttransfer} %{num_connects}\n' -K "$WORK/ttfb.curl" >"$WORK/ttfb-batch.txt"
  # Written as h2load's log (start, status, duration in us), for lib.sh's percentiles.
  awk '$1 != 200 { bad++ } { printf "0 %s %d\n", $1, $2 * 1e6 >> out; c += $3 }
    END { print c + 0 >> conn; exit (bad > 0) }' out="$WORK/ttfb-$1-$2.log" conn="$WORK/connects.txt" \
    "$WORK/ttfb-batch.txt" ||
    { echo "  WARNING ttfb $1 $2: a reply was not HTTP 200"; BAD_RUNS=$((BAD_RUNS + 1)); }
}
echo
wait_for_idle "2. time to first byte"
echo "== 2. time to first byte at one connection: curl, $((TTFB_N / ROUNDS * ROUNDS)) requests per path and mode," \
  "in $ROUNDS batches alternating the paths"
: >"$WORK/connects.txt"
for ROUND in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    for path in $PATHS; do ttfb_batch "$path" "$mode" $((TTFB_N / ROUNDS)); done
  done
done
printf '%-5s %-7s %8s %8s %8s %12s\n' mode path "p50 ms" "p90 ms" "p99 ms" "added p50"
declare -A TTFB
for mode in $MODES; do
  for path in $PATHS; do
    read -r p50 p90 p99 _ <<<"$(percentiles "$WORK/ttfb-$path-$mode.log")"
    TTFB[$path-$mode]=$p50
    printf '%-5s %-7s %8s %8s %8s %9s ms\n' "$mode" "$path" "$p50" "$p90" "$p99" \
      "$(awk -v a="$p50" -v d="${TTFB[direct-$mode]}" 'BEGIN { printf "%.3f", a - d }')"
  done
done
echo "(connections opened: $(awk '{ s += $1 } END { print s }' "$WORK/connects.txt") for $(wc -l <"$WORK/connects.txt") batches)"

# ---- 3. replay hits through the ingress, and over gRPC -------------------------------------------------------------
echo
wait_for_idle "3. replay hits"
echo "== 3. replay hits: the demo request through the ingress (wrk, as above) and over gRPC (h2load -c $GRPC_CONNS" \
  "-m $((CONNS / GRPC_CONNS)) -t 1 -D $DURATION); $ROUNDS rounds"
header
for ROUND in $(seq "$ROUNDS"); do
  for label in replay-json replay-sse replay-grpc; do run_load "$label" "$DURATION"; done
done

# ---- the routers must still answer after the load ------------------------------------------------------------------
for label in router-json router-sse replay-json replay-sse; do
  (check_reply "$label" "after the load") || BAD_RUNS=$((BAD_RUNS + 1))
done

# ---- summary -------------------------------------------------------------------------------------------------------
figure() { awk -v k="$1" -v col="$2" '$1 == k { print $col }' "$WORK/figures.txt" | mean; } # mean over the rounds
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }
echo
echo "== summary ($(nproc) cores shared by wrk, the proxy and the mock: compare within the run; means of $ROUNDS rounds)"
printf '  %-5s %-7s %9s %10s\n' mode path "req/s" "proxy/req"
for mode in $MODES; do
  for path in $PATHS; do
    cpu="$(figure "$path-$mode" 3) us"; [ "$path" = direct ] && cpu=-
    printf '  %-5s %-7s %9.0f %10s\n' "$mode" "$path" "$(figure "$path-$mode" 2)" "$cpu"
  done
done
for mode in $MODES; do
  rps=$(awk -v a="$(figure "router-$mode" 2)" -v b="$(figure "nginx-$mode" 2)" 'BEGIN { printf "%.2f", a / b }')
  cpu=$(awk -v a="$(figure "router-$mode" 3)" -v b="$(figure "nginx-$mode" 3)" 'BEGIN { printf "%.1f", a / b }')
  printf '  %-52s %s\n' "$mode: router / nginx, req/s" "$rps   (goal >= 0.5: $(verdict "$rps >= 0.5"))" \
    "$mode: router / nginx, CPU per request" "$cpu x   (goal <= 3: $(verdict "$cpu <= 3"))"
done
for mode in $MODES; do
  router_added=$(awk -v a="${TTFB[router-$mode]}" -v d="${TTFB[direct-$mode]}" 'BEGIN { printf "%.3f", a - d }')
  nginx_added=$(awk -v a="${TTFB[nginx-$mode]}" -v d="${TTFB[direct-$mode]}" 'BEGIN { printf "%.3f", a - d }')
  line="direct ${TTFB[direct-$mode]}, nginx ${TTFB[nginx-$mode]} (+$nginx_added), router ${TTFB[router-$mode]}"
  line="$line (+$router_added) ms"
  [ "$mode" = sse ] && line="$line   (goal: router adds <= 0.5 ms: $(verdict "$router_added <= 0.5"))"
  printf '  %-52s %s\n' "$mode: time to first byte p50, 1 connection" "$line"
done
for kind in json sse grpc; do
  printf '  %-52s %s\n' "replay hit, $kind: req/s; router CPU per request" \
    "$(figure "replay-$kind" 2 | xargs printf '%.0f'); $(figure "replay-$kind" 3) us"
done
print_run_checks 52 "wrk, the proxies and the mock"
[ "$BAD_RUNS" = 0 ]
