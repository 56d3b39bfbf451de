#!/usr/bin/env bash
# What SQLite's part of a call log row costs, by the shape of the row: the floor under the call log's writer.
#
# What it measures, on one thread, with nothing else running:
#   - The sample: the router (replay mode over cassettes/recorded/, its call log on) answers the replay benchmark's
#     Chat once and is stopped, which writes that call's row to its calls.db.
#   - Then, for each row shape, ROWS copies of that row are inserted into a new file, each copy with its own call id,
#     start time and trace id (70 calls a millisecond; trace ids that begin with the time, as the router makes them),
#     the way the call log's writer inserts: 32 rows to an INSERT, a commit every 3 520 rows
#     (what the writer commits every 50 ms at 70 000 calls/s), SQLite in WAL with `synchronous = NORMAL`, on
#     sqlite-jdbc as the router's own connection. PASSES times each, every pass in a new file.
#   - The shapes: the call log's own table (its 23 columns and its indexes, copied from the sample); the four columns
#     a call list by time or by trace still needs, with those two indexes; the same without indexes; the details BLOB
#     alone.
#
# How to read it: CPU time of the inserting thread per row, in µs (JDBC's binding, SQLite's work, the kernel's writes
# of the WAL and the checkpoints), one figure per pass. The router's writer also makes each call's record and
# serializes and checks its details, which this leaves out; what the whole writer costs a replayed call is in
# docs/benchmarks.md. Compare shapes within one run: these shared machines differ by 3x from day to day.
#
# Usage:   bench/call-log-row-cost.sh
# Knobs:   ROWS=200000 PASSES=5
# Needs:   server/target/llm-router.jar (this script builds nothing: mvn -B -q -DskipTests package), Java 17, Node 18+
#          with the Node example's dependencies (npm ci is run if missing), h2load (apt-installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-200000}
PASSES=${PASSES:-5}

CHAT_JSON='{"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}'

# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_prelude
print_setup "call log row cost"

start_router --port 0 --data-dir "$WORK/data" --call-log on
if ! reply=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d "$CHAT_JSON" "http://127.0.0.1:$PORT/$CHAT" 2>&1) ||
  ! grep -q '"cassette": "CASSETTE_OUTCOME_HIT"' <<<"$reply"; then
  echo "Chat is not a gRPC-OK replay hit:" >&2; echo "$reply" >&2; exit 1
fi
kill "$ROUTER_PID"; wait "$ROUTER_PID" || true # SIGTERM: the router drains, and writes what its call log holds
echo "sample: the row of one replayed Chat, from $WORK/data/calls.db"
echo "$ROWS rows per pass, $PASSES passes per shape"
echo
java -cp "$WORK/llm-router.jar" bench/CallLogRowCost.java "$WORK/data/calls.db" "$WORK" "$ROWS" "$PASSES"
