-- The SDK's response cache shared by every process of a host app: createPostgresCacheStore in
-- @korean-together/usage-log keeps TTS audio and checked eval grades here, under keys that are
-- sha256 hashes of the requests (no learner text is stored in a key). A cache: losing rows costs
-- only a provider call.

CREATE TABLE ai_response_cache (
  -- 'tts:<sha256 hex>' or 'eval:<sha256 hex>'
  key TEXT PRIMARY KEY,
  -- An encoded entry: a JSON header and, for TTS, the audio bytes.
  value BYTEA NOT NULL,
  -- octet_length(value) + octet_length(key), kept so the bytes bound never reads the values.
  size_bytes INTEGER NOT NULL CONSTRAINT ai_response_cache_size_positive CHECK (size_bytes > 0),
  expires_at TIMESTAMPTZ NOT NULL,
  -- Last read or write, for least-recently-used eviction past the store's maxBytes.
  accessed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Expired rows are pruned by expires_at; eviction walks accessed_at.
CREATE INDEX idx_ai_response_cache_expires_at ON ai_response_cache (expires_at);
CREATE INDEX idx_ai_response_cache_accessed_at ON ai_response_cache (accessed_at);
