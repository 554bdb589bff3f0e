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

  // The plain definition (string keys, BigInt micro-dollars), against which the fast one is held.
  const reference = (rows: UsageRow[]) => {
    const groups = new Map<string, Record<string, unknown> & { rows: UsageRow[]; distinct: number; calls: number; ok: number }>();
    const seen = new Set<string>();
    for (const r of rows) {
      const hour = Math.floor(r.createdAt / 3_600_000) * 3_600_000;
      const key = JSON.stringify([hour, r.providerType, r.providerName, r.modelId, r.success, r.errorCode]);
      const g = groups.get(key) ?? { rows: [], distinct: 0, calls: 0, ok: 0, hour };
      groups.set(key, g);
      g.rows.push(r);
      const call = JSON.stringify([Math.floor(r.createdAt / 86_400_000), r.callId, r.providerType]);
      const once = (k: string) => !seen.has(k) && seen.add(k) !== undefined;
      if (once(`name ${call} ${r.providerName}`)) g.distinct++;
      if (once(`call ${call}`)) g.calls++;
      if (r.success && once(`ok ${call}`)) g.ok++;
    }
    const sum = (vs: (string | null | undefined)[]) => {
      const xs = vs.filter((v): v is string => v != null);
      if (xs.length === 0) return null;
      const m = xs.reduce((a, v) => a + BigInt(v.replace('.', '')), 0n).toString().padStart(7, '0');
      return `${m.slice(0, -6)}.${m.slice(-6)}`;
    };
    const nsum = (vs: (number | null | undefined)[]) => (vs.every((v) => v == null) ? null : vs.reduce<number>((a, v) => a + (v ?? 0), 0));
    return [...groups.values()].map((g) => ({
      attempts: g.rows.length, distinct_calls: g.distinct, calls: g.calls, calls_succeeded: g.ok,
      tokens_in: nsum(g.rows.map((r) => r.tokensIn)), cost_usd: sum(g.rows.map((r) => r.estimatedCostUsd)), saved_cost_usd: sum(g.rows.map((r) => r.savedCostUsd)),
      latency_ms_sum: g.rows.reduce((a, r) => a + r.latencyMs, 0), latency_ms_max: Math.max(...g.rows.map((r) => r.latencyMs)),
    }));
  };

  it.each([
    ['at most 32 groups (a field-by-field scan)', false],
    ['over 32 groups (a keyed map)', true],
  ])('equals the plain definition for a mixed batch with %s', (_label, wide) => {
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 16) % n;
    const callIds = Array.from({ length: 40 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const rows = Array.from({ length: 2000 }, () =>
      row({
        callId: callIds[rand(callIds.length)],
        providerType: wide ? (['stt', 'tts', 'eval'] as const)[rand(3)] : 'eval',
        // 'a|b' + 'c' and 'a' + 'b|c': two groups that a key joined with '|' would merge.
        providerName: ['gemini', 'openai', 'a', 'a|b'][rand(4)],
        modelId: rand(4) === 0 ? null : !wide || rand(6) === 0 ? ['c', 'b|c'][rand(2)] : `m${rand(60)}`,
        success: rand(4) !== 0,
        errorCode: wide && rand(8) === 0 ? 'timeout' : undefined,
        latencyMs: rand(5000),
        tokensIn: rand(3) === 0 ? undefined : rand(1000),
        estimatedCostUsd: rand(5) === 0 ? undefined : `${rand(1_000_000)}.${String(rand(1_000_000)).padStart(6, '0')}`,
        savedCostUsd: rand(6) === 0 ? '999999.999999' : undefined,
        // Across an hour and a UTC midnight.
        createdAt: Date.parse('2026-03-01T23:00:00Z') + rand((wide ? 2 : 1) * 3_600_000),
      }),
    );
    const fast = (JSON.parse(batchRollup(rows)) as Record<string, unknown>[]).map((g) => ({
      attempts: g.attempts, distinct_calls: g.distinct_calls, calls: g.calls, calls_succeeded: g.calls_succeeded, tokens_in: g.tokens_in,
      cost_usd: g.cost_usd, saved_cost_usd: g.saved_cost_usd, latency_ms_sum: g.latency_ms_sum, latency_ms_max: g.latency_ms_max,
    }));
    const want = reference(rows);
    if (wide) expect(want.length).toBeGreaterThan(32);
    else expect(want.length).toBeLessThanOrEqual(32);
    expect(fast).toEqual(want);
  });
});
