-- Korean Together schema v2.1: sessions, activities, session_events, ai_usage_log and the two
-- analysis views. Names are unqualified: the migration runner sets search_path to the target
-- schema for the transaction. Valid on Postgres 15+ and PGlite.

-- Minimal tables so session_events' references resolve. A host app that keeps its own
-- sessions and activities elsewhere can still install this schema: only session_events
-- points at them.
CREATE TABLE sessions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id TEXT,
  metadata JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ended_at TIMESTAMPTZ
);

CREATE TABLE activities (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  title TEXT,
  metadata JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE session_events (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  activity_id UUID REFERENCES activities (id),

  -- 'user_input', 'tutor_response', 'evaluation'
  event_type VARCHAR(50) NOT NULL,
  user_input TEXT,
  tutor_response TEXT,

  -- Evaluation metrics as columns, so analysis needs no JSONB parsing.
  score INT CONSTRAINT session_events_score_range CHECK (score >= 0 AND score <= 100),
  pass_fail BOOLEAN,
  primary_error_type VARCHAR(50),

  -- Which AI provider answered.
  provider VARCHAR(50),
  model_id VARCHAR(100),
  latency_ms INT,

  -- { errors: [...], suggestions: [...], rationale: "..." }
  evaluation_detail JSONB,
  metadata JSONB,

  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_session_events_session_id ON session_events (session_id);
CREATE INDEX idx_session_events_activity_id ON session_events (activity_id);
CREATE INDEX idx_session_events_event_type ON session_events (event_type);
CREATE INDEX idx_session_events_provider ON session_events (provider);
CREATE INDEX idx_session_events_created_at ON session_events (created_at);

-- One row per provider attempt. session_id and event_id carry no foreign keys on purpose:
-- a usage row is a record of money spent and must never be refused (or cascaded away)
-- because the host app has no matching sessions / session_events row, or has not committed
-- it yet when the row arrives. Join with LEFT JOIN.
CREATE TABLE ai_usage_log (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  call_id UUID NOT NULL,
  attempt INT NOT NULL DEFAULT 1 CONSTRAINT ai_usage_log_attempt_positive CHECK (attempt >= 1),

  session_id UUID,
  event_id UUID,

  -- 'stt', 'tts', 'eval'
  provider_type VARCHAR(20) NOT NULL,
  -- 'google', 'gemini', 'whisper', 'vits'
  provider_name VARCHAR(50) NOT NULL,
  model_id VARCHAR(100),

  tokens_in INT CONSTRAINT ai_usage_log_tokens_in_nonneg CHECK (tokens_in >= 0),
  tokens_out INT CONSTRAINT ai_usage_log_tokens_out_nonneg CHECK (tokens_out >= 0),
  audio_duration_ms INT CONSTRAINT ai_usage_log_audio_nonneg CHECK (audio_duration_ms >= 0),
  characters INT CONSTRAINT ai_usage_log_characters_nonneg CHECK (characters >= 0),

  latency_ms INT NOT NULL CONSTRAINT ai_usage_log_latency_nonneg CHECK (latency_ms >= 0),
  success BOOLEAN NOT NULL,
  error_code VARCHAR(50),
  error_message TEXT,

  -- Exact to the micro-dollar; NULL when the cost is unknown.
  estimated_cost_usd DECIMAL(12, 6) CONSTRAINT ai_usage_log_cost_nonneg CHECK (estimated_cost_usd >= 0),
  price_version VARCHAR(50),

  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_ai_usage_provider_type ON ai_usage_log (provider_type);
CREATE INDEX idx_ai_usage_provider_name ON ai_usage_log (provider_name);
CREATE INDEX idx_ai_usage_created_at ON ai_usage_log (created_at);
CREATE INDEX idx_ai_usage_success ON ai_usage_log (success);
CREATE INDEX idx_ai_usage_session_id ON ai_usage_log (session_id);
CREATE INDEX idx_ai_usage_event_id ON ai_usage_log (event_id);
CREATE INDEX idx_ai_usage_call_id ON ai_usage_log (call_id);

-- Evaluations per UTC day, provider, model and primary error type. pass_rate counts a NULL
-- pass_fail as not passed, as the design note's CASE does.
CREATE VIEW v_evaluation_stats AS
SELECT
  (created_at AT TIME ZONE 'UTC')::date AS date,
  provider,
  model_id,
  primary_error_type,
  AVG(score) AS avg_score,
  COUNT(*) AS total_evaluations,
  AVG(latency_ms) AS avg_latency_ms,
  SUM(CASE WHEN pass_fail THEN 1 ELSE 0 END)::FLOAT / COUNT(*) AS pass_rate
FROM session_events
WHERE event_type = 'evaluation'
GROUP BY 1, 2, 3, 4;

-- Provider attempts and their cost per UTC day, provider type and provider name. Every
-- attempt counts, failed ones included (a failed attempt can still be billed).
CREATE VIEW v_daily_ai_costs AS
SELECT
  (created_at AT TIME ZONE 'UTC')::date AS date,
  provider_type,
  provider_name,
  COUNT(*) AS total_calls,
  SUM(CASE WHEN success THEN 1 ELSE 0 END) AS successful_calls,
  AVG(latency_ms) AS avg_latency_ms,
  SUM(tokens_in) AS total_tokens_in,
  SUM(tokens_out) AS total_tokens_out,
  SUM(estimated_cost_usd) AS total_cost_usd,
  SUM(audio_duration_ms) AS total_audio_duration_ms,
  SUM(characters) AS total_characters,
  COUNT(DISTINCT call_id) AS distinct_calls
FROM ai_usage_log
GROUP BY 1, 2, 3
ORDER BY date DESC, total_cost_usd DESC NULLS LAST;

COMMENT ON TABLE ai_usage_log IS 'One row per AI provider attempt (korean-together usage log). No foreign keys: usage rows are never refused for a missing session or event.';
COMMENT ON COLUMN ai_usage_log.estimated_cost_usd IS 'USD, exact to the micro-dollar; NULL when unknown.';
COMMENT ON VIEW v_evaluation_stats IS 'Evaluation events per UTC day, provider, model and primary error type.';
COMMENT ON VIEW v_daily_ai_costs IS 'Provider attempts and cost per UTC day, provider type and provider name.';
