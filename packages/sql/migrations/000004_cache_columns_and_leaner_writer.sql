-- Cache hits in the usage log, and a cheaper writer.
--
-- 1. ai_usage_log gains what the SDK's caches and Gemini's prompt cache record: tokens_cached_in
--    (the part of tokens_in served from the provider's prompt cache), cache_hit (the SDK's own
--    cache answered: no provider call, cost 0) and saved_cost_usd (for a hit, what the provider
--    call would have cost). The rollups carry cache_hits, tokens_cached_in and saved_cost_usd,
--    and v_daily_ai_costs gains cache_hits, cache_misses, total_saved_cost_usd and
--    total_tokens_cached_in after its existing columns (same names, columns and meaning before them).
-- 2. ai_usage_log_insert takes the three new arrays (NULL by default, so a writer of the
--    previous version keeps working) and does less per row (see below).
--
-- Locks: ADD COLUMN takes ACCESS EXCLUSIVE on ai_usage_log and the rollups for this short
-- transaction; nothing is rewritten or scanned (the defaults are constants, and the CHECK
-- constraints are added NOT VALID: every existing row holds NULL there, which they allow, and
-- every new row is checked).

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

ALTER TABLE ai_usage_log
  ADD COLUMN tokens_cached_in INT,
  ADD COLUMN cache_hit BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN saved_cost_usd DECIMAL(12, 6);
ALTER TABLE ai_usage_log ADD CONSTRAINT ai_usage_log_tokens_cached_in_nonneg CHECK (tokens_cached_in >= 0) NOT VALID;
ALTER TABLE ai_usage_log ADD CONSTRAINT ai_usage_log_saved_cost_nonneg CHECK (saved_cost_usd >= 0) NOT VALID;

COMMENT ON COLUMN ai_usage_log.tokens_cached_in IS 'Part of tokens_in served from the provider''s prompt cache (Gemini cachedContentTokenCount), priced at the cached rate; NULL when not reported.';
COMMENT ON COLUMN ai_usage_log.cache_hit IS 'True when the SDK''s own cache answered: no provider call, estimated_cost_usd 0.';
COMMENT ON COLUMN ai_usage_log.saved_cost_usd IS 'USD, exact to the micro-dollar: for a cache hit, what the provider call would have cost; NULL otherwise or when unknown.';

-- cache_hits: attempts answered by the SDK's cache (misses are attempts - cache_hits); the sums
-- are NULL when every row had NULL, as SUM is. Existing rollup rows: no hits, NULL sums, which is
-- what their raw rows (cache_hit false, NULLs) give.
ALTER TABLE ai_usage_hourly
  ADD COLUMN cache_hits BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tokens_cached_in BIGINT,
  ADD COLUMN saved_cost_usd NUMERIC;
ALTER TABLE ai_usage_daily
  ADD COLUMN cache_hits BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tokens_cached_in BIGINT,
  ADD COLUMN saved_cost_usd NUMERIC;

-- ---------------------------------------------------------------------------------------------
-- The writer, same guarantees as in 000003 (rows inserted with ON CONFLICT DO NOTHING, exactly
-- the inserted ones added to the rollups in the same transaction, distinct calls exact across
-- batches through the per-(UTC day, provider type) advisory lock), with less work per row:
-- - The INSERT returns only a count in the usual case where every row was stored; the stored
--   keys are gathered into arrays only when some were not (their aggregation cost as much as a
--   quarter of the raw insert).
-- - The rollups are then computed from the parameter arrays themselves (or, when some rows were
--   not stored, from arrays cut down to the stored ones), not from a materialised copy joined
--   back to the returned keys.
-- The 000003 function steps aside (renamed, dropped once its privileges are copied): one function
-- of this name, so `GRANT EXECUTE ON FUNCTION ai_usage_log_insert` needs no argument list; the
-- three new arrays default to NULL, so a writer of the previous version (19 arrays) still calls it.
ALTER FUNCTION ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[]) RENAME TO ai_usage_log_insert_000003;

CREATE FUNCTION ai_usage_log_insert(
  p_id uuid[], p_call_id uuid[], p_attempt int[], p_session_id uuid[], p_event_id uuid[],
  p_provider_type text[], p_provider_name text[], p_model_id text[], p_tokens_in int[], p_tokens_out int[],
  p_audio_duration_ms int[], p_characters int[], p_latency_ms int[], p_success boolean[], p_error_code text[],
  p_error_message text[], p_estimated_cost_usd numeric[], p_price_version text[], p_created_at timestamptz[],
  p_tokens_cached_in int[] DEFAULT NULL, p_cache_hit boolean[] DEFAULT NULL, p_saved_cost_usd numeric[] DEFAULT NULL
) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
  -- As in 000003: one generic plan for every batch, and one that holds for any batch.
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off SET enable_nestloop = off
AS $$
DECLARE
  n int := coalesce(cardinality(p_id), 0);
  inserted int;
  ins_id uuid[];
  ins_at timestamptz[];
  first_day date;
  last_day date;
BEGIN
  IF n = 0 THEN RETURN 0; END IF;
  SELECT (min(a) AT TIME ZONE 'UTC')::date, (max(a) AT TIME ZONE 'UTC')::date INTO first_day, last_day FROM unnest(p_created_at) AS a;
  IF first_day IS NULL THEN RETURN 0; END IF;
  -- A row whose day has no partition yet gets one first, instead of failing the batch.
  IF EXISTS (SELECT 1 FROM generate_series(first_day, last_day, interval '1 day') AS g (d)
              WHERE to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMMDD'))) IS NULL
                AND to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMM'))) IS NULL) THEN
    PERFORM ai_partitions_ensure(ARRAY(SELECT DISTINCT (a AT TIME ZONE 'UTC')::date FROM unnest(p_created_at) AS a));
  END IF;

  -- The returned keys are kept (a tuplestore) but aggregated only when some row was not stored:
  -- a CASE evaluates its subquery only in the branch taken.
  WITH ins AS (
    INSERT INTO ai_usage_log (id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id,
        tokens_in, tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, error_message,
        estimated_cost_usd, price_version, created_at, tokens_cached_in, cache_hit, saved_cost_usd)
    SELECT u.id, u.call_id, u.attempt, u.session_id, u.event_id, u.provider_type, u.provider_name, u.model_id,
           u.tokens_in, u.tokens_out, u.audio_duration_ms, u.characters, u.latency_ms, u.success, u.error_code, u.error_message,
           u.estimated_cost_usd, u.price_version, u.created_at, u.tokens_cached_in, coalesce(u.cache_hit, false), u.saved_cost_usd
      FROM unnest(p_id, p_call_id, p_attempt, p_session_id, p_event_id, p_provider_type, p_provider_name, p_model_id,
        p_tokens_in, p_tokens_out, p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code, p_error_message,
        p_estimated_cost_usd, p_price_version, p_created_at, p_tokens_cached_in, p_cache_hit, p_saved_cost_usd)
        AS u (id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in, tokens_out,
              audio_duration_ms, characters, latency_ms, success, error_code, error_message, estimated_cost_usd,
              price_version, created_at, tokens_cached_in, cache_hit, saved_cost_usd)
    ON CONFLICT DO NOTHING
    RETURNING id, created_at
  ), c AS (SELECT count(*)::int AS k FROM ins)
  SELECT k, CASE WHEN k < n THEN (SELECT array_agg(id) FROM ins) END, CASE WHEN k < n THEN (SELECT array_agg(created_at) FROM ins) END
    INTO inserted, ins_id, ins_at FROM c;
  IF inserted = 0 THEN RETURN 0; END IF;

  IF inserted < n THEN
    -- Only some were stored: from here on the arrays hold just those, each once (of two equal
    -- keys in one batch, the first is the one stored), in batch order.
    SELECT array_agg(s.id ORDER BY s.ord), array_agg(s.call_id ORDER BY s.ord), array_agg(s.attempt ORDER BY s.ord),
           array_agg(s.provider_type ORDER BY s.ord), array_agg(s.provider_name ORDER BY s.ord), array_agg(s.model_id ORDER BY s.ord),
           array_agg(s.tokens_in ORDER BY s.ord), array_agg(s.tokens_out ORDER BY s.ord), array_agg(s.audio_duration_ms ORDER BY s.ord),
           array_agg(s.characters ORDER BY s.ord), array_agg(s.latency_ms ORDER BY s.ord), array_agg(s.success ORDER BY s.ord),
           array_agg(s.error_code ORDER BY s.ord), array_agg(s.estimated_cost_usd ORDER BY s.ord), array_agg(s.created_at ORDER BY s.ord),
           array_agg(s.tokens_cached_in ORDER BY s.ord), array_agg(s.cache_hit ORDER BY s.ord), array_agg(s.saved_cost_usd ORDER BY s.ord)
      INTO p_id, p_call_id, p_attempt, p_provider_type, p_provider_name, p_model_id, p_tokens_in, p_tokens_out,
           p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code, p_estimated_cost_usd, p_created_at,
           p_tokens_cached_in, p_cache_hit, p_saved_cost_usd
      FROM (SELECT DISTINCT ON (u.id, u.created_at) u.*
              FROM unnest(p_id, p_call_id, p_attempt, p_provider_type, p_provider_name, p_model_id, p_tokens_in, p_tokens_out,
                          p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code, p_estimated_cost_usd, p_created_at,
                          p_tokens_cached_in, p_cache_hit, p_saved_cost_usd)
                   WITH ORDINALITY AS u (id, call_id, attempt, provider_type, provider_name, model_id, tokens_in, tokens_out,
                         audio_duration_ms, characters, latency_ms, success, error_code, estimated_cost_usd, created_at,
                         tokens_cached_in, cache_hit, saved_cost_usd, ord)
              JOIN unnest(ins_id, ins_at) AS i (id, created_at) USING (id, created_at)
             ORDER BY u.id, u.created_at, u.ord) AS s;
  END IF;

  -- (Every (day, type) of the batch: a few more than needed costs nothing.)
  PERFORM pg_advisory_xact_lock(19285, hashtext(current_schema() || '/' || d::text || '/' || t))
     FROM (SELECT DISTINCT (a AT TIME ZONE 'UTC')::date AS d, t FROM unnest(p_created_at, p_provider_type) AS u (a, t) ORDER BY 1, 2) AS k;

  -- A new statement, so a new snapshot: it sees every batch that held these locks before.
  WITH b AS (
    -- The values as stored: costs rounded to the columns' six decimals, as the raw rows hold them.
    SELECT u.*, (u.created_at AT TIME ZONE 'UTC')::date AS day,
           date_bin('1 hour', u.created_at, timestamptz '2000-01-01 00:00:00+00') AS hour
      FROM unnest(p_id, p_call_id, p_attempt, p_provider_type, p_provider_name, p_model_id, p_tokens_in, p_tokens_out,
                  p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code,
                  p_estimated_cost_usd::numeric(12, 6)[], p_created_at, p_tokens_cached_in, p_cache_hit,
                  p_saved_cost_usd::numeric(12, 6)[])
           AS u (id, call_id, attempt, provider_type, provider_name, model_id, tokens_in, tokens_out,
                 audio_duration_ms, characters, latency_ms, success, error_code, estimated_cost_usd, created_at,
                 tokens_cached_in, cache_hit, saved_cost_usd)
  ), prior AS (
    -- Rows of this batch's calls on these UTC days that earlier batches wrote (this batch's own
    -- rows, visible to this later statement, left out), per (day, call, type).
    SELECT day, call_id, provider_type, array_agg(DISTINCT provider_name) AS names, bool_or(success) AS succeeded
      FROM (SELECT (p.created_at AT TIME ZONE 'UTC')::date AS day, p.call_id, p.provider_type::text AS provider_type,
                   p.provider_name::text AS provider_name, p.success
              FROM ai_usage_log AS p
             WHERE p.call_id = ANY (p_call_id)
               AND p.created_at >= (first_day::timestamp AT TIME ZONE 'UTC')
               AND p.created_at < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
               AND NOT EXISTS (SELECT 1 FROM b WHERE b.id = p.id AND b.created_at = p.created_at)) AS earlier
     GROUP BY 1, 2, 3
  ), ranked AS (
    -- In one order (one sort): the first row of each (day, call, type) and of each (day, call,
    -- type, name), and the first successful row of each (day, call, type), carry that group's count.
    SELECT b.*,
           row_number() OVER w AS nth_of_call,
           lag(provider_name) OVER w IS DISTINCT FROM provider_name AS first_of_name,
           count(*) FILTER (WHERE success) OVER w AS successes_so_far
      FROM b
    WINDOW w AS (PARTITION BY day, call_id, provider_type ORDER BY provider_name, success DESC, created_at, attempt, id)
  ), marked AS (
    SELECT k.*,
           (k.nth_of_call = 1 AND p.call_id IS NULL)::int AS new_call,
           (k.first_of_name AND NOT coalesce(k.provider_name = ANY (p.names), false))::int AS new_name,
           (k.success AND k.successes_so_far = 1 AND NOT coalesce(p.succeeded, false))::int AS new_success
      FROM ranked AS k LEFT JOIN prior AS p USING (day, call_id, provider_type)
  ), per_hour AS (
    SELECT hour, provider_type, provider_name, model_id, success, error_code, count(*) AS attempts,
           sum(new_name) AS distinct_calls, sum(new_call) AS calls, sum(new_success) AS calls_succeeded,
           sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out, sum(audio_duration_ms) AS audio_duration_ms,
           sum(characters) AS characters, sum(estimated_cost_usd) AS cost_usd, sum(latency_ms) AS latency_ms_sum,
           min(latency_ms) AS latency_ms_min, max(latency_ms) AS latency_ms_max,
           ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms)) AS latency_histogram,
           count(*) FILTER (WHERE cache_hit) AS cache_hits, sum(tokens_cached_in) AS tokens_cached_in,
           sum(saved_cost_usd) AS saved_cost_usd
      FROM marked
     GROUP BY hour, provider_type, provider_name, model_id, success, error_code
  ), hourly AS (
    INSERT INTO ai_usage_hourly AS h (hour, provider_type, provider_name, model_id, success, error_code, attempts,
        distinct_calls, calls, calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd,
        latency_ms_sum, latency_ms_min, latency_ms_max, latency_histogram, cache_hits, tokens_cached_in, saved_cost_usd)
    SELECT * FROM per_hour
     ORDER BY hour, provider_type, provider_name, model_id, success, error_code
    ON CONFLICT (hour, provider_type, provider_name, model_id, success, error_code) DO UPDATE
       SET attempts = h.attempts + EXCLUDED.attempts,
           distinct_calls = h.distinct_calls + EXCLUDED.distinct_calls,
           calls = h.calls + EXCLUDED.calls,
           calls_succeeded = h.calls_succeeded + EXCLUDED.calls_succeeded,
           tokens_in = ai_sum_nullable(h.tokens_in, EXCLUDED.tokens_in),
           tokens_out = ai_sum_nullable(h.tokens_out, EXCLUDED.tokens_out),
           audio_duration_ms = ai_sum_nullable(h.audio_duration_ms, EXCLUDED.audio_duration_ms),
           characters = ai_sum_nullable(h.characters, EXCLUDED.characters),
           cost_usd = ai_sum_nullable(h.cost_usd, EXCLUDED.cost_usd),
           latency_ms_sum = h.latency_ms_sum + EXCLUDED.latency_ms_sum,
           latency_ms_min = least(h.latency_ms_min, EXCLUDED.latency_ms_min),
           latency_ms_max = greatest(h.latency_ms_max, EXCLUDED.latency_ms_max),
           latency_histogram = ai_latency_histogram_add(h.latency_histogram, EXCLUDED.latency_histogram),
           cache_hits = h.cache_hits + EXCLUDED.cache_hits,
           tokens_cached_in = ai_sum_nullable(h.tokens_cached_in, EXCLUDED.tokens_cached_in),
           saved_cost_usd = ai_sum_nullable(h.saved_cost_usd, EXCLUDED.saved_cost_usd)
  )
  -- The daily rows from the hourly groups (a handful), not from the rows again.
  INSERT INTO ai_usage_daily AS d (day, provider_type, provider_name, attempts, successful_attempts, distinct_calls,
      calls, calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd, latency_ms_sum,
      latency_ms_min, latency_ms_max, latency_histogram, cache_hits, tokens_cached_in, saved_cost_usd)
  SELECT (hour AT TIME ZONE 'UTC')::date, provider_type, provider_name, sum(attempts), coalesce(sum(attempts) FILTER (WHERE success), 0),
         sum(distinct_calls), sum(calls), sum(calls_succeeded), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms),
         sum(characters), sum(cost_usd), sum(latency_ms_sum), min(latency_ms_min), max(latency_ms_max),
         ai_latency_histogram_sum(latency_histogram), sum(cache_hits), sum(tokens_cached_in), sum(saved_cost_usd)
    FROM per_hour
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (day, provider_type, provider_name) DO UPDATE
     SET attempts = d.attempts + EXCLUDED.attempts,
         successful_attempts = d.successful_attempts + EXCLUDED.successful_attempts,
         distinct_calls = d.distinct_calls + EXCLUDED.distinct_calls,
         calls = d.calls + EXCLUDED.calls,
         calls_succeeded = d.calls_succeeded + EXCLUDED.calls_succeeded,
         tokens_in = ai_sum_nullable(d.tokens_in, EXCLUDED.tokens_in),
         tokens_out = ai_sum_nullable(d.tokens_out, EXCLUDED.tokens_out),
         audio_duration_ms = ai_sum_nullable(d.audio_duration_ms, EXCLUDED.audio_duration_ms),
         characters = ai_sum_nullable(d.characters, EXCLUDED.characters),
         cost_usd = ai_sum_nullable(d.cost_usd, EXCLUDED.cost_usd),
         latency_ms_sum = d.latency_ms_sum + EXCLUDED.latency_ms_sum,
         latency_ms_min = least(d.latency_ms_min, EXCLUDED.latency_ms_min),
         latency_ms_max = greatest(d.latency_ms_max, EXCLUDED.latency_ms_max),
         latency_histogram = ai_latency_histogram_add(d.latency_histogram, EXCLUDED.latency_histogram),
         cache_hits = d.cache_hits + EXCLUDED.cache_hits,
         tokens_cached_in = ai_sum_nullable(d.tokens_cached_in, EXCLUDED.tokens_cached_in),
         saved_cost_usd = ai_sum_nullable(d.saved_cost_usd, EXCLUDED.saved_cost_usd);
  RETURN inserted;
END $$;

COMMENT ON FUNCTION ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[]) IS 'Inserts usage rows (ON CONFLICT DO NOTHING) and adds exactly the inserted ones to the rollups, in the same transaction; returns how many were inserted.';

-- The privileges of the 000003 function, as the host left them (NULL: the defaults, EXECUTE
-- for PUBLIC), given to its successor below.
DO $$
DECLARE
  acl aclitem[] := (SELECT proacl FROM pg_proc WHERE oid = 'ai_usage_log_insert_000003'::regproc);
  g record;
  sig CONSTANT text := 'ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[])';
BEGIN
  IF acl IS NULL THEN RETURN; END IF;
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', sig);
  FOR g IN SELECT grantee, is_grantable FROM aclexplode(acl) WHERE privilege_type = 'EXECUTE' LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', sig,
      CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END,
      CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
END $$;
DROP FUNCTION ai_usage_log_insert_000003(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[]);

-- ---------------------------------------------------------------------------------------------
-- The rebuild (reconcile --repair) counts the cache columns too.
CREATE OR REPLACE FUNCTION ai_rollups_rebuild(from_day date, to_day date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  lo timestamptz := (from_day::timestamp AT TIME ZONE 'UTC');
  hi timestamptz := (to_day::timestamp AT TIME ZONE 'UTC');
BEGIN
  LOCK TABLE ai_usage_log, session_events IN SHARE MODE;
  DELETE FROM ai_usage_hourly WHERE hour >= lo AND hour < hi;
  DELETE FROM ai_usage_daily WHERE day >= from_day AND day < to_day;
  DELETE FROM evaluation_hourly WHERE hour >= lo AND hour < hi;
  DELETE FROM evaluation_daily WHERE day >= from_day AND day < to_day;

  WITH b AS (
    SELECT u.*, (u.created_at AT TIME ZONE 'UTC')::date AS day,
           date_bin('1 hour', u.created_at, timestamptz '2000-01-01 00:00:00+00') AS hour
      FROM ai_usage_log AS u
     WHERE u.created_at >= lo AND u.created_at < hi
  ), marked AS (
    SELECT b.*,
           (row_number() OVER (PARTITION BY day, call_id, provider_type ORDER BY provider_name, created_at, attempt, id) = 1)::int AS new_call,
           (row_number() OVER (PARTITION BY day, call_id, provider_type, provider_name ORDER BY created_at, attempt, id) = 1)::int AS new_name,
           (row_number() OVER (PARTITION BY day, call_id, provider_type ORDER BY success DESC, provider_name, created_at, attempt, id) = 1 AND success)::int AS new_success
      FROM b
  ), hourly AS (
    INSERT INTO ai_usage_hourly (hour, provider_type, provider_name, model_id, success, error_code, attempts, distinct_calls,
        calls, calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd, latency_ms_sum,
        latency_ms_min, latency_ms_max, latency_histogram, cache_hits, tokens_cached_in, saved_cost_usd)
    SELECT hour, provider_type, provider_name, model_id, success, error_code, count(*), sum(new_name), sum(new_call),
           sum(new_success), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms), sum(characters), sum(estimated_cost_usd),
           sum(latency_ms), min(latency_ms), max(latency_ms), ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms)),
           count(*) FILTER (WHERE cache_hit), sum(tokens_cached_in), sum(saved_cost_usd)
      FROM marked GROUP BY hour, provider_type, provider_name, model_id, success, error_code
  )
  INSERT INTO ai_usage_daily (day, provider_type, provider_name, attempts, successful_attempts, distinct_calls, calls,
      calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd, latency_ms_sum, latency_ms_min,
      latency_ms_max, latency_histogram, cache_hits, tokens_cached_in, saved_cost_usd)
  SELECT day, provider_type, provider_name, count(*), count(*) FILTER (WHERE success), sum(new_name), sum(new_call),
         sum(new_success), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms), sum(characters), sum(estimated_cost_usd),
         sum(latency_ms), min(latency_ms), max(latency_ms), ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms)),
         count(*) FILTER (WHERE cache_hit), sum(tokens_cached_in), sum(saved_cost_usd)
    FROM marked GROUP BY day, provider_type, provider_name;

  INSERT INTO evaluation_hourly (hour, provider, model_id, primary_error_type, evaluations, passed, score_sum, score_count,
      latency_ms_sum, latency_count)
  SELECT date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), provider, model_id, primary_error_type, count(*),
         count(*) FILTER (WHERE pass_fail), coalesce(sum(score), 0), count(score), coalesce(sum(latency_ms), 0), count(latency_ms)
    FROM session_events
   WHERE event_type = 'evaluation' AND created_at >= lo AND created_at < hi
   GROUP BY 1, 2, 3, 4;

  INSERT INTO evaluation_daily (day, provider, model_id, primary_error_type, evaluations, passed, score_sum, score_count,
      latency_ms_sum, latency_count)
  SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model_id, primary_error_type, count(*),
         count(*) FILTER (WHERE pass_fail), coalesce(sum(score), 0), count(score), coalesce(sum(latency_ms), 0), count(latency_ms)
    FROM session_events
   WHERE event_type = 'evaluation' AND created_at >= lo AND created_at < hi
   GROUP BY 1, 2, 3, 4;
END $$;

-- ---------------------------------------------------------------------------------------------
-- v_daily_ai_costs: the same columns first, then the cache's. cache_misses: attempts the SDK's
-- cache did not answer (every provider attempt, cache configured or not); hit rate is
-- cache_hits / total_calls.
CREATE OR REPLACE VIEW v_daily_ai_costs AS
SELECT
  day AS date,
  provider_type,
  provider_name,
  attempts AS total_calls,
  successful_attempts AS successful_calls,
  latency_ms_sum::numeric / NULLIF(attempts, 0) AS avg_latency_ms,
  tokens_in AS total_tokens_in,
  tokens_out AS total_tokens_out,
  cost_usd AS total_cost_usd,
  audio_duration_ms AS total_audio_duration_ms,
  characters AS total_characters,
  distinct_calls,
  cache_hits,
  attempts - cache_hits AS cache_misses,
  saved_cost_usd AS total_saved_cost_usd,
  tokens_cached_in AS total_tokens_cached_in
FROM ai_usage_daily
ORDER BY date DESC, total_cost_usd DESC NULLS LAST;

COMMENT ON VIEW v_daily_ai_costs IS 'Provider attempts, cost and cache hits per UTC day, provider type and provider name (from ai_usage_daily).';
COMMENT ON COLUMN ai_usage_daily.cache_hits IS 'Attempts answered by the SDK''s cache (cache_hit); misses are attempts - cache_hits.';
COMMENT ON COLUMN ai_usage_hourly.cache_hits IS 'Attempts answered by the SDK''s cache (cache_hit); misses are attempts - cache_hits.';
