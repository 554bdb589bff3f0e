import { qualifiedName } from '@korean-together/sql';
import type { Database } from './database.js';

/** What the read models need from the database. */
export type StatsDb = Pick<Database, 'schema' | 'query'>;

// Read models for /v1/stats/* and the dashboard. Every one reads the daily rollups that the
// writers keep (ai_usage_daily, evaluation_daily, through the views of @korean-together/sql), never
// the raw rows: a few hundred rows whatever the history, with an index on the day. Dates are UTC
// days as 'YYYY-MM-DD' strings (never JS Dates, which node-postgres would shift into the server's
// time zone); counts are integers; money is a decimal string, exact to the micro-dollar.

export interface DailyCostRow {
  date: string;
  providerType: string;
  providerName: string;
  /** Attempts (every one, failed included). */
  totalCalls: number;
  successfulCalls: number;
  /** Distinct calls (a call with a retry and a fallback counts once). */
  distinctCalls: number;
  avgLatencyMs: number;
  totalTokensIn: number | null;
  totalTokensOut: number | null;
  totalAudioDurationMs: number | null;
  totalCharacters: number | null;
  /** USD, decimal string, e.g. "0.001020". */
  totalCostUsd: string | null;
  /** Attempts the SDK's cache answered (no provider call). */
  cacheHits: number;
  /** The other attempts (totalCalls - cacheHits). */
  cacheMisses: number;
  /** USD the hits saved (what their provider calls would have cost), decimal string; null when none. */
  totalSavedCostUsd: string | null;
  /** Input tokens served from the provider's prompt cache (priced at the cached rate). */
  totalTokensCachedIn: number | null;
}

export interface CacheRow {
  date: string;
  providerType: string;
  /** Attempts the SDK's cache answered. */
  hits: number;
  /** Attempts that went to a provider. */
  misses: number;
  /** hits / (hits + misses), 0..1 */
  hitRate: number;
  /** USD the hits saved, decimal string ("0.000000" when none). */
  savedCostUsd: string;
  /** USD spent, decimal string ("0.000000" when nothing was billed). */
  costUsd: string;
}

export interface EvaluationStatsRow {
  date: string;
  provider: string | null;
  modelId: string | null;
  primaryErrorType: string | null;
  avgScore: number | null;
  totalEvaluations: number;
  avgLatencyMs: number | null;
  /** 0..1 */
  passRate: number;
}

export interface LatencyRow {
  date: string;
  providerType: string;
  providerName: string;
  attempts: number;
  successfulAttempts: number;
  /** successfulAttempts / attempts, 0..1 */
  successRate: number;
  /** Latency percentiles of the attempts (failed ones included), read from the rollups' histogram: within 10% of percentile_cont over the raw rows, exact below 10 ms. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface CallsRow {
  date: string;
  providerType: string;
  /** Distinct calls with an attempt that day (a call whose attempts straddle UTC midnight counts on both days). */
  calls: number;
  /** Of those, calls with an attempt that succeeded that day. */
  successfulCalls: number;
  /** successfulCalls / calls, 0..1 */
  successRate: number;
  attempts: number;
}

/** Longest window the stats endpoints accept, in days. */
export const MAX_STATS_DAYS = 366;

const sinceToday = `((now() AT TIME ZONE 'UTC')::date - $1::int)`;

/** v_daily_ai_costs for the last `days` UTC days (today included), oldest first. */
export async function dailyCosts(db: StatsDb, days: number): Promise<DailyCostRow[]> {
  return db.query<DailyCostRow>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS "date", provider_type AS "providerType", provider_name AS "providerName",
            total_calls::int AS "totalCalls", successful_calls::int AS "successfulCalls", distinct_calls::int AS "distinctCalls",
            round(avg_latency_ms::numeric, 1)::float8 AS "avgLatencyMs",
            total_tokens_in::float8 AS "totalTokensIn", total_tokens_out::float8 AS "totalTokensOut",
            total_audio_duration_ms::float8 AS "totalAudioDurationMs", total_characters::float8 AS "totalCharacters",
            total_cost_usd::text AS "totalCostUsd", cache_hits::int AS "cacheHits", cache_misses::int AS "cacheMisses",
            total_saved_cost_usd::text AS "totalSavedCostUsd", total_tokens_cached_in::float8 AS "totalTokensCachedIn"
       FROM ${qualifiedName(db.schema, 'v_daily_ai_costs', 'view')}
      WHERE date > ${sinceToday}
      ORDER BY date, provider_type, provider_name`,
    [days],
  );
}

/** Cache hits, misses, hit rate and money saved per UTC day and capability (v_daily_ai_costs), oldest first. */
export async function cacheStats(db: StatsDb, days: number): Promise<CacheRow[]> {
  return db.query<CacheRow>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS "date", provider_type AS "providerType",
            sum(cache_hits)::int AS "hits", sum(cache_misses)::int AS "misses",
            sum(cache_hits)::float8 / NULLIF(sum(total_calls), 0) AS "hitRate",
            coalesce(sum(total_saved_cost_usd), 0)::numeric(14, 6)::text AS "savedCostUsd",
            coalesce(sum(total_cost_usd), 0)::numeric(14, 6)::text AS "costUsd"
       FROM ${qualifiedName(db.schema, 'v_daily_ai_costs', 'view')}
      WHERE date > ${sinceToday}
      GROUP BY date, provider_type
      ORDER BY 1, 2`,
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

/** Latency percentiles and success rate of attempts per UTC day and provider (v_daily_ai_latency). */
export async function latencyPercentiles(db: StatsDb, days: number): Promise<LatencyRow[]> {
  return db.query<LatencyRow>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS "date", provider_type AS "providerType", provider_name AS "providerName",
            attempts::int AS "attempts", successful_attempts::int AS "successfulAttempts",
            successful_attempts::float8 / attempts AS "successRate",
            p50_ms AS "p50Ms", p95_ms AS "p95Ms", p99_ms AS "p99Ms"
       FROM ${qualifiedName(db.schema, 'v_daily_ai_latency', 'view')}
      WHERE date > ${sinceToday}
      ORDER BY 1, 2, 3`,
    [days],
  );
}

/**
 * Calls (not attempts) per UTC day and capability, and how many got an answer: the rollups'
 * `calls` (each call counted once per day and provider type, however many providers its attempts
 * went to) and `calls_succeeded`, with the day's attempts.
 */
export async function callStats(db: StatsDb, days: number): Promise<CallsRow[]> {
  return db.query<CallsRow>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS "date", provider_type AS "providerType",
            sum(calls)::int AS "calls", sum(calls_succeeded)::int AS "successfulCalls",
            sum(calls_succeeded)::float8 / NULLIF(sum(calls), 0) AS "successRate", sum(attempts)::int AS "attempts"
       FROM ${qualifiedName(db.schema, 'ai_usage_daily')}
      WHERE day > ${sinceToday}
      GROUP BY day, provider_type
      ORDER BY 1, 2`,
    [days],
  );
}

/** Latency percentiles and success rate of attempts per provider over the whole window (the days' histograms added up). */
export async function latencyOverWindow(db: StatsDb, days: number): Promise<Omit<LatencyRow, 'date'>[]> {
  const fn = (name: string) => qualifiedName(db.schema, name, 'function');
  return db.query<Omit<LatencyRow, 'date'>>(
    `SELECT provider_type AS "providerType", provider_name AS "providerName", attempts::int AS "attempts",
            ok::int AS "successfulAttempts", ok::float8 / attempts AS "successRate",
            ${fn('ai_latency_quantile')}(h, 0.5, lo, hi) AS "p50Ms", ${fn('ai_latency_quantile')}(h, 0.95, lo, hi) AS "p95Ms",
            ${fn('ai_latency_quantile')}(h, 0.99, lo, hi) AS "p99Ms"
       FROM (SELECT provider_type, provider_name, sum(attempts) AS attempts, sum(successful_attempts) AS ok,
                    ${fn('ai_latency_histogram_sum')}(latency_histogram) AS h, min(latency_ms_min) AS lo, max(latency_ms_max) AS hi
               FROM ${qualifiedName(db.schema, 'ai_usage_daily')}
              WHERE day > ${sinceToday}
              GROUP BY 1, 2) AS w
      ORDER BY 1, 2`,
    [days],
  );
}
