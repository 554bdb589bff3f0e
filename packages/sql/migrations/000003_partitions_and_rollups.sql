-- Analysis at scale: ai_usage_log and session_events become partitioned by UTC day, and the
-- writers keep hourly and daily rollups in the statement that inserts the raw rows, so the views
-- and the dashboard read a few hundred rollup rows instead of the whole history.
--
-- Converting an existing install: this migration takes ACCESS EXCLUSIVE locks on ai_usage_log and
-- session_events for its whole transaction (readers and writers wait; the usage sink spills and
-- replays what it could not write meanwhile), copies every row into the partitioned tables, builds
-- their indexes and fills the rollups from the copied rows. Nothing is lost: the old tables are
-- dropped only after the copy, in the same transaction; if anything fails, nothing changes.
-- The README of @korean-together/sql gives the time it took for 3 million rows.

-- Every function below resolves names through search_path, pinned to the migrated schema (and
-- pg_temp last, so a temporary table can never stand in for one of ours).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

LOCK TABLE ai_usage_log, session_events IN ACCESS EXCLUSIVE MODE;
DROP VIEW v_daily_ai_costs;
DROP VIEW v_evaluation_stats;

-- ---------------------------------------------------------------------------------------------
-- Latency histogram. 122 fixed buckets of latency_ms, named by their inclusive upper bound:
-- exact below 10 ms (one bucket per millisecond), then each bucket at most 10% wider than its
-- lower bound, up to 599,999 ms; the last bucket holds everything from 600,000 ms on. A
-- histogram is stored cumulatively (element k counts the attempts with latency_ms <= upper k, the
-- last element is the number of attempts), like Prometheus' `le` buckets: histograms of any rows
-- add up element by element, and a quantile is found by binary search (width_bucket).

CREATE FUNCTION ai_latency_uppers() RETURNS int[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN '{0,1,2,3,4,5,6,7,8,9,11,13,15,17,19,22,25,28,31,35,39,44,49,55,61,68,75,83,92,102,113,125,138,152,168,185,204,225,248,273,301,332,366,403,444,489,539,594,654,720,793,873,961,1058,1164,1281,1410,1552,1708,1879,2068,2275,2503,2754,3030,3334,3668,4035,4439,4884,5373,5911,6503,7154,7870,8658,9524,10477,11525,12678,13946,15341,16876,18564,20421,22464,24711,27183,29902,32893,36183,39802,43783,48162,52979,58278,64106,70517,77569,85327,93860,103247,113572,124930,137424,151167,166284,182913,201205,221326,243459,267806,294587,324046,356451,392097,431307,474438,521882,574071,599999,2147483647}'::int[];

COMMENT ON FUNCTION ai_latency_uppers() IS 'Inclusive upper bounds (ms) of the 122 latency buckets; exact below 10 ms, each bucket at most 10% wider than its lower bound up to 599999 ms, then one open bucket.';

-- The cumulative histogram of some latencies, given sorted ascending: element k is the number of
-- them <= upper k (width_bucket counts the sorted values not above its operand).
CREATE FUNCTION ai_latency_histogram(sorted_latencies int[]) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ARRAY(SELECT width_bucket(u, sorted_latencies)::bigint FROM unnest(ai_latency_uppers()) WITH ORDINALITY AS b (u, k) ORDER BY k);

-- Element-wise sum of two histograms (NULL counts as empty).
CREATE FUNCTION ai_latency_histogram_add(a bigint[], b bigint[]) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
    ELSE ARRAY(SELECT x + y FROM unnest(a, b) WITH ORDINALITY AS u (x, y, k) ORDER BY k) END;

-- Sums the histograms of several rollup rows (a window of days, several providers).
CREATE AGGREGATE ai_latency_histogram_sum(bigint[]) (SFUNC = ai_latency_histogram_add, STYPE = bigint[]);

-- The q-quantile (0..1) of the latencies a cumulative histogram describes, interpolated between
-- ranks like percentile_cont; NULL for an empty histogram. The bucket of each of the two ranks
-- around q * (n - 1) is found by binary search (width_bucket over the cumulative counts); the value
-- is placed inside the bucket by the rank's position there (uniform spread), clamped to the exact
-- minimum and maximum of the rows. Error bound: every finite bucket is at most 10% wider than its
-- lower bound (one millisecond wide below 10 ms), and each rank's estimate lies in that rank's
-- bucket, so the result differs from percentile_cont over the raw rows by at most 10% of the true
-- value (and not at all below 10 ms). Above 600,000 ms it lies between 600,000 ms and max_ms.
-- (Only built-in functions inside, so it needs no search_path; the bounds are ai_latency_uppers().)
CREATE FUNCTION ai_latency_quantile(le bigint[], q float8, min_ms int DEFAULT NULL, max_ms int DEFAULT NULL) RETURNS float8
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  uppers CONSTANT int[] := '{0,1,2,3,4,5,6,7,8,9,11,13,15,17,19,22,25,28,31,35,39,44,49,55,61,68,75,83,92,102,113,125,138,152,168,185,204,225,248,273,301,332,366,403,444,489,539,594,654,720,793,873,961,1058,1164,1281,1410,1552,1708,1879,2068,2275,2503,2754,3030,3334,3668,4035,4439,4884,5373,5911,6503,7154,7870,8658,9524,10477,11525,12678,13946,15341,16876,18564,20421,22464,24711,27183,29902,32893,36183,39802,43783,48162,52979,58278,64106,70517,77569,85327,93860,103247,113572,124930,137424,151167,166284,182913,201205,221326,243459,267806,294587,324046,356451,392097,431307,474438,521882,574071,599999,2147483647}';
  n bigint;
  pos float8;
  r bigint;
  k int;
  below bigint;
  lo float8;
  hi float8;
  v float8[] := ARRAY[NULL, NULL]::float8[];
BEGIN
  IF le IS NULL OR cardinality(le) <> cardinality(uppers) OR q IS NULL THEN RETURN NULL; END IF;
  n := le[cardinality(le)];
  IF n IS NULL OR n <= 0 THEN RETURN NULL; END IF;
  pos := least(greatest(q, 0), 1) * (n - 1);
  FOR i IN 1..2 LOOP
    r := floor(pos)::bigint + i - 1;
    EXIT WHEN i = 2 AND r - 1 >= pos;
    k := least(width_bucket(r, le) + 1, cardinality(le));  -- le[k-1] <= r < le[k]
    below := CASE WHEN k = 1 THEN 0 ELSE le[k - 1] END;
    lo := greatest(CASE WHEN k = 1 THEN 0 ELSE uppers[k - 1] + 1 END, coalesce(min_ms, 0));
    hi := greatest(least(uppers[k], coalesce(max_ms, uppers[k])), lo);
    v[i] := lo + (hi - lo) * ((r - below) + 0.5) / greatest(le[k] - below, 1);
  END LOOP;
  IF v[2] IS NULL THEN RETURN v[1]; END IF;
  RETURN v[1] + (pos - floor(pos)) * (v[2] - v[1]);
END $$;

-- NULL-aware sum of two counters: NULL only when both are NULL, as SUM over rows that are all NULL.
CREATE FUNCTION ai_sum_nullable(a numeric, b numeric) RETURNS numeric
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce(a + b, a, b);

CREATE FUNCTION ai_sum_nullable(a bigint, b bigint) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce(a + b, a, b);

-- ---------------------------------------------------------------------------------------------
-- Raw tables, partitioned by range of created_at: one partition per UTC day (older history
-- converted by this migration: one per month). The primary key must include the partition key;
-- a replayed row keeps its id and created_at, so ON CONFLICT DO NOTHING still drops it.

ALTER TABLE ai_usage_log RENAME TO ai_usage_log_unpartitioned;
ALTER TABLE ai_usage_log_unpartitioned RENAME CONSTRAINT ai_usage_log_pkey TO ai_usage_log_unpartitioned_pkey;
ALTER TABLE session_events RENAME TO session_events_unpartitioned;
ALTER TABLE session_events_unpartitioned RENAME CONSTRAINT session_events_pkey TO session_events_unpartitioned_pkey;

CREATE TABLE ai_usage_log (
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  call_id UUID NOT NULL,
  attempt INT NOT NULL DEFAULT 1 CONSTRAINT ai_usage_log_attempt_positive CHECK (attempt >= 1),
  session_id UUID,
  event_id UUID,
  provider_type VARCHAR(20) NOT NULL,
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
  estimated_cost_usd DECIMAL(12, 6) CONSTRAINT ai_usage_log_cost_nonneg CHECK (estimated_cost_usd >= 0),
  price_version VARCHAR(50),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
) PARTITION BY RANGE (created_at);

CREATE TABLE session_events (
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  session_id UUID NOT NULL,
  activity_id UUID,
  event_type VARCHAR(50) NOT NULL,
  user_input TEXT,
  tutor_response TEXT,
  score INT CONSTRAINT session_events_score_range CHECK (score >= 0 AND score <= 100),
  pass_fail BOOLEAN,
  primary_error_type VARCHAR(50),
  provider VARCHAR(50),
  model_id VARCHAR(100),
  latency_ms INT,
  evaluation_detail JSONB,
  metadata JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
) PARTITION BY RANGE (created_at);

-- Creates the partitions that hold `days` (UTC) in ai_usage_log and session_events, unless a daily or monthly partition of ours already covers the day. Days
-- before `monthly_before` get one partition per month. Each partition is created on its own
-- and then attached, which takes SHARE UPDATE EXCLUSIVE on the parent: inserts and reads go on.
-- Concurrent callers take turns. Security definer, so a writer role that may only
-- insert can still open a new day. Returns the number of partitions created.
CREATE FUNCTION ai_partitions_ensure(days date[], monthly_before date DEFAULT NULL) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  d date;
  t text;
  part text;
  lo date;
  hi date;
  made int := 0;
BEGIN
  IF days IS NULL OR cardinality(days) = 0 THEN RETURN 0; END IF;
  -- Self-conflicting, so concurrent callers take turns; it lets inserts and reads go on; and taking
  -- a table lock makes this session see partitions another caller committed meanwhile (a catalog
  -- lookup right after an advisory lock could still miss them).
  LOCK TABLE ai_usage_log, session_events IN SHARE UPDATE EXCLUSIVE MODE;
  FOR d IN SELECT DISTINCT x FROM unnest(days) AS x WHERE x IS NOT NULL ORDER BY 1 LOOP
    FOREACH t IN ARRAY ARRAY['ai_usage_log', 'session_events'] LOOP
      IF to_regclass(format('%I', t || '_p' || to_char(d, 'YYYYMMDD'))) IS NOT NULL
         OR to_regclass(format('%I', t || '_p' || to_char(d, 'YYYYMM'))) IS NOT NULL THEN
        CONTINUE;
      END IF;
      IF monthly_before IS NOT NULL AND d < monthly_before THEN
        lo := date_trunc('month', d)::date;
        hi := (lo + interval '1 month')::date;
        part := t || '_p' || to_char(lo, 'YYYYMM');
      ELSE
        lo := d;
        hi := d + 1;
        part := t || '_p' || to_char(lo, 'YYYYMMDD');
      END IF;
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, t);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', t, part,
        to_char(lo, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(hi, 'YYYY-MM-DD') || ' 00:00:00+00');
      made := made + 1;
    END LOOP;
  END LOOP;
  RETURN made;
END $$;

-- Creates partitions for the UTC days that hold `stamps` when one is missing (two catalog lookups
-- per distinct day when they all exist).
CREATE FUNCTION ai_partitions_ensure_for(stamps timestamptz[]) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  days date[] := ARRAY(SELECT DISTINCT (s AT TIME ZONE 'UTC')::date FROM unnest(stamps) AS s WHERE s IS NOT NULL);
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(days) AS d
              WHERE to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMMDD'))) IS NULL
                AND to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMM'))) IS NULL) THEN
    RETURN ai_partitions_ensure(days);
  END IF;
  RETURN 0;
END $$;

-- Partitions for every day that has rows, for the last and next days, then the rows. Older
-- history (before last month) goes into monthly partitions, so converting years of rows does not
-- need thousands of partitions (and their locks) in one transaction.
SELECT ai_partitions_ensure(
  ARRAY(
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM ai_usage_log_unpartitioned
    UNION SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM session_events_unpartitioned
    UNION SELECT g::date FROM generate_series((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day') AS g),
  (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date);

INSERT INTO ai_usage_log (id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in,
    tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, error_message, estimated_cost_usd,
    price_version, created_at)
SELECT id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in, tokens_out,
       audio_duration_ms, characters, latency_ms, success, error_code, error_message, estimated_cost_usd, price_version, created_at
  FROM ai_usage_log_unpartitioned;
INSERT INTO session_events (id, session_id, activity_id, event_type, user_input, tutor_response, score, pass_fail,
    primary_error_type, provider, model_id, latency_ms, evaluation_detail, metadata, created_at)
SELECT id, session_id, activity_id, event_type, user_input, tutor_response, score, pass_fail, primary_error_type, provider,
       model_id, latency_ms, evaluation_detail, metadata, created_at
  FROM session_events_unpartitioned;
DROP TABLE ai_usage_log_unpartitioned;
DROP TABLE session_events_unpartitioned;

-- Indexes after the copy (one build per partition is faster than maintaining them row by row).
-- Kept: the key (deduplication of replays), lookups of one call, session or event (audits and
-- joins), and a BRIN index on created_at for time ranges inside a day (a few pages per partition,
-- almost free to maintain since rows arrive in time order). Dropped: provider_type, provider_name
-- and success on ai_usage_log, event_type and provider on session_events: every query that
-- grouped or filtered by them reads the rollups now.
ALTER TABLE ai_usage_log ADD CONSTRAINT ai_usage_log_pkey PRIMARY KEY (id, created_at);
-- (call_id, created_at): the writers look up a call's rows within one day; with both columns in
-- the index that look-up uses it even while a young partition has no statistics yet.
CREATE INDEX idx_ai_usage_call_id ON ai_usage_log (call_id, created_at);
CREATE INDEX idx_ai_usage_session_id ON ai_usage_log (session_id);
CREATE INDEX idx_ai_usage_event_id ON ai_usage_log (event_id);
CREATE INDEX idx_ai_usage_created_at ON ai_usage_log USING brin (created_at);

ALTER TABLE session_events ADD CONSTRAINT session_events_pkey PRIMARY KEY (id, created_at);
ALTER TABLE session_events ADD CONSTRAINT session_events_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE;
ALTER TABLE session_events ADD CONSTRAINT session_events_activity_id_fkey FOREIGN KEY (activity_id) REFERENCES activities (id);
CREATE INDEX idx_session_events_session_id ON session_events (session_id);
CREATE INDEX idx_session_events_activity_id ON session_events (activity_id);
CREATE INDEX idx_session_events_created_at ON session_events USING brin (created_at);

-- ---------------------------------------------------------------------------------------------
-- Rollups. Hourly: the full key (UTC hour, provider type, provider name, model, success, error
-- code). Daily: per UTC day, provider type and provider name, what the views and the dashboard
-- read. Counts and sums are exact (cost in NUMERIC); a sum is NULL when every row had NULL, as
-- SUM is. distinct_calls: the (day, call) pairs first counted in this row for its provider name;
-- calls: the same for the provider type (a call that falls back from one provider to another of
-- the same type counts once); calls_succeeded: of those, the calls with an attempt that
-- succeeded. All three add up exactly over a UTC day; per hour they sit in the hour of the first
-- attempt written.

CREATE TABLE ai_usage_hourly (
  hour TIMESTAMPTZ NOT NULL,
  provider_type VARCHAR(20) NOT NULL,
  provider_name VARCHAR(50) NOT NULL,
  model_id VARCHAR(100),
  success BOOLEAN NOT NULL,
  error_code VARCHAR(50),
  attempts BIGINT NOT NULL,
  distinct_calls BIGINT NOT NULL,
  calls BIGINT NOT NULL,
  calls_succeeded BIGINT NOT NULL,
  tokens_in BIGINT,
  tokens_out BIGINT,
  audio_duration_ms BIGINT,
  characters BIGINT,
  cost_usd NUMERIC,
  latency_ms_sum BIGINT NOT NULL,
  latency_ms_min INT NOT NULL,
  latency_ms_max INT NOT NULL,
  latency_histogram BIGINT[] NOT NULL,
  CONSTRAINT ai_usage_hourly_key UNIQUE NULLS NOT DISTINCT (hour, provider_type, provider_name, model_id, success, error_code)
);

CREATE TABLE ai_usage_daily (
  day DATE NOT NULL,
  provider_type VARCHAR(20) NOT NULL,
  provider_name VARCHAR(50) NOT NULL,
  attempts BIGINT NOT NULL,
  successful_attempts BIGINT NOT NULL,
  distinct_calls BIGINT NOT NULL,
  calls BIGINT NOT NULL,
  calls_succeeded BIGINT NOT NULL,
  tokens_in BIGINT,
  tokens_out BIGINT,
  audio_duration_ms BIGINT,
  characters BIGINT,
  cost_usd NUMERIC,
  latency_ms_sum BIGINT NOT NULL,
  latency_ms_min INT NOT NULL,
  latency_ms_max INT NOT NULL,
  latency_histogram BIGINT[] NOT NULL,
  CONSTRAINT ai_usage_daily_pkey PRIMARY KEY (day, provider_type, provider_name)
);

-- Evaluation events (event_type 'evaluation') per UTC hour / day, provider, model and primary error type.
CREATE TABLE evaluation_hourly (
  hour TIMESTAMPTZ NOT NULL,
  provider VARCHAR(50),
  model_id VARCHAR(100),
  primary_error_type VARCHAR(50),
  evaluations BIGINT NOT NULL,
  passed BIGINT NOT NULL,
  score_sum BIGINT NOT NULL,
  score_count BIGINT NOT NULL,
  latency_ms_sum BIGINT NOT NULL,
  latency_count BIGINT NOT NULL,
  CONSTRAINT evaluation_hourly_key UNIQUE NULLS NOT DISTINCT (hour, provider, model_id, primary_error_type)
);

CREATE TABLE evaluation_daily (
  day DATE NOT NULL,
  provider VARCHAR(50),
  model_id VARCHAR(100),
  primary_error_type VARCHAR(50),
  evaluations BIGINT NOT NULL,
  passed BIGINT NOT NULL,
  score_sum BIGINT NOT NULL,
  score_count BIGINT NOT NULL,
  latency_ms_sum BIGINT NOT NULL,
  latency_count BIGINT NOT NULL,
  CONSTRAINT evaluation_daily_key UNIQUE NULLS NOT DISTINCT (day, provider, model_id, primary_error_type)
);

-- ---------------------------------------------------------------------------------------------
-- The writers. ai_usage_log_insert inserts a batch (one array per column, as the usage sink sends
-- it) with ON CONFLICT DO NOTHING and adds exactly the rows that INSERT inserted to the rollups,
-- in the same call (one statement for the client, one transaction): a replayed or doubled row is
-- neither stored nor counted twice, and a batch that fails leaves the rollups untouched.
--
-- Distinct calls stay exact when the attempts of one call arrive in different batches, twice, or
-- out of order: after its raw insert (which concurrent batches run in parallel), a batch takes a
-- transaction advisory lock per (UTC day, provider type) it touches, in sorted order, and only
-- then looks in ai_usage_log (call_id index, that day's partition) for rows of its calls written
-- by earlier batches. Every batch that wrote rows of the same day and type before it has
-- committed by then (the lock is held to the end of the transaction), and every later one will
-- see this batch's rows, so exactly one batch counts each (day, call) per provider type and per
-- provider name. Only this short rollup phase is serialised; rollup rows are then locked in key
-- order, so concurrent batches never deadlock. Security definer: the writer role needs only
-- EXECUTE on this function (and USAGE on the schema), not rights on the rollups.
CREATE FUNCTION ai_usage_log_insert(
  p_id uuid[], p_call_id uuid[], p_attempt int[], p_session_id uuid[], p_event_id uuid[],
  p_provider_type text[], p_provider_name text[], p_model_id text[], p_tokens_in int[], p_tokens_out int[],
  p_audio_duration_ms int[], p_characters int[], p_latency_ms int[], p_success boolean[], p_error_code text[],
  p_error_message text[], p_estimated_cost_usd numeric[], p_price_version text[], p_created_at timestamptz[]
) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
  -- One generic plan for every batch (planning with a thousand constants costs more than the
  -- batch), and one that holds for any batch: the look-up of earlier rows probes the call_id index
  -- (even while a young partition's statistics still call it tiny), and the batch's rows are
  -- joined by hashing, never by nested loops over estimates.
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off SET enable_nestloop = off
AS $$
DECLARE
  inserted int;
  all_inserted boolean;
  ins_id uuid[];
  ins_at timestamptz[];
  first_day date;
  last_day date;
BEGIN
  SELECT (min(a) AT TIME ZONE 'UTC')::date, (max(a) AT TIME ZONE 'UTC')::date INTO first_day, last_day FROM unnest(p_created_at) AS a;
  IF first_day IS NULL THEN RETURN 0; END IF;
  -- A row whose day has no partition yet gets one first, instead of failing the batch.
  IF EXISTS (SELECT 1 FROM generate_series(first_day, last_day, interval '1 day') AS g (d)
              WHERE to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMMDD'))) IS NULL
                AND to_regclass(format('%I', 'ai_usage_log_p' || to_char(d, 'YYYYMM'))) IS NULL) THEN
    PERFORM ai_partitions_ensure(ARRAY(SELECT DISTINCT (a AT TIME ZONE 'UTC')::date FROM unnest(p_created_at) AS a));
  END IF;

  WITH ins AS (
    INSERT INTO ai_usage_log (id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id,
        tokens_in, tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, error_message,
        estimated_cost_usd, price_version, created_at)
    SELECT * FROM unnest(p_id, p_call_id, p_attempt, p_session_id, p_event_id, p_provider_type, p_provider_name, p_model_id,
        p_tokens_in, p_tokens_out, p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code, p_error_message,
        p_estimated_cost_usd, p_price_version, p_created_at)
    ON CONFLICT DO NOTHING
    RETURNING id, created_at
  )
  SELECT count(*), array_agg(id), array_agg(created_at) INTO inserted, ins_id, ins_at FROM ins;
  IF inserted = 0 THEN RETURN 0; END IF;
  -- Every row was inserted (the usual case), or only some: then the rows of the batch that this
  -- INSERT stored are those whose (id, created_at) it returned, each once (the first of two equal
  -- keys in one batch is the one stored).
  all_inserted := inserted = cardinality(p_id);

  -- (Every (day, type) of the batch, stored or not: a few more than needed costs nothing.)
  PERFORM pg_advisory_xact_lock(19285, hashtext(current_schema() || '/' || d::text || '/' || t))
     FROM (SELECT DISTINCT (a AT TIME ZONE 'UTC')::date AS d, t FROM unnest(p_created_at, p_provider_type) AS u (a, t) ORDER BY 1, 2) AS k;

  -- A new statement, so a new snapshot: it sees every batch that held these locks before.
  WITH src AS (
    -- The values as stored: the cost rounded to the column's six decimals, as the raw row holds it.
    SELECT u.id, u.call_id, u.attempt, u.provider_type, u.provider_name, u.model_id, u.tokens_in, u.tokens_out,
           u.audio_duration_ms, u.characters, u.latency_ms, u.success, u.error_code,
           u.estimated_cost_usd::numeric(12, 6) AS estimated_cost_usd, u.created_at, u.ord
      FROM unnest(p_id, p_call_id, p_attempt, p_provider_type, p_provider_name, p_model_id, p_tokens_in, p_tokens_out,
                  p_audio_duration_ms, p_characters, p_latency_ms, p_success, p_error_code, p_estimated_cost_usd, p_created_at)
           WITH ORDINALITY AS u (id, call_id, attempt, provider_type, provider_name, model_id, tokens_in, tokens_out,
                 audio_duration_ms, characters, latency_ms, success, error_code, estimated_cost_usd, created_at, ord)
  ), stored AS (
    SELECT * FROM src WHERE all_inserted
    UNION ALL
    (SELECT DISTINCT ON (s.id, s.created_at) s.*
       FROM src AS s JOIN unnest(ins_id, ins_at) AS i (id, created_at) USING (id, created_at)
      WHERE NOT all_inserted
      ORDER BY s.id, s.created_at, s.ord)
  ), b AS (
    SELECT stored.*, (created_at AT TIME ZONE 'UTC')::date AS day,
           date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00') AS hour
      FROM stored
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
           ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms)) AS latency_histogram
      FROM marked
     GROUP BY hour, provider_type, provider_name, model_id, success, error_code
  ), hourly AS (
    INSERT INTO ai_usage_hourly AS h (hour, provider_type, provider_name, model_id, success, error_code, attempts,
        distinct_calls, calls, calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd,
        latency_ms_sum, latency_ms_min, latency_ms_max, latency_histogram)
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
           latency_histogram = ai_latency_histogram_add(h.latency_histogram, EXCLUDED.latency_histogram)
  )
  -- The daily rows from the hourly groups (a handful), not from the rows again.
  INSERT INTO ai_usage_daily AS d (day, provider_type, provider_name, attempts, successful_attempts, distinct_calls,
      calls, calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd, latency_ms_sum,
      latency_ms_min, latency_ms_max, latency_histogram)
  SELECT (hour AT TIME ZONE 'UTC')::date, provider_type, provider_name, sum(attempts), coalesce(sum(attempts) FILTER (WHERE success), 0),
         sum(distinct_calls), sum(calls), sum(calls_succeeded), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms),
         sum(characters), sum(cost_usd), sum(latency_ms_sum), min(latency_ms_min), max(latency_ms_max),
         ai_latency_histogram_sum(latency_histogram)
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
         latency_histogram = ai_latency_histogram_add(d.latency_histogram, EXCLUDED.latency_histogram);
  RETURN inserted;
END $$;

COMMENT ON FUNCTION ai_usage_log_insert(uuid[], uuid[], int[], uuid[], uuid[], text[], text[], text[], int[], int[], int[], int[], int[], boolean[], text[], text[], numeric[], text[], timestamptz[]) IS 'Inserts usage rows (ON CONFLICT DO NOTHING) and adds exactly the inserted ones to the rollups, in the same transaction; returns how many were inserted.';

-- One session event, and for an evaluation event its place in the evaluation rollups, in one
-- statement. Returns the row id.
CREATE FUNCTION session_event_insert(
  p_id uuid, p_session_id uuid, p_activity_id uuid, p_event_type text, p_user_input text, p_tutor_response text,
  p_score int, p_pass_fail boolean, p_primary_error_type text, p_provider text, p_model_id text, p_latency_ms int,
  p_evaluation_detail jsonb, p_metadata jsonb, p_created_at timestamptz
) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  at timestamptz := coalesce(p_created_at, now());
  new_id uuid;
BEGIN
  -- The primary key is (id, created_at), so it cannot refuse a second event with the same id on
  -- another day or time (a retried write): look for it, as the old primary key on id did.
  IF p_id IS NOT NULL AND EXISTS (SELECT 1 FROM session_events WHERE id = p_id) THEN
    RAISE unique_violation USING MESSAGE = format('session event %s exists already', p_id), CONSTRAINT = 'session_events_pkey';
  END IF;
  PERFORM ai_partitions_ensure_for(ARRAY[at]);
  WITH ins AS (
    INSERT INTO session_events (id, session_id, activity_id, event_type, user_input, tutor_response, score, pass_fail,
        primary_error_type, provider, model_id, latency_ms, evaluation_detail, metadata, created_at)
    VALUES (coalesce(p_id, gen_random_uuid()), p_session_id, p_activity_id, p_event_type, p_user_input, p_tutor_response,
        p_score, p_pass_fail, p_primary_error_type, p_provider, p_model_id, p_latency_ms, p_evaluation_detail, p_metadata, at)
    RETURNING id, event_type, provider, model_id, primary_error_type, score, pass_fail, latency_ms, created_at
  ), e AS (
    SELECT * FROM ins WHERE event_type = 'evaluation'
  ), hourly AS (
    INSERT INTO evaluation_hourly AS h (hour, provider, model_id, primary_error_type, evaluations, passed, score_sum,
        score_count, latency_ms_sum, latency_count)
    SELECT date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), provider, model_id, primary_error_type, 1,
           CASE WHEN pass_fail THEN 1 ELSE 0 END, coalesce(score, 0), (score IS NOT NULL)::int, coalesce(latency_ms, 0),
           (latency_ms IS NOT NULL)::int
      FROM e
    ON CONFLICT (hour, provider, model_id, primary_error_type) DO UPDATE
       SET evaluations = h.evaluations + EXCLUDED.evaluations, passed = h.passed + EXCLUDED.passed,
           score_sum = h.score_sum + EXCLUDED.score_sum, score_count = h.score_count + EXCLUDED.score_count,
           latency_ms_sum = h.latency_ms_sum + EXCLUDED.latency_ms_sum, latency_count = h.latency_count + EXCLUDED.latency_count
  ), daily AS (
    INSERT INTO evaluation_daily AS d (day, provider, model_id, primary_error_type, evaluations, passed, score_sum,
        score_count, latency_ms_sum, latency_count)
    SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model_id, primary_error_type, 1,
           CASE WHEN pass_fail THEN 1 ELSE 0 END, coalesce(score, 0), (score IS NOT NULL)::int, coalesce(latency_ms, 0),
           (latency_ms IS NOT NULL)::int
      FROM e
    ON CONFLICT (day, provider, model_id, primary_error_type) DO UPDATE
       SET evaluations = d.evaluations + EXCLUDED.evaluations, passed = d.passed + EXCLUDED.passed,
           score_sum = d.score_sum + EXCLUDED.score_sum, score_count = d.score_count + EXCLUDED.score_count,
           latency_ms_sum = d.latency_ms_sum + EXCLUDED.latency_ms_sum, latency_count = d.latency_count + EXCLUDED.latency_count
  )
  SELECT id INTO new_id FROM ins;
  RETURN new_id;
END $$;

COMMENT ON FUNCTION session_event_insert(uuid, uuid, uuid, text, text, text, int, boolean, text, text, text, int, jsonb, jsonb, timestamptz) IS 'Inserts one session event and, for an evaluation, adds it to the evaluation rollups in the same statement; returns its id.';

-- ---------------------------------------------------------------------------------------------
-- Rebuilds the rollups of the UTC days [from_day, to_day) from the raw rows, replacing what was
-- there; used by this migration and by `korean-together-sql reconcile --repair`. Waits for the
-- writers in flight and keeps new ones out while it runs (SHARE lock on the raw tables), so the
-- rollups it writes match the raw rows exactly. A (day, call) is counted on the first of its rows
-- in (provider name, created_at, attempt, id) order, as a single batch holding them all would.
CREATE FUNCTION ai_rollups_rebuild(from_day date, to_day date) RETURNS void
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
        latency_ms_min, latency_ms_max, latency_histogram)
    SELECT hour, provider_type, provider_name, model_id, success, error_code, count(*), sum(new_name), sum(new_call),
           sum(new_success), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms), sum(characters), sum(estimated_cost_usd),
           sum(latency_ms), min(latency_ms), max(latency_ms), ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms))
      FROM marked GROUP BY hour, provider_type, provider_name, model_id, success, error_code
  )
  INSERT INTO ai_usage_daily (day, provider_type, provider_name, attempts, successful_attempts, distinct_calls, calls,
      calls_succeeded, tokens_in, tokens_out, audio_duration_ms, characters, cost_usd, latency_ms_sum, latency_ms_min,
      latency_ms_max, latency_histogram)
  SELECT day, provider_type, provider_name, count(*), count(*) FILTER (WHERE success), sum(new_name), sum(new_call),
         sum(new_success), sum(tokens_in), sum(tokens_out), sum(audio_duration_ms), sum(characters), sum(estimated_cost_usd),
         sum(latency_ms), min(latency_ms), max(latency_ms), ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms))
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

-- The rollups of the rows copied above.
SELECT ai_rollups_rebuild(
  coalesce((SELECT min(d) FROM (SELECT min(created_at AT TIME ZONE 'UTC')::date AS d FROM ai_usage_log
                                UNION ALL SELECT min(created_at AT TIME ZONE 'UTC')::date FROM session_events) AS m), (now() AT TIME ZONE 'UTC')::date),
  coalesce((SELECT max(d) FROM (SELECT max(created_at AT TIME ZONE 'UTC')::date AS d FROM ai_usage_log
                                UNION ALL SELECT max(created_at AT TIME ZONE 'UTC')::date FROM session_events) AS m), (now() AT TIME ZONE 'UTC')::date) + 1);

-- ---------------------------------------------------------------------------------------------
-- The views, same names, columns and meaning as before, now over the daily rollups.

-- Evaluations per UTC day, provider, model and primary error type. pass_rate counts a NULL
-- pass_fail as not passed, as the design note's CASE does.
CREATE VIEW v_evaluation_stats AS
SELECT
  day AS date,
  provider,
  model_id,
  primary_error_type,
  score_sum::numeric / NULLIF(score_count, 0) AS avg_score,
  evaluations AS total_evaluations,
  latency_ms_sum::numeric / NULLIF(latency_count, 0) AS avg_latency_ms,
  passed::float8 / evaluations AS pass_rate
FROM evaluation_daily;

-- Provider attempts and their cost per UTC day, provider type and provider name. Every
-- attempt counts, failed ones included (a failed attempt can still be billed).
CREATE VIEW v_daily_ai_costs AS
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
  distinct_calls
FROM ai_usage_daily
ORDER BY date DESC, total_cost_usd DESC NULLS LAST;

-- Latency per UTC day, provider type and provider name, from the daily histograms: p50/p95/p99
-- within 10% of percentile_cont over the raw rows (see ai_latency_quantile).
CREATE VIEW v_daily_ai_latency AS
SELECT
  day AS date,
  provider_type,
  provider_name,
  attempts,
  successful_attempts,
  latency_ms_min,
  latency_ms_max,
  ai_latency_quantile(latency_histogram, 0.5, latency_ms_min, latency_ms_max) AS p50_ms,
  ai_latency_quantile(latency_histogram, 0.95, latency_ms_min, latency_ms_max) AS p95_ms,
  ai_latency_quantile(latency_histogram, 0.99, latency_ms_min, latency_ms_max) AS p99_ms,
  latency_histogram
FROM ai_usage_daily;

COMMENT ON TABLE ai_usage_log IS 'One row per AI provider attempt (korean-together usage log), partitioned by UTC day. No foreign keys: usage rows are never refused for a missing session or event.';
COMMENT ON COLUMN ai_usage_log.estimated_cost_usd IS 'USD, exact to the micro-dollar; NULL when unknown.';
COMMENT ON TABLE session_events IS 'Events of a learner session, partitioned by UTC day.';
COMMENT ON TABLE ai_usage_hourly IS 'Usage rollup per UTC hour, provider type, provider name, model, success and error code; kept by ai_usage_log_insert.';
COMMENT ON TABLE ai_usage_daily IS 'Usage rollup per UTC day, provider type and provider name; kept by ai_usage_log_insert.';
COMMENT ON TABLE evaluation_hourly IS 'Evaluation events per UTC hour, provider, model and primary error type; kept by session_event_insert.';
COMMENT ON TABLE evaluation_daily IS 'Evaluation events per UTC day, provider, model and primary error type; kept by session_event_insert.';
COMMENT ON COLUMN ai_usage_hourly.latency_histogram IS 'Cumulative: element k counts attempts with latency_ms <= ai_latency_uppers()[k]; the last element is attempts.';
COMMENT ON COLUMN ai_usage_daily.latency_histogram IS 'Cumulative: element k counts attempts with latency_ms <= ai_latency_uppers()[k]; the last element is attempts.';
COMMENT ON VIEW v_evaluation_stats IS 'Evaluation events per UTC day, provider, model and primary error type (from evaluation_daily).';
COMMENT ON VIEW v_daily_ai_costs IS 'Provider attempts and cost per UTC day, provider type and provider name (from ai_usage_daily).';
COMMENT ON VIEW v_daily_ai_latency IS 'Attempts and latency percentiles per UTC day, provider type and provider name (from ai_usage_daily; within 10%).';
