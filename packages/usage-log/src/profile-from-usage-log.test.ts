import { createAiClient, isAiError } from '@korean-together/core';
import { FakeClock, fakeEval, simulatePolicy, unavailable } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { createPgliteSink } from './pglite-sink.js';
import { createPostgresSink } from './postgres-sink.js';
import { profileFromUsageLog } from './profile-from-usage-log.js';

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

  it('a bad window is invalid_config naming the field', async () => {
    await expect(profileFromUsageLog(db.client, { since: new Date('nope') })).rejects.toSatisfy((e) => isAiError(e) && e.code === 'invalid_config' && /since: must be a valid Date/.test(e.message));
    await expect(profileFromUsageLog(db.client, { since: new Date(), maxSamples: 0 })).rejects.toSatisfy((e) => isAiError(e) && e.code === 'invalid_config' && /maxSamples/.test(e.message));
  });
});
