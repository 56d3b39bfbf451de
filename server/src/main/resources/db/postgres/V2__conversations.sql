-- The conversations of ConversationService, as the SQLite store keeps them (see ConversationStore): what a query
-- filters, orders or checks on has a column; the rest is the `record` protobuf (llmrouter.v1.Conversation).
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  revision BIGINT NOT NULL,
  record BYTEA NOT NULL
);
-- ListConversations: a key's conversations, newest first.
CREATE INDEX conversations_by_key ON conversations (key_id, create_ms DESC, id DESC);
-- One row per metadata pair, for ListConversations' filter.
CREATE TABLE conversation_metadata (
  conversation_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (conversation_id, name)
);
CREATE INDEX conversation_metadata_by_pair ON conversation_metadata (name, value);
