// Fits simulator profiles (simulatePolicy from @korean-together/core/testing) to what really
// happened: latency samples and fault rates per provider, read from the SDK's own ai_usage_log.
import { AiError } from '@korean-together/core';
import type { FaultProfile, ProviderProfile, ProviderProfiles } from '@korean-together/core/testing';
import { quoteIdentifier } from './identifier.js';
import type { QueryableLike } from './session-events.js';

export interface ProfileFromUsageLogOptions {
  /** Attempts from this instant on. */
  since: Date;
  /** ... and before this one. Default: now. */
  until?: Date;
  /** Schema of ai_usage_log. Default 'public'. */
  schema?: string;
  /**
   * Profile key per provider, as the policy's chains name them: `(providerType, providerName, modelId) => key`.
   * The usage log stores the provider's name and model, not the chain key. Default
   * `<providerName>/<modelId>` (`gemini/gemini-2.5-flash`, `gemini-vertex/gemini-2.5-flash`: two
   * routes to one model stay two profiles), the provider name alone when the row has no model.
   * Return undefined to leave a provider out.
   */
  keyFor?: (row: { providerType: 'stt' | 'tts' | 'eval'; providerName: string; modelId: string | null }) => string | undefined;
  /** Most latency samples kept per provider (evenly spaced in time), and as many lower bounds. Default 10,000. */
  maxSamples?: number;
}

/** Error codes that mean the provider misbehaved, and the fault that replays each. */
const FAULT_FOR: Record<string, (afterMs: number) => Omit<FaultProfile, 'probability'>> = {
  timeout: () => ({ kind: 'hang' }),
  unavailable: (afterMs) => ({ kind: 'status', status: 503, afterMs }),
  rate_limited: (afterMs) => ({ kind: 'status', status: 429, afterMs }),
  unauthenticated: (afterMs) => ({ kind: 'status', status: 401, afterMs }),
  invalid_request: (afterMs) => ({ kind: 'status', status: 400, afterMs }),
  schema_violation: (afterMs) => ({ kind: 'schema_violation', afterMs }),
};

/**
 * Which rows count, as SQL over the row's own columns (never error_message's text):
 * - `rate_limited` within 1 ms is our own limiter refusing without a wait (no provider call);
 *   a provider's 429 comes back over the network, slower than that;
 * - `cancelled` (a lost hedge, the caller's abort, the client closing) is a lower bound on the
 *   provider's latency: it had not answered after latency_ms;
 * - `schema_violation` counts for eval providers only (elsewhere it is the SDK's check).
 */
const FAULT_CODES = Object.keys(FAULT_FOR).map((c) => `'${c}'`).join(', ');
const COUNTED = `(success OR (error_code IN (${FAULT_CODES}) AND NOT (error_code = 'rate_limited' AND latency_ms <= 1) AND (error_code <> 'schema_violation' OR provider_type = 'eval')) OR error_code = 'cancelled')`;

/**
 * Per provider seen in `ai_usage_log` between `since` and `until`: latency samples (successful
 * attempts) with lost hedges and other cancelled attempts as lower bounds (`censoredMs`), fault
 * probabilities per attempt (timeouts as hangs, 503 / 429 / 401 / 400 statuses answering after
 * their median latency, schema violations), mean eval tokens, the capability and model. Counted
 * and sampled in SQL (GROUP BY, a bounded sample per provider), so memory does not grow with the
 * window. Attempts the SDK itself refused (circuit_open skips, budget refusals, an immediate
 * refusal by our own rate limiter) are left out. `db`: a pg Pool / Client or PGlite.
 */
export async function profileFromUsageLog(db: QueryableLike, options: ProfileFromUsageLogOptions): Promise<ProviderProfiles> {
  if (!options || !(options.since instanceof Date) || Number.isNaN(options.since.getTime())) {
    throw new AiError('invalid_config', 'profileFromUsageLog: since: must be a valid Date', { retryable: false });
  }
  if (options.until !== undefined && (!(options.until instanceof Date) || Number.isNaN(options.until.getTime()))) {
    throw new AiError('invalid_config', 'profileFromUsageLog: until: must be a valid Date', { retryable: false });
  }
  const maxSamples = options.maxSamples ?? 10_000;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new AiError('invalid_config', 'profileFromUsageLog: maxSamples: must be a positive integer', { retryable: false });
  const table = `${quoteIdentifier(options.schema ?? 'public', 'schema')}.ai_usage_log`;
  const window = [options.since, options.until ?? new Date()];
  // One row per provider and outcome: counts, the median latency, eval tokens.
  const groups = await db.query(
    `SELECT provider_type, provider_name, model_id, success, CASE WHEN success THEN NULL ELSE error_code END AS error_code,
            count(*)::int AS n,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS median_ms,
            coalesce(sum(tokens_in) FILTER (WHERE tokens_in IS NOT NULL AND tokens_out IS NOT NULL), 0)::float8 AS tokens_in,
            coalesce(sum(tokens_out) FILTER (WHERE tokens_in IS NOT NULL AND tokens_out IS NOT NULL), 0)::float8 AS tokens_out,
            count(*) FILTER (WHERE tokens_in IS NOT NULL AND tokens_out IS NOT NULL)::int AS token_rows
       FROM ${table}
      WHERE created_at >= $1 AND created_at < $2 AND ${COUNTED}
      GROUP BY 1, 2, 3, 4, 5
      ORDER BY 1, 2, 3, 4, 5`,
    window,
  );
  // At most maxSamples latencies per provider and kind (answered / lower bound), evenly spaced in
  // time order: row k of n is kept when floor(k * max / n) steps, which keeps exactly max rows.
  const samples = await db.query(
    `SELECT provider_type, provider_name, model_id, success, latency_ms
       FROM (SELECT provider_type, provider_name, model_id, success, latency_ms, created_at, id,
                    row_number() OVER w - 1 AS k, count(*) OVER (PARTITION BY provider_type, provider_name, model_id, success) AS n
               FROM ${table}
              WHERE created_at >= $1 AND created_at < $2 AND (success OR error_code = 'cancelled')
             WINDOW w AS (PARTITION BY provider_type, provider_name, model_id, success ORDER BY created_at, id)) s
      WHERE n <= $3 OR (k * $3) % n < $3
      ORDER BY provider_type, provider_name, model_id, created_at, id`,
    [...window, maxSamples],
  );

  const keyFor = options.keyFor ?? ((r) => (r.modelId ? `${r.providerName}/${r.modelId}` : r.providerName));
  interface Acc { capability: 'stt' | 'tts' | 'eval'; modelId: string | null; attempts: number; ok: number[]; censored: number[]; okCount: number; errors: Map<string, { n: number; medianMs: number; largest: number }>; tokensIn: number; tokensOut: number; tokenRows: number }
  const byKey = new Map<string, Acc>();
  const accFor = (r: { provider_type: Acc['capability']; provider_name: string; model_id: string | null }): Acc | undefined => {
    const key = keyFor({ providerType: r.provider_type, providerName: r.provider_name, modelId: r.model_id });
    if (key === undefined) return undefined;
    let acc = byKey.get(key);
    if (!acc) byKey.set(key, (acc = { capability: r.provider_type, modelId: r.model_id, attempts: 0, ok: [], censored: [], okCount: 0, errors: new Map(), tokensIn: 0, tokensOut: 0, tokenRows: 0 }));
    return acc;
  };
  for (const r of groups.rows) {
    const acc = accFor(r);
    if (!acc) continue;
    const n = Number(r.n);
    acc.attempts += n;
    if (r.success) {
      acc.okCount += n;
      acc.tokensIn += Number(r.tokens_in);
      acc.tokensOut += Number(r.tokens_out);
      acc.tokenRows += Number(r.token_rows);
    } else if (r.error_code !== 'cancelled') {
      // keyFor may merge providers: counts add up; afterMs is the median of the largest group.
      const e = acc.errors.get(r.error_code) ?? { n: 0, medianMs: 0, largest: 0 };
      e.n += n;
      if (n > e.largest) {
        e.largest = n;
        e.medianMs = Number(r.median_ms);
      }
      acc.errors.set(r.error_code, e);
    }
  }
  for (const r of samples.rows) {
    const acc = accFor(r);
    if (acc) (r.success ? acc.ok : acc.censored).push(Number(r.latency_ms));
  }
  const profiles: ProviderProfiles = {};
  for (const [key, acc] of byKey) {
    if (acc.okCount === 0) continue; // nothing to draw a latency from
    const latency: ProviderProfile['latency'] = { kind: 'samples', ms: acc.ok.slice(0, maxSamples), ...(acc.censored.length > 0 && { censoredMs: acc.censored.slice(0, maxSamples) }) };
    const faults = [...acc.errors].map(([code, e]) => ({ ...FAULT_FOR[code]!(e.medianMs), probability: e.n / acc.attempts }));
    const profile: ProviderProfile = { latency, faults, capability: acc.capability, ...(acc.modelId && { modelId: acc.modelId }) };
    if (acc.capability === 'eval' && acc.tokenRows > 0) {
      profile.tokensIn = Math.round(acc.tokensIn / acc.tokenRows);
      profile.tokensOut = Math.round(acc.tokensOut / acc.tokenRows);
    }
    profiles[key] = profile;
  }
  return profiles;
}
