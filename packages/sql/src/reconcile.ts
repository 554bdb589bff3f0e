import { quoteIdentifier } from './identifier.js';
import { readPartitions, type PartitionOptions } from './partitions.js';
import { withTransaction, type Tx } from './sql-client.js';
import { SqlError } from './sql-error.js';
import { addDays, daysBetween, parseCount, parseDay, utcDay, type UtcDay } from './utc-day.js';

export type RollupTable = 'ai_usage_hourly' | 'ai_usage_daily' | 'evaluation_hourly' | 'evaluation_daily';

/** One value a rollup holds that the raw rows do not give (or a rollup row missing or extra: a `null` side). */
export interface RollupDifference {
  table: RollupTable;
  /** The rollup row's key, e.g. { day, provider_type, provider_name }. */
  key: Record<string, string | boolean | null>;
  /** The column that differs; `*row*` when the whole row is missing on one side. */
  column: string;
  /** What the rollup holds (text; null when absent). */
  rollup: string | null;
  /** What the raw rows give (text; null when absent). */
  raw: string | null;
}

export interface ReconcileOptions extends PartitionOptions {
  /** First UTC day of the window ('YYYY-MM-DD' or a Date). Default: `days` before `to`. */
  from?: string | Date;
  /** First UTC day after the window. Default: tomorrow (the window ends with today). */
  to?: string | Date;
  /** Window length in days when `from` is not given. Default 2 (yesterday and today). */
  days?: number;
  /** Rebuild the window's rollups from the raw rows when they differ (ai_rollups_rebuild). Default false. */
  repair?: boolean;
  /** The clock, for tests. Default: now. */
  now?: Date;
}

export interface ReconcileReport {
  schema: string;
  /** The window compared: UTC days from (included) to (excluded). */
  from: UtcDay;
  to: UtcDay;
  /** When retention has dropped the raw rows of the window's first days, comparison starts here instead. */
  rawFrom: UtcDay;
  /** Rows looked at: raw usage attempts, raw evaluation events, rollup rows. */
  checked: { usageRows: number; evaluationEvents: number; rollupRows: number };
  /** What differed (before a repair). Empty when the rollups match the raw rows. */
  differences: RollupDifference[];
  /** True when `repair` was asked, something differed, and the window was rebuilt (and then matched). */
  repaired: boolean;
  /** True when nothing differs now (after a repair, if one ran). */
  ok: boolean;
}

/**
 * Recomputes the rollups of a window of UTC days from the raw rows (ai_usage_log and
 * session_events) and reports every value that differs, in one REPEATABLE READ snapshot (a
 * writer's raw rows and its rollup rows are committed together, so the comparison is exact while
 * writers run). Distinct calls and calls are compared per UTC day (per provider name, and per
 * provider type), the grain at which they add up exactly; every other column per hour and per day.
 * With `repair`, a window that differs is rebuilt from the raw rows (ai_rollups_rebuild, which
 * holds writers back while it runs) and compared again.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  const today = utcDay(options.now ?? new Date());
  const to = options.to === undefined ? addDays(today, 1) : parseDay(options.to, 'to');
  const from = options.from === undefined ? addDays(to, -(options.days === undefined ? 2 : parseCount(options.days, 'days', 1, 3660))) : parseDay(options.from, 'from');
  if (from >= to) throw new SqlError('invalid_option', `from (${from}) must be before to (${to})`);
  if (daysBetween(from, to) > 3660) throw new SqlError('invalid_option', `the window ${from}..${to} is longer than 3660 days`);

  const compare = () =>
    withTransaction(options, async (tx) => {
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await tx.exec(`SET LOCAL TimeZone = 'UTC'`);
      // Raw rows older than the oldest retained usage partition are gone: compare from there.
      const parts = (await readPartitions(tx, schema)).filter((p) => p.table === 'ai_usage_log');
      const oldest = parts.length ? parts[0]!.from : from;
      const rawFrom = oldest > from ? (oldest < to ? oldest : to) : from;
      const result = rawFrom < to ? await differences(tx, qSchema, rawFrom, to) : { differences: [], checked: { usageRows: 0, evaluationEvents: 0, rollupRows: 0 } };
      return { rawFrom, ...result };
    });

  const first = await compare();
  if (!options.repair || first.differences.length === 0) {
    return { schema, from, to, rawFrom: first.rawFrom, checked: first.checked, differences: first.differences, repaired: false, ok: first.differences.length === 0 };
  }
  await withTransaction(options, (tx) => tx.query(`SELECT ${qSchema}.ai_rollups_rebuild($1::date, $2::date)`, [first.rawFrom, to]));
  const after = await compare();
  return { schema, from, to, rawFrom: first.rawFrom, checked: first.checked, differences: first.differences, repaired: true, ok: after.differences.length === 0 };
}

type Row = Record<string, unknown>;

// The rollups as the raw rows give them, one query per rollup grain; `k` is the key (jsonb), `v`
// the values (jsonb, numbers as text so NUMERIC sums compare exactly).
function rawUsage(q: string, grain: 'hour' | 'day'): string {
  const keyCols =
    grain === 'hour'
      ? `'hour', to_char(date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'provider_type', provider_type, 'provider_name', provider_name, 'model_id', model_id, 'success', success, 'error_code', error_code`
      : `'day', to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'provider_type', provider_type, 'provider_name', provider_name`;
  const dayOnly = grain === 'day' ? `, 'successful_attempts', (count(*) FILTER (WHERE success))::text, 'distinct_calls', count(DISTINCT call_id)::text` : '';
  return `SELECT jsonb_build_object(${keyCols}) AS k,
                 jsonb_build_object('attempts', count(*)::text${dayOnly},
                   'tokens_in', sum(tokens_in)::text, 'tokens_out', sum(tokens_out)::text,
                   'audio_duration_ms', sum(audio_duration_ms)::text, 'characters', sum(characters)::text,
                   'cost_usd', sum(estimated_cost_usd)::text, 'latency_ms_sum', sum(latency_ms)::text,
                   'latency_ms_min', min(latency_ms)::text, 'latency_ms_max', max(latency_ms)::text,
                   'latency_histogram', ${q}.ai_latency_histogram(array_agg(latency_ms ORDER BY latency_ms))::text,
                   'cache_hits', (count(*) FILTER (WHERE cache_hit))::text, 'tokens_cached_in', sum(tokens_cached_in)::text,
                   'saved_cost_usd', sum(saved_cost_usd)::text) AS v
            FROM ${q}.ai_usage_log
           WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1`;
}

function rollupUsage(q: string, grain: 'hour' | 'day'): string {
  const table = grain === 'hour' ? 'ai_usage_hourly' : 'ai_usage_daily';
  const keyCols =
    grain === 'hour'
      ? `'hour', to_char(hour, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'provider_type', provider_type, 'provider_name', provider_name, 'model_id', model_id, 'success', success, 'error_code', error_code`
      : `'day', to_char(day, 'YYYY-MM-DD'), 'provider_type', provider_type, 'provider_name', provider_name`;
  const dayOnly = grain === 'day' ? `, 'successful_attempts', successful_attempts::text, 'distinct_calls', distinct_calls::text` : '';
  const where = grain === 'hour' ? `hour >= ($1::date::timestamp AT TIME ZONE 'UTC') AND hour < ($2::date::timestamp AT TIME ZONE 'UTC')` : `day >= $1::date AND day < $2::date`;
  return `SELECT jsonb_build_object(${keyCols}) AS k,
                 jsonb_build_object('attempts', attempts::text${dayOnly},
                   'tokens_in', tokens_in::text, 'tokens_out', tokens_out::text,
                   'audio_duration_ms', audio_duration_ms::text, 'characters', characters::text,
                   'cost_usd', cost_usd::text, 'latency_ms_sum', latency_ms_sum::text,
                   'latency_ms_min', latency_ms_min::text, 'latency_ms_max', latency_ms_max::text,
                   'latency_histogram', latency_histogram::text,
                   'cache_hits', cache_hits::text, 'tokens_cached_in', tokens_cached_in::text,
                   'saved_cost_usd', saved_cost_usd::text) AS v
            FROM ${q}.${table}
           WHERE ${where}`;
}

function rawEvaluations(q: string, grain: 'hour' | 'day'): string {
  const at = grain === 'hour' ? `to_char(date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` : `to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')`;
  return `SELECT jsonb_build_object('${grain}', ${at}, 'provider', provider, 'model_id', model_id, 'primary_error_type', primary_error_type) AS k,
                 jsonb_build_object('evaluations', count(*)::text, 'passed', (count(*) FILTER (WHERE pass_fail))::text,
                   'score_sum', coalesce(sum(score), 0)::text, 'score_count', count(score)::text,
                   'latency_ms_sum', coalesce(sum(latency_ms), 0)::text, 'latency_count', count(latency_ms)::text) AS v
            FROM ${q}.session_events
           WHERE event_type = 'evaluation'
             AND created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1`;
}

function rollupEvaluations(q: string, grain: 'hour' | 'day'): string {
  const table = grain === 'hour' ? 'evaluation_hourly' : 'evaluation_daily';
  const at = grain === 'hour' ? `to_char(hour, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` : `to_char(day, 'YYYY-MM-DD')`;
  const where = grain === 'hour' ? `hour >= ($1::date::timestamp AT TIME ZONE 'UTC') AND hour < ($2::date::timestamp AT TIME ZONE 'UTC')` : `day >= $1::date AND day < $2::date`;
  return `SELECT jsonb_build_object('${grain}', ${at}, 'provider', provider, 'model_id', model_id, 'primary_error_type', primary_error_type) AS k,
                 jsonb_build_object('evaluations', evaluations::text, 'passed', passed::text, 'score_sum', score_sum::text,
                   'score_count', score_count::text, 'latency_ms_sum', latency_ms_sum::text, 'latency_count', latency_count::text) AS v
            FROM ${q}.${table} WHERE ${where}`;
}

// Distinct calls add up exactly per UTC day: per provider name (distinct_calls) and per provider
// type (calls, calls_succeeded). The hourly rows must add up to the same numbers as the daily ones.
function rawCalls(q: string): string {
  return `SELECT jsonb_build_object('day', to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'provider_type', provider_type) AS k,
                 jsonb_build_object('calls', count(DISTINCT call_id)::text,
                   'calls_succeeded', count(DISTINCT call_id) FILTER (WHERE success)::text) AS v
            FROM ${q}.ai_usage_log
           WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1`;
}

function rollupCalls(q: string, table: 'ai_usage_daily' | 'ai_usage_hourly'): string {
  const day = table === 'ai_usage_daily' ? 'day' : `(hour AT TIME ZONE 'UTC')::date`;
  const where = table === 'ai_usage_daily' ? `day >= $1::date AND day < $2::date` : `hour >= ($1::date::timestamp AT TIME ZONE 'UTC') AND hour < ($2::date::timestamp AT TIME ZONE 'UTC')`;
  return `SELECT jsonb_build_object('day', to_char(${day}, 'YYYY-MM-DD'), 'provider_type', provider_type) AS k,
                 jsonb_build_object('calls', sum(calls)::text, 'calls_succeeded', sum(calls_succeeded)::text) AS v
            FROM ${q}.${table} WHERE ${where} GROUP BY 1`;
}

function rollupHourlyDistinct(q: string): string {
  return `SELECT jsonb_build_object('day', to_char((hour AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'provider_type', provider_type, 'provider_name', provider_name) AS k,
                 jsonb_build_object('distinct_calls', sum(distinct_calls)::text) AS v
            FROM ${q}.ai_usage_hourly
           WHERE hour >= ($1::date::timestamp AT TIME ZONE 'UTC') AND hour < ($2::date::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1`;
}

function rawDistinctByName(q: string): string {
  return `SELECT jsonb_build_object('day', to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'provider_type', provider_type, 'provider_name', provider_name) AS k,
                 jsonb_build_object('distinct_calls', count(DISTINCT call_id)::text) AS v
            FROM ${q}.ai_usage_log
           WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1`;
}

async function differences(tx: Tx, q: string, from: UtcDay, to: UtcDay): Promise<{ differences: RollupDifference[]; checked: ReconcileReport['checked'] }> {
  const params = [from, to];
  const out: RollupDifference[] = [];
  let rollupRows = 0;
  const pair = async (table: RollupTable, rawSql: string, rollupSql: string, countRollup = true) => {
    const [raw, rollup] = [await tx.query<Row>(rawSql, params), await tx.query<Row>(rollupSql, params)];
    if (countRollup) rollupRows += rollup.length;
    diff(table, raw, rollup, out);
  };
  await pair('ai_usage_hourly', rawUsage(q, 'hour'), rollupUsage(q, 'hour'));
  await pair('ai_usage_daily', rawUsage(q, 'day'), rollupUsage(q, 'day'));
  await pair('ai_usage_daily', rawCalls(q), rollupCalls(q, 'ai_usage_daily'), false);
  await pair('ai_usage_hourly', rawCalls(q), rollupCalls(q, 'ai_usage_hourly'), false);
  await pair('ai_usage_hourly', rawDistinctByName(q), rollupHourlyDistinct(q), false);
  await pair('evaluation_hourly', rawEvaluations(q, 'hour'), rollupEvaluations(q, 'hour'));
  await pair('evaluation_daily', rawEvaluations(q, 'day'), rollupEvaluations(q, 'day'));
  const [counts] = await tx.query<{ u: string; e: string }>(
    `SELECT (SELECT count(*) FROM ${q}.ai_usage_log WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC'))::text AS u,
            (SELECT count(*) FROM ${q}.session_events WHERE event_type = 'evaluation' AND created_at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND created_at < ($2::date::timestamp AT TIME ZONE 'UTC'))::text AS e`,
    params,
  );
  return { differences: out, checked: { usageRows: Number(counts?.u ?? 0), evaluationEvents: Number(counts?.e ?? 0), rollupRows } };
}

function diff(table: RollupTable, raw: Row[], rollup: Row[], out: RollupDifference[]): void {
  const keyOf = (r: Row) => JSON.stringify(sortKeys(asObject(r.k)));
  const rawBy = new Map(raw.map((r) => [keyOf(r), r]));
  const rollupBy = new Map(rollup.map((r) => [keyOf(r), r]));
  for (const [k, r] of rawBy) {
    const key = asObject(r.k) as RollupDifference['key'];
    const mine = rollupBy.get(k);
    if (!mine) {
      out.push({ table, key, column: '*row*', rollup: null, raw: 'present' });
      continue;
    }
    const a = asObject(r.v);
    const b = asObject(mine.v);
    for (const col of Object.keys(a)) {
      const rv = a[col] ?? null;
      const mv = b[col] ?? null;
      if (rv !== mv) out.push({ table, key, column: col, rollup: mv === null ? null : String(mv), raw: rv === null ? null : String(rv) });
    }
  }
  for (const [k, r] of rollupBy) if (!rawBy.has(k)) out.push({ table, key: asObject(r.k) as RollupDifference['key'], column: '*row*', rollup: 'present', raw: null });
}

function asObject(v: unknown): Record<string, unknown> {
  if (typeof v === 'string') return JSON.parse(v) as Record<string, unknown>;
  return (v ?? {}) as Record<string, unknown>;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
