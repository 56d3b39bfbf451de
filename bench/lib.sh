# Shared parts of the benchmark scripts in bench/ (sourced, not run). The caller has `set -euo pipefail` and has done
# `cd` to the repository root; it sets its own knobs, and CHAT_JSON (the Chat it sends) before using the helpers.
#
# What it gives:
#   prerequisites   bench_prelude (the jar, h2load and the Node example's dependencies, then bench_workdir),
#                   ensure_tool COMMAND PACKAGE
#   set-up          bench_workdir (WORK, with a cleanup trap), grpc_frame JSON OUT, print_setup TITLE,
#                   start_router [router flags...] (ROUTER_PID, PORT, ADMIN_PORT), free_port,
#                   caller_key_config AUTH (a config requiring caller keys: AUTH_FLAGS; a key for every call:
#                   CALL_HEADERS), start_nginx NAME CONF_FN (NGINX_PORT, NGINX_PID, NGINX_WORKER),
#                   start_mock_upstream (nginx answering MOCK_REPLY and MOCK_SSE_REPLY: MOCK_PORT, EXTRA_PIDS),
#                   check_live, wait_for_idle, start_postgres (PG_URL, PG_PORT; stop_postgres, psql_value SQL)
#   load            h2load_grpc, warm_up_grpc LABEL BODY RPC REPLY_BYTES (JIT_PCT), settle_jit LABEL BODY RPC
#                   REPLY_BYTES, measured / measured_with (CPU accounting from /proc: thread_ticks, router_ticks,
#                   jit_ticks), check_replies
#   reading         rps_of, total_of, succeeded_of, data_of, wall_s_of, percentiles
#   summary         print_run_checks WIDTH WHO
# The CPU columns are explained in the header of bench/replay-throughput.sh.

JAR=${JAR:-server/target/llm-router.jar} # another build to compare: JAR=/path/to/llm-router.jar
NODE_DIR=client-stub/examples/node
BUF=$NODE_DIR/node_modules/.bin/buf
CHAT=llmrouter.v1.ChatService/Chat
HEALTH=grpc.health.v1.Health/Check

# ---- prerequisites -------------------------------------------------------------------------------------------------
require_jar() {
  if [ ! -f "$JAR" ]; then
    echo "missing $JAR; build it first with:  mvn -B -q -DskipTests package" >&2
    exit 1
  fi
}

# ensure_tool COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing (on PATH or in /usr/sbin).
ensure_tool() {
  if ! command -v "$1" >/dev/null && [ ! -x "/usr/sbin/$1" ]; then
    echo "installing $1 ($2)..."
    apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
  fi
}

ensure_node_deps() {
  if [ ! -d "$NODE_DIR/node_modules/protobufjs" ] || [ ! -x "$BUF" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
  fi
}

# bench_prelude: what every benchmark needs before it starts: the jar, h2load, the Node example's dependencies (buf,
# protobufjs) and a work directory.
bench_prelude() {
  require_jar
  ensure_tool h2load nghttp2-client
  ensure_node_deps
  bench_workdir
}

# bench_workdir: a temporary directory WORK, removed on exit with the routers and the mock upstream.
bench_workdir() {
  WORK=$(mktemp -d)
  ROUTER_PID=
  trap cleanup EXIT
}
cleanup() {
  stop_nginx
  stop_postgres
  [ -z "${EXTRA_REDIS_PID:-}" ] || { kill "$EXTRA_REDIS_PID" 2>/dev/null || true; wait "$EXTRA_REDIS_PID" 2>/dev/null || true; }
  local pid
  for pid in $ROUTER_PIDS; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
ROUTER_PIDS=
ROUTERS_STARTED=0
NGINX_PIDS=
stop_nginx() { # TERM to each nginx master started (fast shutdown), which stops its worker
  local pid
  for pid in $NGINX_PIDS; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do # gone, or a zombie waiting for init to reap it
      [ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null || echo Z)" = Z ] && break
      sleep 0.1
    done
  done
}

# ---- request bodies: gRPC length-prefixed frames (flag 0, 4-byte big-endian length, protobuf bytes) ----------------
# grpc_frame JSON OUT: the ChatRequest JSON as one framed message in file OUT.
grpc_frame() {
  local proto_dir=$PWD/proto
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
  ' "$1" "$proto_dir" "$2")
}

# ---- CPU accounting ------------------------------------------------------------------------------------------------
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

# router_ticks: CPU time so far of all of ROUTER_PID's threads, in clock ticks.
router_ticks() {
  thread_ticks | awk '{ t += $2 } END { print t + 0 }'
}

# jit_ticks: CPU time so far of the JIT compiler threads of ROUTER_PID (a JVM; nginx has none), in clock ticks.
jit_ticks() {
  if [ -z "$ROUTER_PID" ]; then echo 0; return; fi
  awk '/^[0-9]+ \(C[12] CompilerThre/ { sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }' \
    /proc/"$ROUTER_PID"/task/*/stat 2>/dev/null || echo 0
}

# CPU time (clock ticks) so far of the processes in EXTRA_PIDS (e.g. a mock upstream), summed; 0 if none.
extra_ticks() {
  local files=() pid
  for pid in $EXTRA_PIDS; do files+=("/proc/$pid/stat"); done
  if [ ${#files[@]} = 0 ]; then echo 0; return; fi
  awk '{ sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }' "${files[@]}" 2>/dev/null || echo 0
}
EXTRA_PIDS=

# h2load_grpc OUT BODY RPC [h2load options...]: one h2load run of a unary gRPC call; its output goes to OUT.
h2load_grpc() {
  local out=$1 body=$2 rpc=$3
  shift 3
  h2load -H 'content-type: application/grpc' -H 'te: trailers' "${CALL_HEADERS[@]}" -d "$body" "$@" \
    "http://127.0.0.1:$PORT/$rpc" >"$out"
}

# Headers every call sends (h2load and buf curl): the caller key, with caller_key_config.
CALL_HEADERS=()

# caller_key_config AUTH: the router flags (AUTH_FLAGS) and call headers (CALL_HEADERS) of a router whose files are in
# $WORK/data-AUTH, with its config $WORK/auth-AUTH.yaml: the embedded default's cassettes and providers, and
#   - AUTH=off: no keys (`auth.required: false`), so that the other modes differ from it by their keys alone;
#   - AUTH=local or AUTH=redis: `auth.required`, and for redis a redis-server of its own in $WORK (its pid in
#     EXTRA_REDIS_PID); one caller key with every limit that counts on the hot path (calls per minute, and a budget the
#     replays cannot spend), sent as `authorization: Bearer` by every call.
AUTH_FLAGS=()
caller_key_config() {
  local config="$WORK/auth-$1.yaml" key required=true
  CALL_HEADERS=()
  AUTH_FLAGS=(--config "$config")
  [ "$1" != off ] || required=false
  case $1 in
    off | local) printf 'data_dir: "%s"\n' "$WORK/data-$1" >"$config" ;;
    redis)
      ensure_tool redis-server redis-server
      REDIS_PORT=$(free_port)
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK" --save '' >"$WORK/redis.log" 2>&1 &
      EXTRA_REDIS_PID=$!
      for _ in $(seq 50); do
        [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
        sleep 0.1
      done
      printf 'data_dir: "%s"\nshared_state: { redis_url: "redis://127.0.0.1:%s" }\n' "$WORK/data-$1" "$REDIS_PORT" \
        >"$config" ;;
    *) echo "AUTH must be off, local or redis, not '$1'" >&2; exit 2 ;;
  esac
  cat >>"$config" <<YAML
cassettes: { dir: cassettes/recorded, mode: replay }
auth: { required: $required }
providers:
  - { name: openai, type: openai, base_url: https://api.openai.com/v1 }
  - { name: anthropic, type: anthropic, base_url: https://api.anthropic.com }
  - { name: gemini, type: gemini, base_url: https://generativelanguage.googleapis.com }
YAML
  [ "$required" = true ] || return 0
  [ -f "$WORK/llm-router.jar" ] || cp "$JAR" "$WORK/llm-router.jar"
  key=$(java -jar "$WORK/llm-router.jar" keys create --config "$config" --name bench --rpm 1000000000 \
    --budget-usd 1000000 | tail -n 1)
  CALL_HEADERS=(-H "authorization: Bearer $key")
}

# warm_up_grpc LABEL BODY RPC REPLY_BYTES: one JIT warm-up run, WARMUP requests over CONNS x STREAMS, its replies
# checked. Until the JIT has compiled the hot paths, CPU per request is ~1.5x higher: callers warm up 3 times, then
# settle_jit. Sets JIT_PCT: the router's JIT compiler threads' share of its CPU during the run.
warm_up_grpc() {
  local jit0 all0
  jit0=$(jit_ticks); all0=$(router_ticks)
  h2load_grpc "$WORK/warm.txt" "$2" "$3" -n "$WARMUP" -c "$CONNS" -m "$STREAMS" -t 1
  JIT_PCT=$(awk -v jit=$(($(jit_ticks) - jit0)) -v all=$(($(router_ticks) - all0)) \
    'BEGIN { printf "%.0f", (all > 0 ? 100 * jit / all : 0) }')
  check_replies "$WORK/warm.txt" "$4" "warm-up $1"
}

# settle_jit LABEL BODY RPC REPLY_BYTES: more warm-up runs until the JIT's compiler threads took at most JIT_QUIET_PCT
# (2) % of the router's CPU in the last one, at most JIT_MAX_RUNS (10). On 2 cores C2 gets little CPU beside a loaded
# router: after 3 x 100 000 calls it was still compiling hot methods (up to 17% of the router's CPU in a measured run,
# more for a router with more code on its path), so a run measured the JIT as much as the router.
settle_jit() {
  local runs=0
  while [ "$runs" -lt "${JIT_MAX_RUNS:-10}" ]; do
    warm_up_grpc "$@"
    runs=$((runs + 1))
    [ "$JIT_PCT" -gt "${JIT_QUIET_PCT:-2}" ] || break
  done
  echo "  $1: JIT settled after $runs more warm-up run(s) (compilers at $JIT_PCT% of the router's CPU in the last)"
}

# measured OUT BODY RPC [h2load options...]: h2load_grpc, plus where the CPU went meanwhile. Sets CPU_REQ_US (router
# CPU per request) and the shares of one core ROUTER_PCT, BUSIEST_PCT (and BUSIEST_NAME, that thread's name),
# H2LOAD_PCT, OTHER_PCT; with EXTRA_PIDS set, also EXTRA_REQ_US and EXTRA_PCT (those processes, then not in OTHER_PCT).
measured() { measured_with h2load_grpc "$@"; }

# measured_with RUN OUT [args...]: the same around any `RUN OUT [args...]` that runs h2load with its output to OUT.
measured_with() {
  local run=$1 out=$2 m0 m1 e0 e1 h2 wall total figures TIMEFORMAT='%U %S'
  shift
  thread_ticks >"$WORK/threads0.txt"; e0=$(extra_ticks); m0=$(machine_ticks)
  { time "$run" "$@"; } 2>"$WORK/time.txt" # bash's `time` gives h2load's user and system CPU seconds
  thread_ticks >"$WORK/threads1.txt"; e1=$(extra_ticks); m1=$(machine_ticks)
  h2=$(awk 'END { print $1 + $2 }' "$WORK/time.txt")
  wall=$(wall_s_of "$out"); total=$(total_of "$out")
  figures=$(awk -v hz="$HZ" -v machine=$((m1 - m0)) -v extra=$((e1 - e0)) -v h2="$h2" -v wall="$wall" \
    -v total="$total" '
    FNR == NR { before[$1] = $2; next }
    { d = $2 - before[$1]; router += d; if (d > busiest) { busiest = d; busiest_file = $1 } }
    END {
      other = machine / hz - router / hz - extra / hz - h2; if (other < 0) other = 0
      printf "%.1f %.0f %.0f %.0f %.0f %.1f %.0f %s", router / hz * 1e6 / total, 100 * router / hz / wall,
        100 * busiest / hz / wall, 100 * h2 / wall, 100 * other / wall, extra / hz * 1e6 / total,
        100 * extra / hz / wall, busiest_file }' "$WORK/threads0.txt" "$WORK/threads1.txt")
  read -r CPU_REQ_US ROUTER_PCT BUSIEST_PCT H2LOAD_PCT OTHER_PCT EXTRA_REQ_US EXTRA_PCT BUSIEST_STAT <<<"$figures"
  BUSIEST_NAME=$(sed -n 's/^[0-9]* (\(.*\)) .*/\1/p' "${BUSIEST_STAT:-/dev/null}" 2>/dev/null || true)
  if [ "$OTHER_PCT" -gt "$MAX_OTHER_PCT" ]; then MAX_OTHER_PCT=$OTHER_PCT; fi
}
MAX_OTHER_PCT=0

# ---- reading h2load's output ---------------------------------------------------------------------------------------
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

# percentiles LOG: "p50 p90 p99 p99.9 max" in ms, by nearest rank, from an h2load --log-file (columns: start time in
# us since epoch, HTTP status, duration in us).
percentiles() {
  awk '{ print $3 }' "$1" | sort -n | awk '
    { v[NR] = $1 }
    function pct(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] / 1000 }
    END { printf "%.3f %.3f %.3f %.3f %.3f", pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1) }'
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

# ---- the machine and the router ------------------------------------------------------------------------------------
# print_setup TITLE: the header of a run (date, machine, jar), and how busy the CPU is before it starts (BUSY_BEFORE).
print_setup() {
  echo "== $1, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1), $(h2load --version | head -1)"
  echo "jar: $JAR, built $(date -u -r "$JAR" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$JAR" | cut -c1-12);" \
    "tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- server cassettes proto 2>/dev/null || echo ' (modified)')"
  check_busy start
}

# check_busy WHEN: prints how busy the CPU is now, and what uses it when that is more than 20%; BUSY_BEFORE keeps the
# highest figure seen before a phase (print_run_checks reports it).
BUSY_BEFORE=0
check_busy() {
  local busy
  busy=$(cpu_busy_pct)
  if [ "$busy" -gt "$BUSY_BEFORE" ]; then BUSY_BEFORE=$busy; fi
  echo "CPU busy before $1: $busy% (should be ~0)"
  if [ "$busy" -gt 20 ]; then
    echo "WARNING: something else is using the CPU (a build?); the figures below are skewed by it:"
    ps -eo pid,pcpu,comm --sort=-pcpu | sed -n '2,4p'
  fi
}

# wait_for_idle PHASE: on a machine shared with other work, waits until no Maven build is running (polling every
# minute, at most IDLE_WAIT_MIN minutes: a build takes a core or two for minutes and skews every figure), then
# check_busy. After IDLE_WAIT_MIN it goes on anyway, and says so.
wait_for_idle() {
  local waited=0
  while pgrep -f org.codehaus.plexus.classworlds >/dev/null; do
    if [ "$waited" -ge "${IDLE_WAIT_MIN:-0}" ]; then
      echo "WARNING: a Maven build is still running after $waited min of waiting; measuring $1 anyway"
      break
    fi
    [ "$waited" = 0 ] && echo "waiting for the Maven build(s) running to end (at most ${IDLE_WAIT_MIN:-0} min)..."
    sleep 60
    waited=$((waited + 1))
  done
  check_busy "$1"
}

# start_router [router flags...]: starts a private copy of the jar (so that a rebuild in this tree during the run cannot
# pull it from under the JVM) with these flags, waits for its port (PORT) and for Health/Check to answer over HTTP/2.
# Several routers may run: each call sets ROUTER_PID, PORT, ADMIN_PORT (when admin_listen is set) and ROUTER_LOG anew.
start_router() {
  # One copy for every router: overwriting a jar that a running JVM reads would break that JVM.
  [ -f "$WORK/llm-router.jar" ] || cp "$JAR" "$WORK/llm-router.jar"
  ROUTERS_STARTED=$((ROUTERS_STARTED + 1))
  ROUTER_LOG="$WORK/router-$ROUTERS_STARTED.log"
  : >"$ROUTER_LOG" # the background job below opens it only once it runs
  java -jar "$WORK/llm-router.jar" "$@" >"$ROUTER_LOG" 2>&1 &
  ROUTER_PID=$!
  ROUTER_PIDS="$ROUTER_PIDS $ROUTER_PID"
  PORT=
  for _ in $(seq 150); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ROUTER_LOG")
    [ -n "$PORT" ] && break
    if ! kill -0 "$ROUTER_PID" 2>/dev/null; then echo "router did not start:" >&2; cat "$ROUTER_LOG" >&2; exit 1; fi
    sleep 0.2
  done
  [ -n "$PORT" ] || { echo "router did not report its port in 30 s:" >&2; cat "$ROUTER_LOG" >&2; exit 1; }
  ADMIN_PORT=$(sed -n 's/.*metrics on http:\/\/127\.0\.0\.1:\([0-9]*\)\/metrics.*/\1/p' "$ROUTER_LOG")
  echo "router: pid $ROUTER_PID, $(head -1 "$ROUTER_LOG")"

  # Wait until Health/Check answers over HTTP/2.
  printf '\0\0\0\0\0' >"$WORK/health.bin" # an empty HealthCheckRequest
  for _ in $(seq 50); do
    if h2load_grpc "$WORK/probe.txt" "$WORK/health.bin" "$HEALTH" -n 1 -c 1 2>/dev/null &&
      [ "$(succeeded_of "$WORK/probe.txt")" = 1 ]; then break; fi
    sleep 0.2
  done
}

# check_live: prints the reason and returns 1 unless Chat of CHAT_JSON on PORT is gRPC OK, answered live, with
# MOCK_TEXT (the mock upstream's answer).
check_live() {
  local reply
  if ! reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge "${CALL_HEADERS[@]}" -d "$CHAT_JSON" \
    "http://127.0.0.1:$PORT/$CHAT" 2>&1); then
    echo "Chat failed (not gRPC OK): $reply"; return 1
  fi
  if ! grep -q '"cassette": "CASSETTE_OUTCOME_LIVE"' <<<"$reply" || ! grep -qF "\"text\": \"$MOCK_TEXT\"" <<<"$reply"; then
    echo "Chat is not the mock's live answer: $reply"; return 1
  fi
}

# free_port: a port free on 127.0.0.1 right now.
free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# The live path's Chat, through a mock OpenAI upstream: the request, the body the router sends upstream for it
# (OpenAiRequestMapper, byte for byte), and the mock's fixed answer.
MOCK_CHAT_JSON='{"model": "mock/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "Hi"}]}]}'
UPSTREAM_JSON='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":false}'
MOCK_TEXT='Hello from the mock.'
MOCK_REPLY='{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"'$MOCK_TEXT'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":5,"total_tokens":13}}'
# The same answer streamed, as OpenAI streams it when asked for usage (which the router asks for): the role, the text
# in two deltas, the finish reason, the usage chunk with no choices, then [DONE]. The mock serves it on its own path,
# /sse/v1/chat/completions (a provider whose base_url ends in /sse/v1): nginx cannot choose by the request's body.
mock_chunk() { # the chunk with this choice (or, with "usage", the usage chunk)
  local head='"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini"'
  if [ "$1" = usage ]; then
    echo "data: {$head,\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":5,\"total_tokens\":13}}"
  else
    echo "data: {$head,\"choices\":[{\"index\":0,$1}]}"
  fi
  echo
}
MOCK_SSE_REPLY=$(
  mock_chunk '"delta":{"role":"assistant","content":""},"finish_reason":null'
  mock_chunk '"delta":{"content":"Hello from"},"finish_reason":null'
  mock_chunk '"delta":{"content":" the mock."},"finish_reason":null'
  mock_chunk '"delta":{},"finish_reason":"stop"'
  mock_chunk usage
  echo 'data: [DONE]'
)$'\n\n' # $( ) drops the trailing newlines: the last event ends with its blank line like the others

# start_nginx NAME CONF_FN: an nginx (apt-installed if missing), one worker, from a config generated in WORK/NAME, on a
# free 127.0.0.1 port (NGINX_PORT). `CONF_FN PORT` prints what its http block holds besides the settings every nginx
# here shares. Sets NGINX_PID (the master) and NGINX_WORKER; every nginx started is stopped on exit.
start_nginx() {
  local name=$1 conf_fn=$2 dir="$WORK/$1"
  ensure_tool nginx nginx-light
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  mkdir -p "$dir"
  for attempt in 1 2 3 4 5; do # the free port may be taken before nginx binds it
    NGINX_PORT=$(free_port)
    cat >"$dir/nginx.conf" <<EOF
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000; # the clients' connections (load generators, routers) stay open for the whole run
  keepalive_timeout 300s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
$("$conf_fn" "$NGINX_PORT")
}
EOF
    if "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" 2>"$dir/start.log"; then
      for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
      NGINX_PID=$(cat "$dir/nginx.pid")
      NGINX_PIDS="$NGINX_PIDS $NGINX_PID"
      break
    fi
    if [ "$attempt" = 5 ]; then
      echo "nginx $name did not start:" >&2; cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null; exit 1
    fi
  done
  NGINX_WORKER=
  for _ in $(seq 50); do
    NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1) && [ -n "$NGINX_WORKER" ] && break
    sleep 0.1
  done
}

mock_upstream_conf() { # PORT: the mock's server
  local sse=${MOCK_SSE_REPLY//$'\n'/\\n} # nginx's config strings take \n for a newline
  cat <<EOF
  server {
    listen 127.0.0.1:$1;
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$MOCK_REPLY';
    }
    location = /sse/v1/chat/completions {
      default_type text/event-stream;
      return 200 '$sse';
    }
  }
EOF
}

# start_mock_upstream: a mock OpenAI upstream (start_nginx mock) on MOCK_PORT: POST /v1/chat/completions returns
# MOCK_REPLY, POST /sse/v1/chat/completions MOCK_SSE_REPLY, from memory. Its processes go to EXTRA_PIDS (counted in
# their own CPU columns). Checks with curl that it answers UPSTREAM_JSON with MOCK_REPLY, and MOCK_SSE_REPLY.
start_mock_upstream() {
  local mock_reply
  printf '%s' "$UPSTREAM_JSON" >"$WORK/upstream.json"
  start_nginx mock mock_upstream_conf
  MOCK_PORT=$NGINX_PORT
  EXTRA_PIDS="$NGINX_PID $NGINX_WORKER" # counted in the nginx columns, not in "other"
  if ! mock_reply=$(curl -sS --fail -X POST -H 'content-type: application/json' --data-binary "@$WORK/upstream.json" \
    "http://127.0.0.1:$MOCK_PORT/v1/chat/completions") || [ "$mock_reply" != "$MOCK_REPLY" ]; then
    echo "the mock does not answer as expected: $mock_reply" >&2; exit 1
  fi
  curl -sS --fail -X POST -H 'content-type: application/json' --data-binary "@$WORK/upstream.json" \
    -o "$WORK/mock-sse.txt" "http://127.0.0.1:$MOCK_PORT/sse/v1/chat/completions"
  if [ "$(cat "$WORK/mock-sse.txt"; echo .)" != "$MOCK_SSE_REPLY." ]; then # the dot keeps the final newlines
    echo "the mock does not stream as expected:" >&2; cat "$WORK/mock-sse.txt" >&2; exit 1
  fi
  echo "mock: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), master pid $NGINX_PID, worker pid $NGINX_WORKER," \
    "127.0.0.1:$MOCK_PORT; curl POST /v1/chat/completions: HTTP 200, ${#mock_reply} bytes;" \
    "/sse/v1/chat/completions: ${#MOCK_SSE_REPLY} bytes of SSE"
}

# start_postgres: a PostgreSQL cluster of its own (Debian's package, apt-installed if missing) on a free port
# (PG_PORT), with a database `llmrouter` its user `llmrouter` reaches without a password (PG_URL); as the `postgres`
# user when this runs as root (PostgreSQL refuses root), in a folder of its own that stop_postgres removes.
start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$PG_BIN" ]; then
    echo "installing postgresql..."
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  PG_DIR=$(mktemp -d /tmp/llmrouter-bench-pg.XXXXXX)
  [ "$(id -u)" != 0 ] || chown postgres: "$PG_DIR"
  PG_PORT=$(free_port)
  as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U llmrouter --auth=trust >"$PG_DIR/initdb.log"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U llmrouter llmrouter
  PG_URL="postgresql://llmrouter@127.0.0.1:$PG_PORT/llmrouter"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on $PG_PORT"
}
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
# psql_value SQL: one value from the bench database.
psql_value() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U llmrouter -d llmrouter -tAc "$1"; }

# ---- summary -------------------------------------------------------------------------------------------------------
# print_run_checks WIDTH WHO: the summary lines that say whether the run can be trusted (failed requests, bad replies,
# CPU used by something else), labels padded to WIDTH; WHO names what was meant to use the CPU.
print_run_checks() {
  local width=$1 who=$2
  printf "  %-${width}s %s\n" \
    "failed requests (not HTTP 2xx), all runs" "$TOTAL_FAILED / $TOTAL_REQS ($(awk -v f="$TOTAL_FAILED" -v t="$TOTAL_REQS" 'BEGIN { printf "%.4f%%", 100 * f / t }'))" \
    "runs with a failed or non-OK reply" "$BAD_RUNS" \
    "CPU busy before start; max 'other' in a run" "$BUSY_BEFORE%; $MAX_OTHER_PCT% of a core"
  if [ "$MAX_OTHER_PCT" -gt 15 ]; then
    echo "WARNING: something besides $who used the CPU during a run (see 'other'): rerun when idle."
  fi
}
