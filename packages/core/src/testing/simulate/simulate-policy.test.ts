import { describe, expect, it } from 'vitest';
import { defaultPriceTable } from '../../pricing/price-table.js';
import { Pricer, microToUsd } from '../../pricing/cost.js';
import { isAiError } from '../../errors/ai-error.js';
import { simulatePolicy, type SimulatePolicyOptions } from './simulate-policy.js';
import { formatSimulationReport } from './report.js';

const pricer = new Pricer(defaultPriceTable);
const evalCost = (modelId: string, tokensIn = 1000, tokensOut = 200) => microToUsd(pricer.costMicro('eval', modelId, { tokensIn, tokensOut }));

const twoModels = (evalPolicy: Record<string, unknown> = {}) => ({ capabilities: { eval: { chain: ['flash', 'lite'], attemptTimeoutMs: 1000, deadlineMs: 5000, ...evalPolicy } } });

async function configError(options: SimulatePolicyOptions): Promise<string> {
  try {
    await simulatePolicy(options);
  } catch (e) {
    expect(isAiError(e) && e.code).toBe('invalid_config');
    return (e as Error).message;
  }
  throw new Error('expected invalid_config');
}

describe('simulatePolicy', () => {
  it('runs the engine on virtual time: fixed latency gives exact percentiles and exact cost', async () => {
    const report = await simulatePolicy({
      policy: twoModels(),
      profiles: { flash: { latency: { kind: 'fixed', ms: 200 } }, lite: { latency: { kind: 'fixed', ms: 100 }, modelId: 'gemini-2.5-flash-lite' } },
      workload: { calls: 500, concurrency: 5 },
    });
    expect(report.eval).toMatchObject({ calls: 500, latency: { p50: 200, p95: 200, p99: 200, max: 200 }, successRate: 1, attemptsPerCall: 1, fallbacks: 0 });
    expect(report.eval!.costPerCallUsd).toBe(evalCost('gemini-2.5-flash'));
    expect(report.totalCostUsd).toBe(microToUsd(500 * pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: 1000, tokensOut: 200 })));
    // 500 calls, 5 at a time, 200 ms each: 20 s of virtual time.
    expect(report.simulatedMs).toBe(20_000);
    expect(report.stt).toBeUndefined();
  });

  it('a hanging provider costs its attempt timeout, then the chain falls back', async () => {
    const report = await simulatePolicy({
      policy: twoModels({ retry: { maxAttempts: 1 } }),
      profiles: { flash: { latency: { kind: 'fixed', ms: 200 }, faults: [{ kind: 'hang', probability: 1 }] }, lite: { latency: { kind: 'fixed', ms: 100 }, modelId: 'gemini-2.5-flash-lite' } },
      workload: { calls: 50, concurrency: 1 },
    });
    // The breaker opens after 5 timeouts; later calls skip flash and take lite's 100 ms.
    expect(report.eval!.breakerOpens).toBe(1);
    expect(report.eval!.latency.max).toBe(1100);
    expect(report.eval!.latency.p50).toBe(100);
    expect(report.eval!.fallbacks).toBe(50);
    expect(report.eval!.successRate).toBe(1);
    expect(report.eval!.costPerCallUsd).toBe(evalCost('gemini-2.5-flash-lite'));
    expect(report.breakers[0]).toEqual({ atMs: 5 * 1100 - 100, key: 'eval:flash', state: 'open' });
  });

  it('an outage window opens the breaker during it and closes it after', async () => {
    const report = await simulatePolicy({
      policy: twoModels({ retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 3, cooldownMs: 2000 } }),
      profiles: {
        flash: { latency: { kind: 'fixed', ms: 200 }, faults: [{ kind: 'status', status: 503, probability: 1, fromMs: 10_000, toMs: 20_000 }] },
        lite: { latency: { kind: 'fixed', ms: 300 }, modelId: 'gemini-2.5-flash-lite' },
      },
      workload: { calls: 300, concurrency: 2 },
    });
    const flash = report.breakers.filter((b) => b.key === 'eval:flash');
    expect(flash[0]!.state).toBe('open');
    expect(flash[0]!.atMs).toBeGreaterThanOrEqual(10_000);
    expect(flash[0]!.atMs).toBeLessThan(11_000);
    const last = flash[flash.length - 1]!;
    expect(last.state).toBe('closed');
    expect(last.atMs).toBeGreaterThanOrEqual(20_000);
    expect(report.eval!.successRate).toBe(1);
    expect(report.eval!.breakerOpens).toBeGreaterThanOrEqual(1);
  });

  it('retries: a 429 with Retry-After is honoured, a 503 is retried after backoff', async () => {
    const report = await simulatePolicy({
      policy: { capabilities: { eval: { chain: ['flash'], retry: { maxAttempts: 3 }, circuitBreaker: { failureThreshold: 10 } } } },
      profiles: { flash: { latency: { kind: 'fixed', ms: 100 }, faults: [{ kind: 'retry_after', retryAfterMs: 700, probability: 0.5, afterMs: 0 }] } },
      workload: { calls: 400, concurrency: 4 },
      seed: 3,
    });
    const r = report.eval!;
    expect(r.attemptsPerCall).toBeGreaterThan(1.4);
    expect(r.attemptsPerCall).toBeLessThan(1.9);
    // A call that was refused once waits the Retry-After (700 ms), then 100 ms.
    expect(r.latency.p95).toBeGreaterThanOrEqual(800);
    expect(r.latency.p50).toBeGreaterThanOrEqual(100);
    const failed = Object.values(r.errors).reduce((a, b) => a + b, 0);
    expect(failed).toBe(Math.round((1 - r.successRate) * r.calls));
    expect(failed).toBeGreaterThan(0);
  });

  it('hedging starts the second model after hedgeAfterMs and its answer wins', async () => {
    const report = await simulatePolicy({
      policy: twoModels({ hedgeAfterMs: 300 }),
      profiles: { flash: { latency: { kind: 'fixed', ms: 900 } }, lite: { latency: { kind: 'fixed', ms: 100 }, modelId: 'gemini-2.5-flash-lite' } },
      workload: { calls: 100 },
    });
    expect(report.eval).toMatchObject({ hedges: 100, successRate: 1, latency: { p50: 400, max: 400 } });
  });

  it('schema-breaking answers are schema_violation and move the chain on', async () => {
    const report = await simulatePolicy({
      policy: twoModels({ retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1000 } }),
      profiles: { flash: { latency: { kind: 'fixed', ms: 200 }, faults: [{ kind: 'schema_violation', probability: 1 }] }, lite: { latency: { kind: 'fixed', ms: 100 }, modelId: 'gemini-2.5-flash-lite' } },
      workload: { calls: 20 },
    });
    expect(report.eval).toMatchObject({ fallbacks: 20, successRate: 1, attemptsPerCall: 2, latency: { p50: 300 } });
    // The broken answer was billed too.
    expect(report.eval!.costPerCallUsd).toBeCloseTo(evalCost('gemini-2.5-flash') + evalCost('gemini-2.5-flash-lite'), 9);
  });

  it('lessons: per-session budget refusals and exact cost per lesson', async () => {
    const report = await simulatePolicy({
      policy: { capabilities: { eval: { chain: ['flash'] }, stt: { chain: ['whisper'] }, tts: { chain: ['wavenet'] } }, budget: { perSessionUsd: 0.003 } },
      profiles: { flash: { latency: { kind: 'normal', meanMs: 800, stdDevMs: 100 } }, whisper: { latency: { kind: 'samples', ms: [300, 400, 500] } }, wavenet: { latency: { kind: 'lognormal', medianMs: 250, sigma: 0.3 } } },
      workload: { lessons: 20, lesson: { stt: 5, eval: 5, tts: 5 }, concurrency: 4 },
    });
    expect(report.lessons).toBe(20);
    expect(report.calls).toBe(300);
    const refusals = (report.stt!.budgetRefusals + report.eval!.budgetRefusals + report.tts!.budgetRefusals);
    expect(refusals).toBeGreaterThan(0);
    expect(report.costPerLessonUsd).toBeLessThanOrEqual(0.003);
    expect(report.costPerLessonUsd).toBeCloseTo(report.totalCostUsd / 20, 12);
    expect(report.stt!.latency.p50).toBeGreaterThanOrEqual(300);
    expect(report.stt!.latency.max).toBeLessThanOrEqual(500);
  });

  it('is deterministic for a seed, and the seed matters', async () => {
    const options: SimulatePolicyOptions = {
      policy: twoModels(),
      profiles: { flash: { latency: { kind: 'lognormal', medianMs: 400, sigma: 0.5 }, faults: [{ kind: 'hang', probability: 0.03 }, { kind: 'status', status: 503, probability: 0.05 }] }, lite: { latency: { kind: 'normal', meanMs: 300, stdDevMs: 80 }, modelId: 'gemini-2.5-flash-lite' } },
      workload: { calls: 2000, concurrency: 20 },
      seed: 42,
    };
    const a = await simulatePolicy(options);
    const b = await simulatePolicy(options);
    expect(b).toEqual(a);
    const c = await simulatePolicy({ ...options, seed: 43 });
    expect(c.eval!.latency).not.toEqual(a.eval!.latency);
    expect(formatSimulationReport(a)).toContain('eval');
  });

  it('a shared rate limit runs as a local limiter with the same limits on the virtual clock', async () => {
    const evalPolicy = (rateLimit: Record<string, unknown>) => ({ capabilities: { eval: { chain: ['flash'], rateLimit, retry: { maxAttempts: 1 } } } });
    const profiles = { flash: { latency: { kind: 'fixed' as const, ms: 1000 } } };
    const workload = { calls: 200, arrivalsPerSecond: 10 };
    const shared = await simulatePolicy({ policy: evalPolicy({ maxConcurrent: 2, maxWaitMs: 100, shared: {} }), profiles, workload });
    const local = await simulatePolicy({ policy: evalPolicy({ maxConcurrent: 2, maxWaitMs: 100 }), profiles, workload });
    expect(shared.eval!.successRate).toBeLessThan(0.5);
    expect(shared.eval!.errors.rate_limited ?? shared.eval!.errors.exhausted).toBeGreaterThan(0);
    expect(shared).toEqual(local);
  });

  it('open-loop arrivals: calls overlap when they arrive faster than they finish', async () => {
    const report = await simulatePolicy({
      policy: { capabilities: { eval: { chain: ['flash'], rateLimit: { maxConcurrent: 2, maxWaitMs: 100 }, retry: { maxAttempts: 1 } } } },
      profiles: { flash: { latency: { kind: 'fixed', ms: 1000 } } },
      workload: { calls: 200, arrivalsPerSecond: 10 },
    });
    // Ten a second for a 1 s call is ~10 in flight against a limit of 2: most are refused.
    expect(report.eval!.successRate).toBeLessThan(0.5);
    expect(report.eval!.errors.rate_limited ?? report.eval!.errors.exhausted).toBeGreaterThan(0);
  });

  it('bad input is invalid_config naming the field', async () => {
    const base = { policy: twoModels(), workload: { calls: 10 } };
    const lite = { latency: { kind: 'fixed' as const, ms: 1 } };
    expect(await configError({ ...base, profiles: { flash: lite, lite, pro: lite } })).toMatch(/profiles\.pro: unknown provider key/);
    expect(await configError({ ...base, profiles: { flash: lite } })).toMatch(/no profile for 'lite' \(capabilities\.eval\.chain\.1\)/);
    expect(await configError({ ...base, profiles: { flash: { latency: lite.latency, faults: [{ kind: 'hang', probability: -0.1 }] }, lite } })).toMatch(/profiles\.flash\.faults\.0\.probability: must be >= 0/);
    expect(await configError({ ...base, profiles: { flash: { latency: lite.latency, faults: [{ kind: 'hang', probability: 1.5 }] }, lite } })).toMatch(/profiles\.flash\.faults\.0\.probability: must be <= 1/);
    expect(await configError({ ...base, profiles: { flash: { latency: lite.latency, faults: [{ kind: 'hang', probability: 0.6 }, { kind: 'status', status: 503, probability: 0.6 }] }, lite } })).toMatch(/profiles\.flash\.faults: probabilities active at 0 ms add up to 1\.2/);
    expect(await configError({ ...base, profiles: { flash: { latency: { kind: 'normal', meanMs: 100, stdDevMs: -5 } }, lite } })).toMatch(/profiles\.flash\.latency\.stdDevMs: must be >= 0/);
    expect(await configError({ ...base, workload: { calls: 10, arrivalsPerSecond: -2 }, profiles: { flash: lite, lite } })).toMatch(/workload\.arrivalsPerSecond: must be > 0/);
    expect(await configError({ ...base, workload: { calls: 10, mix: { stt: 1 } }, profiles: { flash: lite, lite } })).toMatch(/workload\.mix\.stt: no stt provider/);
    expect(await configError({ ...base, profiles: { flash: { latency: lite.latency, faults: [{ kind: 'status', probability: 0.1 }] }, lite } })).toMatch(/profiles\.flash\.faults\.0\.status: a 'status' fault needs status/);
  });

  it('request sizes over the engine limits are invalid_config naming workload.request.<field>', async () => {
    const fixed = { latency: { kind: 'fixed' as const, ms: 10 } };
    const policy = { capabilities: { stt: { chain: ['whisper'] }, tts: { chain: ['wavenet'], maxTextBytes: 1000 } } };
    const profiles = { whisper: fixed, wavenet: fixed };
    expect(await configError({ policy, profiles, workload: { calls: 10, request: { sttAudioMs: 60_001 } } })).toMatch(/workload\.request\.sttAudioMs: 60001 ms is over the client's 60000 ms STT limit/);
    // 400 characters of the Korean text are about 1070 UTF-8 bytes.
    expect(await configError({ policy, profiles, workload: { calls: 10, request: { ttsChars: 400 } } })).toMatch(/workload\.request\.ttsChars: 400 characters are \d+ UTF-8 bytes, over capabilities\.tts\.maxTextBytes \(1000\)/);
    // At the limits the calls run and succeed.
    const ok = await simulatePolicy({ policy, profiles, workload: { calls: 20, request: { sttAudioMs: 60_000, ttsChars: 300 } } });
    expect(ok.successRate).toBe(1);
  });
});
