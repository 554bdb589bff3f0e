-- Budget totals shared by every process of a host app: createPostgresBudgetStore in
-- @korean-together/usage-log keeps per-session and per-day spend here, so the policy's budget
-- caps hold across processes without Redis. Amounts are integer micro-dollars (BIGINT).

-- One row per budget key; its row lock serialises the reservations against that key.
CREATE TABLE ai_budget_totals (
  -- 'session:<id>' or 'day:YYYY-MM-DD' (UTC)
  key TEXT PRIMARY KEY,
  spent_micro BIGINT NOT NULL DEFAULT 0 CONSTRAINT ai_budget_totals_spent_nonneg CHECK (spent_micro >= 0),
  -- The totals count until then (the limit's ttl after the last change); afterwards the key starts again from zero.
  expires_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Room held for a call in flight: one row per (reservation, key). A reservation that is never
-- settled (its process died) stops counting at expires_at and is deleted some time later.
CREATE TABLE ai_budget_reservations (
  id TEXT NOT NULL,
  key TEXT NOT NULL,
  amount_micro BIGINT NOT NULL CONSTRAINT ai_budget_reservations_amount_nonneg CHECK (amount_micro >= 0),
  -- How long the key's totals are kept after this reservation is settled, in milliseconds.
  key_ttl_ms BIGINT NOT NULL CONSTRAINT ai_budget_reservations_ttl_positive CHECK (key_ttl_ms > 0),
  expires_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT ai_budget_reservations_pkey PRIMARY KEY (id, key)
);

CREATE INDEX idx_ai_budget_reservations_key_expires_at ON ai_budget_reservations (key, expires_at);
CREATE INDEX idx_ai_budget_reservations_expires_at ON ai_budget_reservations (expires_at);

COMMENT ON TABLE ai_budget_totals IS 'Spend per budget key (session:<id>, day:YYYY-MM-DD) in micro-dollars, shared by every process (korean-together Postgres budget store).';
COMMENT ON TABLE ai_budget_reservations IS 'Budget held for calls in flight; a reservation stops counting at expires_at even if its process died.';
