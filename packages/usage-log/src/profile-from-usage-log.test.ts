import { createAiClient, isAiError } from '@korean-together/core';
import { FakeClock, fakeEval, simulatePolicy, unavailable } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { createPgliteSink } from './pglite-sink.js';
import { createPostgresSink } from './postgres-sink.js';
import { profileFromUsageLog } from './profile-from-usage-log.js';
import type { QueryableLike } from './session-events.js';

const policy = { capabilities: { eval: { chain: ['flash', 'lite'], attemptTimeoutMs: 1000, deadlineMs: 5000, retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 100 } } } };

describe('profileFromUsageLog', () => {
  const db = useMigratedDatabase('profile_log');

  it('fits latency samples and fault rates per provider from the rows the SDK wrote, and the profile simulates', async () => {
    const since = new Date(Date.now() - 1000);
    const clock = new FakeClock(Date.now());
    const sink = db.kind === 'pglite' ? createPgliteSink({ db: db.pglite!, schema: db.schema }) : createPostgresSink({ pool: db.pool!, schema: db.schema });
    // flash: 8 answers, one 503 after 50 ms, one hang (a timeout at 1000 ms); lite answers the two calls flash lost.
    const flash = fakeEval([{ ok: true, afterMs: 100 }, { ok: true, afterMs: 300 }, { error: unavailable(), afterMs: 50 }, { ok: true, afterMs: 200 }, { hang: true }, { ok: true, afterMs: 100 }], { clock, tokensIn: 900, tokensOut: 150 });
    const lite = fakeEval([{ ok: true, afterMs: 40 }], { clock, modelId: 'gemini-2.5-flash-lite' });
    const client = createAiClient({ policy, providers: { flash, lite }, sinks: [sink], clock, closeSinks: false });
    for (let i = 0; i < 10; i++) {
      const call = client.eval.evaluate({ prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.' });
      await clock.advance(2000);
      await call;
    }
    const closing = client.close();
    await clock.advance(30_000);
    await closing;
    // The sink writes on real time (its own timers): close it outside the fake clock.
    await sink.close();

    const until = new Date(clock.now() + 1000);
    const profiles = await profileFromUsageLog(db.client, { since, until, schema: db.schema, keyFor: (r) => (r.modelId === 'gemini-2.5-flash' ? 'flash' : 'lite') });
    expect(Object.keys(profiles).sort()).toEqual(['flash', 'lite']);
    expect(profiles.flash).toEqual({
      latency: { kind: 'samples', ms: [100, 300, 200, 100, 100, 100, 100, 100] },
      faults: expect.arrayContaining([{ kind: 'status', status: 503, afterMs: 50, probability: 0.1 }, { kind: 'hang', probability: 0.1 }]),
      capability: 'eval',
      modelId: 'gemini-2.5-flash',
      tokensIn: 900,
      tokensOut: 150,
    });
    expect(profiles.flash!.faults).toHaveLength(2);
    expect(profiles.lite).toMatchObject({ latency: { kind: 'samples', ms: [40, 40] }, faults: [], modelId: 'gemini-2.5-flash-lite' });

    // Rows outside the window are not read.
    expect(await profileFromUsageLog(db.client, { since: until, until: new Date(until.getTime() + 1000), schema: db.schema })).toEqual({});

    const report = await simulatePolicy({ policy, profiles, workload: { calls: 1000 }, seed: 2 });
    expect(report.eval!.successRate).toBe(1);
    expect(report.eval!.fallbacks).toBeGreaterThan(100);
    expect(report.eval!.fallbacks).toBeLessThan(300);
  });

  // Rows as the engine writes them, inserted directly: one per attempt, at `at`.
  async function insertRows(rows: Array<{ name: string; model?: string; ms: number; ok?: boolean; code?: string; type?: string; tokensIn?: number; tokensOut?: number }>, at: Date): Promise<void> {
    const table = `"${db.schema}".ai_usage_log`;
    const client: QueryableLike = db.client;
    let n = 0;
    for (const r of rows) {
      await client.query(
        `INSERT INTO ${table} (call_id, provider_type, provider_name, model_id, latency_ms, success, error_code, error_message, tokens_in, tokens_out, created_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [r.type ?? 'eval', r.name, r.model ?? 'gemini-2.5-flash', r.ms, r.ok ?? !r.code, r.code ?? null, r.code ? 'free text, never parsed' : null, r.tokensIn ?? null, r.tokensOut ?? null, new Date(at.getTime() + n++)],
      );
    }
  }

  it('keys profiles by provider name and model: two routes to one model stay apart', async () => {
    const at = new Date(Date.now() - 3_600_000);
    await insertRows([{ name: 'gemini', ms: 100 }, { name: 'gemini', ms: 120 }, { name: 'gemini-vertex', ms: 300 }, { name: 'gemini-vertex', ms: 50, code: 'unavailable' }, { name: 'whisper', model: 'whisper-1', type: 'stt', ms: 700 }], at);
    const profiles = await profileFromUsageLog(db.client, { since: at, until: new Date(at.getTime() + 1000), schema: db.schema });
    expect(Object.keys(profiles).sort()).toEqual(['gemini-vertex/gemini-2.5-flash', 'gemini/gemini-2.5-flash', 'whisper/whisper-1']);
    expect(profiles['gemini/gemini-2.5-flash']).toMatchObject({ latency: { kind: 'samples', ms: [100, 120] }, faults: [] });
    expect(profiles['gemini-vertex/gemini-2.5-flash']).toMatchObject({ latency: { kind: 'samples', ms: [300] }, faults: [{ kind: 'status', status: 503, afterMs: 50, probability: 0.5 }] });
  });

  it('counts and medians in SQL: rows handed to JS are bounded by maxSamples, not by the window', async () => {
    const at = new Date(Date.now() - 7_200_000);
    const rows = [
      ...Array.from({ length: 40 }, (_, i) => ({ name: 'gemini', ms: 100 + i })),
      ...Array.from({ length: 10 }, (_, i) => ({ name: 'gemini', ms: 10 * (i + 1), code: 'unavailable' })),
    ];
    await insertRows(rows, at);
    let handed = 0;
    const inner: QueryableLike = db.client;
    const counting: QueryableLike = { query: async (text, params) => {
      const result = await inner.query(text, params);
      handed += result.rows.length;
      return result;
    } };
    const profiles = await profileFromUsageLog(counting, { since: at, until: new Date(at.getTime() + 1000), schema: db.schema, maxSamples: 4 });
    // Two groups (answers, 503s) and four evenly spaced samples: 6 rows for a window of 50.
    expect(handed).toBe(6);
    expect(profiles['gemini/gemini-2.5-flash']).toEqual({
      latency: { kind: 'samples', ms: [100, 110, 120, 130] },
      faults: [{ kind: 'status', status: 503, afterMs: 50, probability: 0.2 }],
      capability: 'eval',
      modelId: 'gemini-2.5-flash',
    });
  });

  it("leaves out our own limiter's refusals, keeps a provider's 429, and keeps cancelled attempts as lower bounds", async () => {
    const at = new Date(Date.now() - 10_800_000);
    await insertRows([
      { name: 'gemini', ms: 100 },
      { name: 'gemini', ms: 200 },
      { name: 'gemini', ms: 900 },
      // Our limiter refused at once: no provider call, not the provider's fault.
      { name: 'gemini', ms: 0, code: 'rate_limited' },
      { name: 'gemini', ms: 1, code: 'rate_limited' },
      // The provider's 429 after a round trip.
      { name: 'gemini', ms: 80, code: 'rate_limited' },
      // An attempt timeout (or a deadline cut: the columns cannot tell): a hang.
      { name: 'gemini', ms: 3000, code: 'timeout' },
      // Lost hedges: no answer after 500 ms and after 950 ms.
      { name: 'gemini', ms: 500, code: 'cancelled' },
      { name: 'gemini', ms: 950, code: 'cancelled' },
      // Budget refusals and breaker skips are the SDK's, not the provider's.
      { name: 'gemini', ms: 0, code: 'budget_exceeded' },
      { name: 'gemini', ms: 0, code: 'circuit_open' },
    ], at);
    const profiles = await profileFromUsageLog(db.client, { since: at, until: new Date(at.getTime() + 1000), schema: db.schema });
    const p = profiles['gemini/gemini-2.5-flash']!;
    // 3 answers + 1 provider 429 + 1 timeout + 2 lower bounds = 7 attempts.
    expect(p.latency).toEqual({ kind: 'samples', ms: [100, 200, 900], censoredMs: [500, 950] });
    expect(p.faults).toEqual(expect.arrayContaining([{ kind: 'status', status: 429, afterMs: 80, probability: 1 / 7 }, { kind: 'hang', probability: 1 / 7 }]));
    expect(p.faults).toHaveLength(2);

    // A lower bound is drawn as a later answer (900 ms), or as itself when no answer is later.
    const policy = { capabilities: { eval: { chain: ['flash'], attemptTimeoutMs: 5000, deadlineMs: 10_000, retry: { maxAttempts: 1 } } } };
    const report = await simulatePolicy({ policy, profiles: { flash: { ...p, faults: [] } }, workload: { calls: 2000 }, seed: 3 });
    expect(report.eval!.latency.max).toBe(950);
    // Without the lower bounds 900 ms is a third of the draws; with them 900 and 950 are half.
    expect(report.eval!.latency.p50).toBeGreaterThanOrEqual(200);
    expect(report.eval!.latency.p95).toBeGreaterThanOrEqual(900);
  });

  it('a bad window is invalid_config naming the field', async () => {
    await expect(profileFromUsageLog(db.client, { since: new Date('nope') })).rejects.toSatisfy((e) => isAiError(e) && e.code === 'invalid_config' && /since: must be a valid Date/.test(e.message));
    await expect(profileFromUsageLog(db.client, { since: new Date(), maxSamples: 0 })).rejects.toSatisfy((e) => isAiError(e) && e.code === 'invalid_config' && /maxSamples/.test(e.message));
  });
});
