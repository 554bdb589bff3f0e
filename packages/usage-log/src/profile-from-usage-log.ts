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
   * The usage log stores the provider's name and model, not the chain key. Default: the model id
   * (the provider name when the row has none). Return undefined to leave a provider out.
   */
  keyFor?: (row: { providerType: 'stt' | 'tts' | 'eval'; providerName: string; modelId: string | null }) => string | undefined;
  /** Most latency samples kept per provider (evenly spaced in time). Default 10,000. */
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

function median(sorted: number[]): number {
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0;
}

/**
 * Per provider seen in `ai_usage_log` between `since` and `until`: latency samples (successful
 * attempts), fault probabilities per attempt (timeouts as hangs, 503 / 429 / 401 / 400 statuses
 * answering after their median latency, schema violations), mean eval tokens, the capability and
 * model. Attempts the SDK itself ended (circuit_open skips, cancelled, lost hedges, budget
 * refusals) are not the provider's doing and are left out. `db`: a pg Pool / Client or PGlite.
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
  const { rows } = await db.query(
    `SELECT provider_type, provider_name, model_id, latency_ms, success, error_code, tokens_in, tokens_out
       FROM ${table}
      WHERE created_at >= $1 AND created_at < $2
      ORDER BY created_at, id`,
    [options.since, options.until ?? new Date()],
  );
  const keyFor = options.keyFor ?? ((r) => r.modelId ?? r.providerName);
  interface Acc { capability: 'stt' | 'tts' | 'eval'; modelId: string | null; attempts: number; ok: number[]; errors: Map<string, number[]>; tokensIn: number; tokensOut: number; tokenRows: number }
  const byKey = new Map<string, Acc>();
  for (const r of rows) {
    const code: string | null = r.error_code;
    if (!r.success && (code === null || !(code in FAULT_FOR) || (code === 'schema_violation' && r.provider_type !== 'eval'))) continue;
    const key = keyFor({ providerType: r.provider_type, providerName: r.provider_name, modelId: r.model_id });
    if (key === undefined) continue;
    let acc = byKey.get(key);
    if (!acc) byKey.set(key, (acc = { capability: r.provider_type, modelId: r.model_id, attempts: 0, ok: [], errors: new Map(), tokensIn: 0, tokensOut: 0, tokenRows: 0 }));
    acc.attempts++;
    const latency = Number(r.latency_ms);
    if (r.success) {
      acc.ok.push(latency);
      if (r.tokens_in !== null && r.tokens_out !== null) {
        acc.tokensIn += Number(r.tokens_in);
        acc.tokensOut += Number(r.tokens_out);
        acc.tokenRows++;
      }
    } else {
      const list = acc.errors.get(code!) ?? [];
      list.push(latency);
      acc.errors.set(code!, list);
    }
  }
  const profiles: ProviderProfiles = {};
  for (const [key, acc] of byKey) {
    if (acc.ok.length === 0) continue; // nothing to draw a latency from
    const stride = Math.max(1, acc.ok.length / maxSamples);
    const samples: number[] = [];
    for (let i = 0; i < acc.ok.length && samples.length < maxSamples; i += stride) samples.push(acc.ok[Math.floor(i)]!);
    const faults = [...acc.errors].map(([code, latencies]) => ({ ...FAULT_FOR[code]!(median(latencies.sort((a, b) => a - b))), probability: latencies.length / acc.attempts }));
    const profile: ProviderProfile = { latency: { kind: 'samples', ms: samples }, faults, capability: acc.capability, ...(acc.modelId && { modelId: acc.modelId }) };
    if (acc.capability === 'eval' && acc.tokenRows > 0) {
      profile.tokensIn = Math.round(acc.tokensIn / acc.tokenRows);
      profile.tokensOut = Math.round(acc.tokensOut / acc.tokenRows);
    }
    profiles[key] = profile;
  }
  return profiles;
}
