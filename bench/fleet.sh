#!/usr/bin/env bash
# A fleet you can run here: two llm-router replicas sharing Redis (keys, counters, Converse sessions) and PostgreSQL
# (the call log), behind nginx, loaded while each replica in turn is drained (SIGTERM) and started again.
#
# What it runs, all on 127.0.0.1:
#   - redis-server and PostgreSQL (Debian's packages, apt-installed if missing; PostgreSQL as the `postgres` user when
#     this runs as root, its cluster in a temporary folder);
#   - two routers (replay over cassettes/recorded/, `shared_state.redis_url`, `call_log.postgres_url`,
#     `drain_timeout: DRAIN_TIMEOUT`), each on a port of its own;
#   - nginx in front: `grpc_pass` for gRPC and `proxy_pass` for the HTTP ingress, each with both replicas as its
#     upstream, retrying a request on the other replica when one refuses it or its port is closed
#     (`*_next_upstream error timeout http_503 non_idempotent`: a draining replica refuses new calls with HTTP 503,
#     which gRPC clients read as UNAVAILABLE), and trying a replica it found down again 2 s later (`fail_timeout=2s`;
#     with nginx's 10 s, a replica whose restart took longer than the pause before the next drain, as on a busy
#     machine, is still set aside when the other one drains: both are, and every call fails for a moment);
#   - load through nginx for SECONDS s: replay-hit Chat over gRPC (h2load, RATE req/s per connection), paced
#     StreamChat over gRPC (each stream ~4 x PACE_MS ms, so some are always in flight), and OpenAI-dialect chat
#     completions over HTTP/1.1 (h2load --h1);
#   - meanwhile: SIGTERM to replica 1 (it must exit 0 once its calls are done), replica 1 started again on its port,
#     then the same for replica 2.
#
# How to read it:
#   - Goal (issue 18): 0 failed calls through the balancer during the drains and restarts. A Chat call counts as
#     answered only with HTTP 2xx and its whole answer (exactly as many DATA bytes as one OK reply; a gRPC error is a
#     reply without DATA), an HTTP call likewise; a stream by its HTTP status, and the call log's FAILED column counts
#     the calls the replicas failed.
#   - The call log: every replica's calls are in the one PostgreSQL database (`calls usage` from either replica).
#
# Usage:   bench/fleet.sh
# Knobs:   SECONDS_=40 CONNS=4 RATE=50 STREAM_CONNS=2 PACE_MS=200 DRAIN_TIMEOUT=10s JAR=server/target/llm-router.jar
#          LOGS=DIR (keeps the routers', nginx's and PostgreSQL's logs there)
# Needs:   the jar, Java 17, Node 18+ (the Node example's buf), h2load, nginx, redis-server, PostgreSQL, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_=${SECONDS_:-40}
CONNS=${CONNS:-4}
RATE=${RATE:-50}
STREAM_CONNS=${STREAM_CONNS:-2}
PACE_MS=${PACE_MS:-200}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-10s}
STREAM_CHAT=llmrouter.v1.ChatService/StreamChat

CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'
HTTP_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is the capital of France?"}]}'

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_prelude
ensure_tool redis-server redis-server
ensure_tool nginx nginx-light
grpc_frame "$CHAT_JSON" "$WORK/chat.bin"
printf '%s' "$HTTP_JSON" >"$WORK/http.json"
print_setup "llm-router fleet: 2 replicas, Redis, PostgreSQL, nginx; drain and restart under load"

# ---- Redis and PostgreSQL ------------------------------------------------------------------------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK" --save '' >"$WORK/redis.log" 2>&1 &
EXTRA_REDIS_PID=$!
for _ in $(seq 50); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done

start_postgres
keep_logs() {
  [ -n "${LOGS:-}" ] || return 0
  mkdir -p "$LOGS" && cp "$WORK"/router-*.log "$PG_DIR/postgres.log" "$LOGS/" 2>/dev/null || true
  for name in grpc http; do cp "$WORK/$name/error.log" "$LOGS/nginx-$name.log" 2>/dev/null || true; done
}
trap 'keep_logs; cleanup' EXIT
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $REDIS_PORT"

# ---- two replicas --------------------------------------------------------------------------------------------------
declare -A PIDS PORTS
for replica in 1 2; do
  PORTS[$replica]=$(free_port)
  cat >"$WORK/replica-$replica.yaml" <<EOF
listen: 127.0.0.1:${PORTS[$replica]}
data_dir: "$WORK/data-$replica"
cassettes: { dir: cassettes/recorded, mode: replay }
providers:
  - { name: openai, type: openai, base_url: https://api.openai.com/v1 }
shared_state: { redis_url: "redis://127.0.0.1:$REDIS_PORT" }
call_log: { postgres_url: "$PG_URL" }
drain_timeout: $DRAIN_TIMEOUT
EOF
done
start_replica() { # REPLICA: starts it on its port (again), waits until it serves
  start_router --config "$WORK/replica-$1.yaml"
  PIDS[$1]=$ROUTER_PID
}
start_replica 1
start_replica 2

# ---- nginx in front ------------------------------------------------------------------------------------------------
grpc_balancer_conf() { # PORT
  cat <<EOF
  upstream replicas_grpc {
    server 127.0.0.1:${PORTS[1]} fail_timeout=2s;
    server 127.0.0.1:${PORTS[2]} fail_timeout=2s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$1 http2;
    location / {
      grpc_pass grpc://replicas_grpc;
      grpc_next_upstream error timeout http_503 non_idempotent;
      grpc_read_timeout 60s;
    }
  }
EOF
}
http_balancer_conf() { # PORT
  cat <<EOF
  upstream replicas_http {
    server 127.0.0.1:${PORTS[1]} fail_timeout=2s;
    server 127.0.0.1:${PORTS[2]} fail_timeout=2s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://replicas_http;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_503 non_idempotent;
      proxy_buffering off;
    }
  }
EOF
}
start_nginx grpc grpc_balancer_conf
GRPC_PORT=$NGINX_PORT
start_nginx http http_balancer_conf
HTTP_PORT=$NGINX_PORT
echo "nginx: gRPC on $GRPC_PORT, HTTP on $HTTP_PORT, upstreams 127.0.0.1:${PORTS[1]} and 127.0.0.1:${PORTS[2]}"

# ---- correctness first, through the balancer -----------------------------------------------------------------------
PORT=$GRPC_PORT
reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" 2>&1) ||
  { echo "Chat through nginx failed: $reply" >&2; exit 1; }
grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply" || { echo "not a replay hit: $reply" >&2; exit 1; }
h2load_grpc "$WORK/one.txt" "$WORK/chat.bin" "$CHAT" -n 1 -c 1
CHAT_BYTES=$(data_of "$WORK/one.txt")
http_reply=$(curl -sS --fail -H 'content-type: application/json' --data-binary "@$WORK/http.json" \
  "http://127.0.0.1:$HTTP_PORT/v1/chat/completions") || { echo "HTTP chat through nginx failed" >&2; exit 1; }
HTTP_BYTES=${#http_reply}
echo "check: through nginx, Chat is a replay hit ($CHAT_BYTES DATA bytes), POST /v1/chat/completions HTTP 200" \
  "($HTTP_BYTES bytes)"

# ---- load, with a drain and a restart of each replica ---------------------------------------------------------------
echo
echo "== load through nginx for ${SECONDS_}s: Chat ($CONNS conns x $RATE req/s), paced StreamChat ($STREAM_CONNS conns" \
  "x 8 streams, ${PACE_MS}ms between events), HTTP chat completions ($CONNS conns x $RATE req/s)"
h2load_grpc "$WORK/load-chat.txt" "$WORK/chat.bin" "$CHAT" -c "$CONNS" -t 1 --rps "$RATE" -D "$SECONDS_" \
  --log-file "$WORK/load-chat.log" &
LOADS=$!
CALL_HEADERS=(-H "x-cassette-pace: $PACE_MS")
h2load_grpc "$WORK/load-stream.txt" "$WORK/chat.bin" "$STREAM_CHAT" -c "$STREAM_CONNS" -m 8 -t 1 -D "$SECONDS_" \
  --log-file "$WORK/load-stream.log" &
LOADS="$LOADS $!"
CALL_HEADERS=()
h2load --h1 -H 'content-type: application/json' -d "$WORK/http.json" -c "$CONNS" -t 1 --rps "$RATE" -D "$SECONDS_" \
  --log-file "$WORK/load-http.log" "http://127.0.0.1:$HTTP_PORT/v1/chat/completions" >"$WORK/load-http.txt" &
LOADS="$LOADS $!"

START=$(date +%s.%N)
at() { awk -v s="$START" -v n="$(date +%s.%N)" 'BEGIN { printf "%5.1fs", n - s }'; }
drain_and_restart() { # REPLICA
  local pid=${PIDS[$1]} rc=0 port=${PORTS[$1]}
  echo "$(at)  SIGTERM to replica $1 (pid $pid)"
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  echo "$(at)  replica $1 exited with code $rc"
  [ "$rc" = 0 ] || DRAIN_FAILURES=$((DRAIN_FAILURES + 1))
  start_replica "$1" >/dev/null
  echo "$(at)  replica $1 serving again on $port (pid ${PIDS[$1]})"
}
DRAIN_FAILURES=0
sleep $((SECONDS_ / 5))
drain_and_restart 1
sleep $((SECONDS_ / 5))
drain_and_restart 2
for pid in $LOADS; do wait "$pid"; done
echo "$(at)  load ended"

# ---- what the callers saw --------------------------------------------------------------------------------------------
echo
echo "== summary"
check_replies "$WORK/load-chat.txt" "$CHAT_BYTES" "Chat"
# A paced stream's DATA varies by a few bytes (events split differently), so streams are counted by status only; a
# stream the router failed is in the call log's FAILED column below.
TOTAL_REQS=$((TOTAL_REQS + $(total_of "$WORK/load-stream.txt")))
TOTAL_FAILED=$((TOTAL_FAILED + $(total_of "$WORK/load-stream.txt") - $(succeeded_of "$WORK/load-stream.txt")))
check_replies "$WORK/load-http.txt" "$HTTP_BYTES" "HTTP chat completions"
printf '  %-44s %s\n' \
  "gRPC Chat: answered / sent" "$(succeeded_of "$WORK/load-chat.txt") / $(total_of "$WORK/load-chat.txt")" \
  "gRPC StreamChat (paced): answered / sent" "$(succeeded_of "$WORK/load-stream.txt") / $(total_of "$WORK/load-stream.txt")" \
  "HTTP chat completions: HTTP 200 / sent" "$(succeeded_of "$WORK/load-http.txt") / $(total_of "$WORK/load-http.txt")" \
  "replicas that did not exit 0 on SIGTERM" "$DRAIN_FAILURES"
for load in chat stream http; do # h2load's log: start (us), HTTP status (-1: no response), duration (us)
  statuses=$(awk '$2 < 200 || $2 > 299 { n[$2]++ } END { for (s in n) printf "%s x %d  ", s, n[s] }' "$WORK/load-$load.log")
  [ -z "$statuses" ] || printf '  %-44s %s\n' "$load: HTTP statuses of the failed" "$statuses"
done
logged=$(java -jar "$WORK/llm-router.jar" calls usage --config "$WORK/replica-1.yaml" 2>&1 | tail -n 3)
echo "  calls usage from replica 1's config (one PostgreSQL log for the fleet):"
sed 's/^/    /' <<<"$logged"
print_run_checks 44 "the replicas, nginx, Redis, PostgreSQL and h2load"
echo "  failed calls through the balancer (goal 0): $TOTAL_FAILED, runs with a reply cut short: $BAD_RUNS"
[ $((TOTAL_FAILED + BAD_RUNS + DRAIN_FAILURES)) = 0 ]
