-- The call log of a fleet of routers: the same tables as the SQLite call log (see CallTable), in PostgreSQL types.
-- What a query filters or sums on has a column; the rest of a call is the `details` protobuf. Indexes are few and
-- grow at their end (start time; trace ids begin with the time); call ids are random, so they have none.
CREATE TABLE calls (
  id TEXT NOT NULL,
  start_ms BIGINT NOT NULL,
  call_type TEXT NOT NULL,
  status TEXT NOT NULL,
  provider TEXT,
  provider_type TEXT,
  model TEXT,
  upstream_model TEXT,
  finish_reason TEXT,
  input_tokens BIGINT,
  output_tokens BIGINT,
  cached_input_tokens BIGINT,
  reasoning_tokens BIGINT,
  cost_usd DOUBLE PRECISION,
  latency_ms DOUBLE PRECISION,
  cassette_outcome TEXT,
  trace_id TEXT,
  session_id TEXT,
  user_id TEXT,
  error_message TEXT,
  details BYTEA,
  key_id TEXT,
  key_name TEXT
);

CREATE TABLE call_tags (tag TEXT NOT NULL, call_id TEXT NOT NULL);

CREATE INDEX calls_by_start ON calls (start_ms);
CREATE INDEX calls_by_trace ON calls (trace_id, start_ms);
-- Partial: most calls have no session, user or key, and an entry per such call would cost every insert.
CREATE INDEX calls_by_session ON calls (session_id, start_ms) WHERE session_id IS NOT NULL;
CREATE INDEX calls_by_user ON calls (user_id, start_ms) WHERE user_id IS NOT NULL;
CREATE INDEX calls_by_key ON calls (key_id, start_ms) WHERE key_id IS NOT NULL;
CREATE INDEX call_tags_by_tag ON call_tags (tag);
CREATE INDEX call_tags_by_call ON call_tags (call_id);
