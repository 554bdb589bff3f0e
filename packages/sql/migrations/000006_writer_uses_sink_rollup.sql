-- A cheaper writer: ai_usage_log_insert takes, besides the rows, the batch's rollup as the usage
-- sink computes it (p_rollup: one JSON object per hourly group, the columns of ai_usage_hourly),
-- and uses it instead of counting the rows itself when it can prove it is what counting would
-- give: every row of the batch was stored (a doubled or replayed row makes the function count
-- itself), the groups' attempts add up to the batch, and no earlier batch wrote a row of the
-- batch's calls on its UTC days (one count over the call_id index, after the same advisory lock
-- as before). Otherwise, and for a writer that sends no p_rollup, it counts the rows as 000004
-- does. The sink has CPU to spare while the database is the bottleneck (measured in
-- docs/BENCHMARKS.md, usage-log-sink-ratio), so the aggregation moves there. A writer role could
-- send a wrong p_rollup for rows it really wrote (as it could write wrong rows): reconcile
-- reports any such difference and --repair rebuilds the window from the raw rows.

SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- One function of this name (so GRANT EXECUTE needs no argument list), with the privileges the
-- host gave its predecessor.
ALTER FUNCTION ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[]) RENAME TO ai_usage_log_insert_000004;

CREATE FUNCTION ai_usage_log_insert(
  p_id uuid[], p_call_id uuid[], p_attempt int[], p_session_id uuid[], p_event_id uuid[],
  p_provider_type text[], p_provider_name text[], p_model_id text[], p_tokens_in int[], p_tokens_out int[],
  p_audio_duration_ms int[], p_characters int[], p_latency_ms int[], p_success boolean[], p_error_code text[],
  p_error_message text[], p_estimated_cost_usd numeric[], p_price_version text[], p_created_at timestamptz[],
  p_tokens_cached_in int[] DEFAULT NULL, p_cache_hit boolean[] DEFAULT NULL, p_saved_cost_usd numeric[] DEFAULT NULL,
  p_rollup jsonb DEFAULT NULL
) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
  -- As in 000003 and 000004: one generic plan for every batch, and one that holds for any batch.
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

  -- The sink's own rollup of the batch (p_rollup, see below) is used when every row was stored
  -- and no earlier batch wrote a row of its calls on its UTC days (then what the batch counts is
  -- all there is to count); otherwise the rows are counted here.
  IF p_rollup IS NOT NULL AND inserted = n
     AND (SELECT sum((g ->> 'attempts')::int) FROM jsonb_array_elements(p_rollup) AS g) = n
     AND (SELECT count(*) FROM ai_usage_log AS p
           WHERE p.call_id = ANY (p_call_id)
             AND p.created_at >= (first_day::timestamp AT TIME ZONE 'UTC')
             AND p.created_at < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')) = n THEN
    WITH per_hour AS (
      SELECT * FROM jsonb_to_recordset(p_rollup) AS g (hour timestamptz, provider_type text, provider_name text, model_id text,
          success boolean, error_code text, attempts bigint, distinct_calls bigint, calls bigint, calls_succeeded bigint,
          tokens_in bigint, tokens_out bigint, audio_duration_ms bigint, characters bigint, cost_usd numeric, latency_ms_sum bigint,
          latency_ms_min int, latency_ms_max int, latency_histogram bigint[], cache_hits bigint, tokens_cached_in bigint,
          saved_cost_usd numeric)
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
  END IF;

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


COMMENT ON FUNCTION ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[], jsonb) IS 'Inserts usage rows (ON CONFLICT DO NOTHING) and adds exactly the inserted ones to the rollups, in the same transaction (from the writer''s p_rollup when every row was stored and the calls are new, else counted here); returns how many were inserted.';

DO $$
DECLARE
  acl aclitem[] := (SELECT proacl FROM pg_proc WHERE oid = 'ai_usage_log_insert_000004'::regproc);
  g record;
  sig CONSTANT text := 'ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[], jsonb)';
BEGIN
  IF acl IS NULL THEN RETURN; END IF;
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', sig);
  FOR g IN SELECT grantee, is_grantable FROM aclexplode(acl) WHERE privilege_type = 'EXECUTE' LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', sig,
      CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END,
      CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
END $$;
DROP FUNCTION ai_usage_log_insert_000004(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[], int[], boolean[], numeric[]);
