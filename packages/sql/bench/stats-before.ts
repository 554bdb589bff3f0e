// The stats queries of examples/server/src/stats.ts as they were before the rollups (they read
// the views over the raw tables and ai_usage_log itself), kept verbatim to time "before" against
// the same rows. Bench code only.
import { qualifiedName } from '../src/identifier.js';

export interface StatsDb {
  schema: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}
type DailyCostRow = Record<string, unknown>;
type EvaluationStatsRow = Record<string, unknown>;
type LatencyRow = Record<string, unknown> & { date: unknown };
type CallsRow = Record<string, unknown>;

const sinceToday = `((now() AT TIME ZONE 'UTC')::date - $1::int)`;
/**
 * The same window as a timestamptz bound (UTC midnight `days - 1` days ago), so queries on
 * ai_usage_log itself can use the created_at index instead of scanning every row.
 */
const windowStart = `(((now() AT TIME ZONE 'UTC')::date - ($1::int - 1))::timestamp AT TIME ZONE 'UTC')`;

/** v_daily_ai_costs for the last `days` UTC days (today included), oldest first. */
export async function dailyCosts(db: StatsDb, days: number): Promise<DailyCostRow[]> {
  return db.query<DailyCostRow>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS "date", provider_type AS "providerType", provider_name AS "providerName",
            total_calls::int AS "totalCalls", successful_calls::int AS "successfulCalls", distinct_calls::int AS "distinctCalls",
            round(avg_latency_ms::numeric, 1)::float8 AS "avgLatencyMs",
            total_tokens_in::float8 AS "totalTokensIn", total_tokens_out::float8 AS "totalTokensOut",
            total_audio_duration_ms::float8 AS "totalAudioDurationMs", total_characters::float8 AS "totalCharacters",
            total_cost_usd::text AS "totalCostUsd"
       FROM ${qualifiedName(db.schema, 'v_daily_ai_costs', 'view')}
      WHERE date > ${sinceToday}
      ORDER BY date, provider_type, provider_name`,
    [days],
  );
}

/** v_evaluation_stats for the last `days` UTC days, oldest first. */
export async function evaluationStats(db: StatsDb, days: number): Promise<EvaluationStatsRow[]> {
  return db.query<EvaluationStatsRow>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS "date", provider, model_id AS "modelId", primary_error_type AS "primaryErrorType",
            round(avg_score::numeric, 1)::float8 AS "avgScore", total_evaluations::int AS "totalEvaluations",
            round(avg_latency_ms::numeric, 1)::float8 AS "avgLatencyMs", pass_rate::float8 AS "passRate"
       FROM ${qualifiedName(db.schema, 'v_evaluation_stats', 'view')}
      WHERE date > ${sinceToday}
      ORDER BY date, provider NULLS LAST, model_id NULLS LAST, primary_error_type NULLS FIRST`,
    [days],
  );
}

// Attempt counts, success rate and latency percentiles: the same columns per day and per window.
const ATTEMPT_STATS = `count(*)::int AS "attempts",
            count(*) FILTER (WHERE success)::int AS "successfulAttempts",
            (count(*) FILTER (WHERE success))::float8 / count(*) AS "successRate",
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::float8 AS "p50Ms",
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::float8 AS "p95Ms",
            percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)::float8 AS "p99Ms"`;

/** Latency percentiles and success rate of attempts per UTC day and provider, from ai_usage_log. */
export async function latencyPercentiles(db: StatsDb, days: number): Promise<LatencyRow[]> {
  return db.query<LatencyRow>(
    `SELECT to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS "date",
            provider_type AS "providerType", provider_name AS "providerName",
            ${ATTEMPT_STATS}
       FROM ${qualifiedName(db.schema, 'ai_usage_log')}
      WHERE created_at >= ${windowStart}
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`,
    [days],
  );
}

/** Calls (not attempts) per UTC day and capability, and how many ended with an answer. */
export async function callStats(db: StatsDb, days: number): Promise<CallsRow[]> {
  return db.query<CallsRow>(
    `WITH calls AS (
       SELECT call_id, provider_type, min(created_at) AS created_at, bool_or(success) AS ok, count(*) AS attempts
         FROM ${qualifiedName(db.schema, 'ai_usage_log')}
        WHERE created_at >= ${windowStart}
        GROUP BY call_id, provider_type)
     SELECT to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS "date", provider_type AS "providerType",
            count(*)::int AS "calls", count(*) FILTER (WHERE ok)::int AS "successfulCalls",
            (count(*) FILTER (WHERE ok))::float8 / count(*) AS "successRate", sum(attempts)::int AS "attempts"
       FROM calls
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [days],
  );
}

/** Latency percentiles and success rate of attempts per provider over the whole window (not per day). */
export async function latencyOverWindow(db: StatsDb, days: number): Promise<Omit<LatencyRow, 'date'>[]> {
  return db.query<Omit<LatencyRow, 'date'>>(
    `SELECT provider_type AS "providerType", provider_name AS "providerName",
            ${ATTEMPT_STATS}
       FROM ${qualifiedName(db.schema, 'ai_usage_log')}
      WHERE created_at >= ${windowStart}
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [days],
  );
}
