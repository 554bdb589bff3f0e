import { describe, expect, it } from 'vitest';
import { batchRollup } from './batch-rollup.js';
import { normalizeUsage, type UsageRow } from './usage-row.js';

const row = (o: Record<string, unknown>): UsageRow => {
  const n = normalizeUsage({ id: crypto.randomUUID(), callId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', providerType: 'eval', providerName: 'gemini', latencyMs: 10, success: true, createdAt: Date.parse('2026-03-01T10:15:00Z'), ...o });
  if (!n.ok) throw new Error(n.reason);
  return n.row;
};

describe('batchRollup', () => {
  it('sums each hourly group exactly, keeps all-NULL sums NULL, and counts each call once per UTC day', () => {
    const call = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
    const other = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
    const rows = [
      row({ callId: call, attempt: 1, success: false, errorCode: 'timeout', latencyMs: 2000, estimatedCostUsd: 0 }),
      row({ callId: call, attempt: 2, latencyMs: 9, tokensIn: 100, estimatedCostUsd: 0.000125, tokensCachedIn: 64 }),
      row({ callId: call, attempt: 3, providerName: 'openai', latencyMs: 12, tokensIn: 50, estimatedCostUsd: '0.100001' }),
      // Another call, answered by the cache: in the same group as the first call's answer.
      row({ callId: other, latencyMs: 0, estimatedCostUsd: 0, cacheHit: true, savedCostUsd: 0.000125 }),
      // The same call after UTC midnight: counted again, on its own day.
      row({ callId: call, attempt: 4, latencyMs: 11, tokensIn: 1, estimatedCostUsd: 0.000001, createdAt: Date.parse('2026-03-02T00:00:01Z') }),
    ];
    const groups = JSON.parse(batchRollup(rows)) as Record<string, unknown>[];
    const pick = (g: Record<string, unknown>) => {
      const { latency_histogram: h, ...rest } = g;
      const hist = h as number[];
      return { ...rest, buckets: hist.length, last: hist[hist.length - 1], le9: hist[9], le11: hist[10] };
    };
    expect(groups.map(pick)).toEqual([
      { hour: '2026-03-01T10:00:00.000Z', provider_type: 'eval', provider_name: 'gemini', model_id: null, success: false, error_code: 'timeout', attempts: 1, distinct_calls: 1, calls: 1, calls_succeeded: 0, tokens_in: null, tokens_out: null, audio_duration_ms: null, characters: null, cost_usd: '0.000000', latency_ms_sum: 2000, latency_ms_min: 2000, latency_ms_max: 2000, cache_hits: 0, tokens_cached_in: null, saved_cost_usd: null, buckets: 122, last: 1, le9: 0, le11: 0 },
      { hour: '2026-03-01T10:00:00.000Z', provider_type: 'eval', provider_name: 'gemini', model_id: null, success: true, error_code: null, attempts: 2, distinct_calls: 1, calls: 1, calls_succeeded: 2, tokens_in: 100, tokens_out: null, audio_duration_ms: null, characters: null, cost_usd: '0.000125', latency_ms_sum: 9, latency_ms_min: 0, latency_ms_max: 9, cache_hits: 1, tokens_cached_in: 64, saved_cost_usd: '0.000125', buckets: 122, last: 2, le9: 2, le11: 2 },
      { hour: '2026-03-01T10:00:00.000Z', provider_type: 'eval', provider_name: 'openai', model_id: null, success: true, error_code: null, attempts: 1, distinct_calls: 1, calls: 0, calls_succeeded: 0, tokens_in: 50, tokens_out: null, audio_duration_ms: null, characters: null, cost_usd: '0.100001', latency_ms_sum: 12, latency_ms_min: 12, latency_ms_max: 12, cache_hits: 0, tokens_cached_in: null, saved_cost_usd: null, buckets: 122, last: 1, le9: 0, le11: 0 },
      { hour: '2026-03-02T00:00:00.000Z', provider_type: 'eval', provider_name: 'gemini', model_id: null, success: true, error_code: null, attempts: 1, distinct_calls: 1, calls: 1, calls_succeeded: 1, tokens_in: 1, tokens_out: null, audio_duration_ms: null, characters: null, cost_usd: '0.000001', latency_ms_sum: 11, latency_ms_min: 11, latency_ms_max: 11, cache_hits: 0, tokens_cached_in: null, saved_cost_usd: null, buckets: 122, last: 1, le9: 0, le11: 1 },
    ]);
  });
});
