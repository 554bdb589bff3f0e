import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAiClient } from './client.js';
import { AiError, isAiError } from './errors/ai-error.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { worstCaseUnits } from './capabilities/index.js';
import { definePolicy } from './policy/ai-policy.js';
import { Pricer } from './pricing/cost.js';
import { defaultPriceTable } from './pricing/price-table.js';
import { ArraySink, badRequest, fakeEval, fakeStt, fakeTts, goodEval, rateLimited, unavailable } from './testing/fakes.js';

const evalReq = { prompt: '자기소개를 하세요', learnerAnswer: '저는 학생입니다', targetFormality: 'hapsyo' as const };
const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: AiError }> {
  try {
    return { value: await p };
  } catch (e) {
    if (!isAiError(e)) throw e;
    return { error: e };
  }
}

/** Runs a call to completion under fake timers. */
async function run<T>(p: Promise<T>, ms = 60_000): Promise<{ value?: T; error?: AiError }> {
  const s = settle(p);
  await vi.advanceTimersByTimeAsync(ms);
  return s;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-11-26T12:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('a successful call', () => {
  it('returns the result with meta and writes one usage row with its exact cost', async () => {
    const sink = new ArraySink();
    const flash = fakeEval([{ ok: true, afterMs: 120 }], { tokensIn: 1000, tokensOut: 200 });
    const client = createAiClient({ providers: { flash }, sinks: [sink] });
    const { value } = await run(client.eval.evaluate(evalReq, { sessionId: '11111111-1111-4111-8111-111111111111' }));
    expect(value).toMatchObject({ score: 85, passFail: true, primaryErrorType: null });
    expect(value!.meta).toMatchObject({ provider: 'fake-eval', providerKey: 'flash', modelId: 'gemini-2.5-flash', latencyMs: 120 });
    // 1000 x $0.30/1M + 200 x $2.50/1M = $0.0003 + $0.0005
    expect(value!.meta.costUsd).toBe(0.0008);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({
      callId: value!.meta.callId,
      attempt: 1,
      providerType: 'eval',
      providerName: 'fake-eval',
      tokensIn: 1000,
      tokensOut: 200,
      success: true,
      estimatedCostUsd: 0.0008,
      priceVersion: defaultPriceTable.version,
      sessionId: '11111111-1111-4111-8111-111111111111',
    });
    expect(sink.records[0]!.errorMessage).toBeUndefined();
  });
});

describe('timeouts inside one deadline', () => {
  it('sizes each attempt to the time left, so the whole chain ends by the deadline', async () => {
    const sink = new ArraySink();
    const a = fakeStt([{ hang: true }], { name: 'a' });
    const b = fakeStt([{ hang: true }], { name: 'b' });
    const policy = definePolicy({
      capabilities: { stt: { chain: ['a', 'b'], deadlineMs: 2_500, attemptTimeoutMs: 1_000, retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 100 } } },
    });
    const client = createAiClient({ policy, providers: { a, b }, sinks: [sink], random: () => 0 });
    const t0 = Date.now();
    const { error } = await run(client.stt.transcribe(sttReq));
    expect(error?.code).toBe('timeout');
    expect(error?.attempts?.length).toBe(3);
    // attempts: a#1 1000 ms, backoff 50, a#2 1000 ms, b#1 gets only the 450 ms left
    expect(a.calls.map((c) => c.attemptDeadlineAt - t0)).toEqual([1_000, 2_050]);
    expect(b.calls.map((c) => c.attemptDeadlineAt - t0)).toEqual([2_500]);
    expect(b.calls[0]!.deadlineAt - t0).toBe(2_500);
    expect(sink.records.map((r) => r.latencyMs)).toEqual([1_000, 1_000, 450]);
    expect(a.aborted + b.aborted).toBe(3);
  });
});

describe('retries', () => {
  it('retries retryable errors on the same provider with backoff, then succeeds', async () => {
    const onRetry = vi.fn();
    const a = fakeStt([{ error: unavailable() }, { ok: true }]);
    const policy = definePolicy({ capabilities: { stt: { retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 1_000 } } } });
    const client = createAiClient({ policy, providers: { a }, random: () => 1, events: { onRetry } });
    const { value } = await run(client.stt.transcribe(sttReq));
    expect(value?.transcript).toBe('안녕하세요');
    expect(value?.meta.attempts.map((x) => x.outcome)).toEqual(['error', 'success']);
    expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ delayMs: 200, errorCode: 'unavailable' }));
  });

  it('does not retry a non-retryable error, and falls back to the next provider', async () => {
    const a = fakeStt([{ error: badRequest() }]);
    const b = fakeStt([{ ok: true }], { name: 'b' });
    const client = createAiClient({ providers: { a, b } });
    const { value } = await run(client.stt.transcribe(sttReq));
    expect(a.calls).toHaveLength(1);
    expect(value?.meta.provider).toBe('b');
    expect(value?.meta.attempts.map((x) => `${x.providerKey}:${x.errorCode ?? 'ok'}`)).toEqual(['a:invalid_request', 'b:ok']);
  });

  it('honours Retry-After within maxRetryAfterMs', async () => {
    const a = fakeStt([{ error: rateLimited(1_500) }, { ok: true }]);
    const client = createAiClient({ providers: { a }, events: {} });
    const t0 = Date.now();
    const { value } = await run(client.stt.transcribe(sttReq));
    expect(value?.meta.attempts).toHaveLength(2);
    expect(value!.meta.attempts[1]!.startedAt - t0).toBe(1_500);
  });

  it('does not sleep for a Retry-After longer than maxRetryAfterMs: moves to the next provider at once', async () => {
    const a = fakeStt([{ error: rateLimited(60_000) }]);
    const b = fakeStt([{ ok: true }], { name: 'b' });
    const client = createAiClient({ providers: { a, b } });
    const t0 = Date.now();
    const { value } = await run(client.stt.transcribe(sttReq));
    expect(a.calls).toHaveLength(1);
    expect(value?.meta.provider).toBe('b');
    expect(value!.meta.attempts[1]!.startedAt - t0).toBe(0);
  });

  it('never sleeps past the deadline: a Retry-After longer than the time left ends the step', async () => {
    const a = fakeStt([{ error: rateLimited(4_000) }]);
    const policy = definePolicy({ capabilities: { stt: { deadlineMs: 3_000, attemptTimeoutMs: 1_000 } } });
    const client = createAiClient({ policy, providers: { a } });
    const t0 = Date.now();
    let endedAt = 0;
    const p = client.stt.transcribe(sttReq).finally(() => (endedAt = Date.now()));
    const { error } = await run(p, 10);
    expect(error?.code).toBe('exhausted');
    expect(error?.attempts).toHaveLength(1);
    expect(endedAt - t0).toBe(0);
  });

  it('stops at once when the caller aborts during backoff', async () => {
    const a = fakeStt([{ error: unavailable() }]);
    const policy = definePolicy({ capabilities: { stt: { retry: { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 1_000 } } } });
    const client = createAiClient({ policy, providers: { a }, random: () => 1 });
    const ac = new AbortController();
    const s = settle(client.stt.transcribe(sttReq, { signal: ac.signal }));
    await vi.advanceTimersByTimeAsync(300);
    ac.abort();
    await vi.advanceTimersByTimeAsync(0);
    const { error } = await s;
    expect(error?.code).toBe('cancelled');
    expect(a.calls).toHaveLength(1);
    expect(error?.attempts).toHaveLength(1);
  });
});

describe('fallback', () => {
  it('exhausted carries every attempt, in order, with codes', async () => {
    const sink = new ArraySink();
    const a = fakeEval([{ error: unavailable() }], { name: 'a' });
    const b = fakeEval([{ error: badRequest() }], { name: 'b' });
    const client = createAiClient({ providers: { a, b }, sinks: [sink], random: () => 0 });
    const { error } = await run(client.eval.evaluate(evalReq));
    expect(error?.code).toBe('exhausted');
    expect(error?.retryable).toBe(true);
    expect(error?.attempts?.map((x) => `${x.providerKey}#${x.attempt}:${x.errorCode}`)).toEqual(['a#1:unavailable', 'a#2:unavailable', 'b#3:invalid_request']);
    expect(sink.records.map((r) => [r.attempt, r.success, r.errorCode])).toEqual([
      [1, false, 'unavailable'],
      [2, false, 'unavailable'],
      [3, false, 'invalid_request'],
    ]);
    expect(error?.message).not.toContain('저는');
  });

  it('moves on after a schema-violating answer, and records its billed tokens', async () => {
    const sink = new ArraySink();
    const bad = fakeEval([{ output: { ...goodEval, score: 150 } }], { name: 'bad' });
    const good = fakeEval([{ ok: true }], { name: 'good', modelId: 'gemini-2.5-pro' });
    const policy = definePolicy({ capabilities: { eval: { chain: ['bad', 'good'], retry: { maxAttempts: 1 } } } });
    const client = createAiClient({ policy, providers: { bad, good }, sinks: [sink] });
    const { value } = await run(client.eval.evaluate(evalReq));
    expect(value?.meta.providerKey).toBe('good');
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'schema_violation', tokensIn: 1000, tokensOut: 200, estimatedCostUsd: 0.0008 });
    // pro: 1000 x 1.25/1M + 200 x 10/1M = 0.00125 + 0.002
    expect(sink.records[1]).toMatchObject({ success: true, estimatedCostUsd: 0.00325 });
    expect(value?.meta.costUsd).toBe(0.00405);
  });

  it('rejects passFail inconsistent with the pass mark', async () => {
    const a = fakeEval([{ output: { ...goodEval, score: 60, passFail: true } }]);
    const policy = definePolicy({ capabilities: { eval: { retry: { maxAttempts: 1 } } } });
    const client = createAiClient({ policy, providers: { a } });
    const { error } = await run(client.eval.evaluate(evalReq));
    expect(error?.code).toBe('exhausted');
    expect(error?.attempts?.[0]?.errorCode).toBe('schema_violation');
  });
});

describe('hedging', () => {
  it('starts the next step after hedgeAfterMs, takes the first success, aborts and records the loser', async () => {
    const sink = new ArraySink();
    const onHedge = vi.fn();
    const slow = fakeTts([{ ok: true, afterMs: 5_000 }], { name: 'slow' });
    const fast = fakeTts([{ ok: true, afterMs: 200 }], { name: 'fast', modelId: 'ko-KR-Standard-A' });
    const policy = definePolicy({ capabilities: { tts: { chain: ['slow', 'fast'], hedgeAfterMs: 300 } } });
    const client = createAiClient({ policy, providers: { slow, fast }, sinks: [sink], events: { onHedge } });
    const t0 = Date.now();
    const { value } = await run(client.tts.synthesize({ text: '안녕하세요' }));
    expect(value?.meta.providerKey).toBe('fast');
    expect(value?.meta.latencyMs).toBe(500);
    expect(onHedge).toHaveBeenCalledTimes(1);
    expect(slow.aborted).toBe(1);
    const outcomes = value!.meta.attempts.map((x) => `${x.providerKey}:${x.outcome}`).sort();
    expect(outcomes).toEqual(['fast:success', 'slow:hedge_lost']);
    expect(sink.records).toHaveLength(2);
    const lost = sink.records.find((r) => r.providerName === 'slow')!;
    expect(lost).toMatchObject({ success: false, errorCode: 'cancelled', estimatedCostUsd: 0, latencyMs: 500 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('does not hedge when the first step answers in time', async () => {
    const a = fakeTts([{ ok: true, afterMs: 100 }], { name: 'a' });
    const b = fakeTts([{ ok: true }], { name: 'b' });
    const policy = definePolicy({ capabilities: { tts: { chain: ['a', 'b'], hedgeAfterMs: 300 } } });
    const client = createAiClient({ policy, providers: { a, b } });
    const { value } = await run(client.tts.synthesize({ text: '네' }));
    expect(value?.meta.providerKey).toBe('a');
    expect(b.calls).toHaveLength(0);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures and skips the provider without calling it, recording the skip', async () => {
    const sink = new ArraySink();
    const onBreak = vi.fn();
    const a = fakeStt([{ error: unavailable() }], { name: 'a' });
    const b = fakeStt([{ ok: true }], { name: 'b' });
    const policy = definePolicy({ capabilities: { stt: { chain: ['a', 'b'], retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 3, cooldownMs: 10_000 } } } });
    const client = createAiClient({ policy, providers: { a, b }, sinks: [sink], events: { onBreak } });
    for (let i = 0; i < 3; i++) await run(client.stt.transcribe(sttReq), 10);
    expect(onBreak).toHaveBeenCalledTimes(1);
    expect(client.breakerStates()['stt:a']).toBe('open');
    sink.records.length = 0;
    const { value } = await run(client.stt.transcribe(sttReq), 10);
    expect(a.calls).toHaveLength(3);
    expect(value?.meta.attempts.map((x) => x.outcome)).toEqual(['skipped', 'success']);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'circuit_open', latencyMs: 0, estimatedCostUsd: 0 });
  });

  it('half-open under 50 concurrent calls lets exactly one probe through', async () => {
    let gate!: () => void;
    const a = fakeStt([{ error: unavailable() }], { name: 'a' });
    const probeResult = new Promise<void>((r) => (gate = r));
    const policy = definePolicy({ capabilities: { stt: { chain: ['a'], retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 5_000 } } } });
    const client = createAiClient({ policy, providers: { a } });
    const first = await run(client.stt.transcribe(sttReq), 10);
    expect(first.error?.code).toBe('exhausted');
    expect(client.breakerStates()['stt:a']).toBe('open');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(client.breakerStates()['stt:a']).toBe('half_open');
    // The probe hangs until released; the 49 others must be refused without a call.
    const original = a.transcribe;
    a.transcribe = async (req, ctx) => {
      await probeResult;
      a.calls.push(ctx);
      return { transcript: 'ok', audioDurationMs: 1000 };
    };
    const calls = Array.from({ length: 50 }, () => settle(client.stt.transcribe(sttReq)));
    await vi.advanceTimersByTimeAsync(0);
    gate();
    const results = await Promise.all(calls);
    a.transcribe = original;
    expect(results.filter((r) => r.value).length).toBe(1);
    expect(results.filter((r) => r.error?.code === 'circuit_open').length).toBe(49);
    expect(client.breakerStates()['stt:a']).toBe('closed');
  });
});

describe('budget', () => {
  it('refuses before any provider call when the worst case does not fit', async () => {
    const onBudgetRefused = vi.fn();
    const a = fakeEval([{ ok: true }]);
    const policy = definePolicy({ budget: { perSessionUsd: 0.001 } });
    const client = createAiClient({ policy, providers: { a }, events: { onBudgetRefused } });
    const { error } = await run(client.eval.evaluate(evalReq, { sessionId: 's1' }));
    // worst case: 1024 output tokens x $2.50/1M = $0.00256 > $0.001
    expect(error?.code).toBe('budget_exceeded');
    expect(error?.message).toContain('per-session');
    expect(a.calls).toHaveLength(0);
    expect(onBudgetRefused).toHaveBeenCalledTimes(1);
  });

  it('settles to the real cost so later calls see the actual spend', async () => {
    const a = fakeEval([{ ok: true }], { tokensIn: 1000, tokensOut: 200 });
    const worstMicro = new Pricer(defaultPriceTable).costMicro('eval', 'gemini-2.5-flash', worstCaseUnits('eval', evalReq, 1024, 70));
    // Room for exactly 5 real calls (800 micro-dollars each) plus one worst-case reservation.
    const policy = definePolicy({ budget: { perSessionUsd: (4 * 800 + worstMicro) / 1e6 } });
    const client = createAiClient({ policy, providers: { a } });
    const outcomes: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await run(client.eval.evaluate(evalReq, { sessionId: 's2' }), 10);
      outcomes.push(r.error ? r.error.code : 'ok');
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'budget_exceeded', 'budget_exceeded']);
  });

  it('under 100 concurrent calls never overshoots the daily cap by more than the largest reservation', async () => {
    const sink = new ArraySink();
    const a = fakeTts([{ ok: true, afterMs: 50 }]);
    const policy = definePolicy({ budget: { perDayUsd: 0.001 } });
    const client = createAiClient({ policy, providers: { a }, sinks: [sink] });
    const text = '안녕하세요 반갑습니다'; // 11 code points x $4/1M = $0.000044
    const results = await run(Promise.all(Array.from({ length: 100 }, () => settle(client.tts.synthesize({ text })))), 1_000);
    const ok = results.value!.filter((r) => r.value).length;
    const spent = sink.records.reduce((s, r) => s + (r.estimatedCostUsd ?? 0), 0);
    expect(ok).toBe(22); // floor(0.001 / 0.000044)
    expect(spent).toBeLessThanOrEqual(0.001 + 0.000044);
    expect(results.value!.filter((r) => r.error?.code === 'budget_exceeded').length).toBe(78);
  });

  it('tops up the reservation before a retry, and stops when the top-up does not fit', async () => {
    const a = fakeEval([{ output: { bad: true } }], { tokensIn: 1000, tokensOut: 1000 });
    // worst case per attempt = 1024 out x 2.5/1M + ~700 bytes in x 0.3/1M, about $0.0028; cap fits one attempt only
    const policy = definePolicy({ budget: { perSessionUsd: 0.004 }, capabilities: { eval: { retry: { maxAttempts: 3 } } } });
    const client = createAiClient({ policy, providers: { a }, random: () => 0 });
    const { error } = await run(client.eval.evaluate(evalReq, { sessionId: 's3' }));
    expect(error?.code).toBe('budget_exceeded');
    expect(a.calls).toHaveLength(1);
    expect(error?.attempts).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('keeps at most maxConcurrent attempts in flight per provider', async () => {
    vi.useRealTimers();
    let inFlight = 0;
    let peak = 0;
    const a = fakeTts([{ ok: true }]);
    a.synthesize = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { audio: new Uint8Array(1), encoding: 'MP3', characters: 1 };
    };
    const policy = definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 2 } } } });
    const client = createAiClient({ policy, providers: { a } });
    const results = await Promise.all(Array.from({ length: 10 }, () => client.tts.synthesize({ text: '네' })));
    expect(results).toHaveLength(10);
    expect(peak).toBe(2);
    await client.close();
  });

  it('fails over with rate_limited when no slot frees within maxWaitMs', async () => {
    vi.useRealTimers();
    const a = fakeTts([{ ok: true, afterMs: 300 }], { name: 'a' });
    const b = fakeTts([{ ok: true }], { name: 'b' });
    const policy = definePolicy({ capabilities: { tts: { chain: ['a', 'b'], rateLimit: { maxConcurrent: 1, maxWaitMs: 20 } } } });
    const client = createAiClient({ policy, providers: { a, b } });
    const [r1, r2] = await Promise.all([client.tts.synthesize({ text: '하나' }), client.tts.synthesize({ text: '둘' })]);
    expect(r1.meta.providerKey).toBe('a');
    expect(r2.meta.attempts.map((x) => `${x.providerKey}:${x.errorCode ?? 'ok'}`)).toEqual(['a:rate_limited', 'b:ok']);
    await client.close();
  });
});

describe('requests and configuration', () => {
  it('rejects bad requests with invalid_request naming the field, before any provider call', async () => {
    const a = fakeStt([{ ok: true }]);
    const t = fakeTts([{ ok: true }]);
    const client = createAiClient({ providers: { a, t } });
    const empty = await run(client.stt.transcribe({ audio: new Uint8Array(0), encoding: 'LINEAR16' }), 0);
    expect(empty.error).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(empty.error?.message).toContain('audio: must not be empty');
    const long = await run(client.stt.transcribe({ audio: new Uint8Array(16_000 * 2 * 61), encoding: 'LINEAR16', sampleRateHertz: 16_000 }), 0);
    expect(long.error?.message).toContain('synchronous limit');
    const enc = await run(client.stt.transcribe({ audio: new Uint8Array(10), encoding: 'WAV' as never }), 0);
    expect(enc.error?.message).toContain('encoding: must be one of');
    const tooLong = await run(client.tts.synthesize({ text: '가'.repeat(7_000) }), 0);
    expect(tooLong.error?.message).toMatch(/text: 21000 UTF-8 bytes exceeds/);
    expect(tooLong.error?.message).not.toContain('가가');
    expect(a.calls.length + t.calls.length).toBe(0);
  });

  it('validates chains, provider kinds and prices at creation, naming the bad field', () => {
    const a = fakeStt([{ ok: true }]);
    expect(() => createAiClient({ policy: { capabilities: { stt: { chain: ['nope'] } } }, providers: { a } })).toThrow(
      /capabilities\.stt\.chain\.0: no provider named 'nope'/,
    );
    expect(() => createAiClient({ policy: { capabilities: { tts: { chain: ['a'] } } }, providers: { a } })).toThrow(/is a stt provider, not tts/);
    expect(() => createAiClient({ providers: { a: fakeStt([{ ok: true }], { modelId: 'mystery-model' }) } })).toThrow(/providers\.a: no price for stt model 'mystery-model'/);
    const priced = createAiClient({
      providers: { a: fakeStt([{ ok: true }], { modelId: 'mystery-model' }) },
      pricing: { version: 'host-1', rows: [{ capability: 'stt', model: 'mystery-model', unit: 'audio_second', usd: '0.01', per: 60, source: 'contract', effective: '2026-11-01' }] },
    });
    expect(priced.policy.capabilities.stt.deadlineMs).toBe(15_000);
    // a frozen object that did not come from definePolicy is still validated
    expect(() => createAiClient({ policy: Object.freeze({ capabilities: { stt: { deadlineMs: -1 } } }), providers: { a } })).toThrow(
      /capabilities\.stt\.deadlineMs: must be > 0/,
    );
  });

  it('refuses a capability with no provider', async () => {
    const client = createAiClient({ providers: { a: fakeStt([{ ok: true }]) } });
    const { error } = await run(client.eval.evaluate(evalReq), 0);
    expect(error?.code).toBe('invalid_config');
  });
});

describe('close()', () => {
  it('waits for in-flight calls, closes sinks (their close drains them: no flush first), then refuses new calls', async () => {
    const sink = new ArraySink();
    const a = fakeStt([{ ok: true, afterMs: 1_000 }]);
    const client = createAiClient({ providers: { a }, sinks: [sink] });
    const call = settle(client.stt.transcribe(sttReq));
    let closed = false;
    const closing = client.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(500);
    expect(closed).toBe(false);
    expect(client.inFlight()).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    await closing;
    expect((await call).value?.transcript).toBe('안녕하세요');
    expect(sink.records).toHaveLength(1);
    expect(sink.flushed).toBe(0);
    expect(sink.closed).toBe(true);
    const after = await settle(client.stt.transcribe(sttReq));
    expect(after.error?.code).toBe('cancelled');
  });
});

describe('secrets and learner content', () => {
  it('never put a foreign error message (which may quote the request) into the AiError or usage row', async () => {
    vi.useRealTimers();
    const sink = new ArraySink();
    const a = fakeEval([{ ok: true }]);
    a.evaluate = async () => {
      throw new SyntaxError('Unexpected token in "저는 학생입니다" with key AIzaSyA1234567890abcdefghijk');
    };
    const policy = definePolicy({ capabilities: { eval: { retry: { maxAttempts: 1 } } } });
    const client = createAiClient({ policy, providers: { a }, sinks: [sink] });
    const { error } = await settle(client.eval.evaluate(evalReq));
    expect(error?.code).toBe('exhausted');
    const texts = [error!.message, (error!.cause as AiError).message, ...sink.records.map((r) => r.errorMessage ?? '')].join('\n');
    expect(texts).toContain('provider failed unexpectedly (SyntaxError)');
    expect(texts).not.toContain('학생');
    expect(texts).not.toContain('AIza');
  });
});

describe('provider hooks', () => {
  it('prices a failed attempt by the usage its error reports, and passes the pass mark and token cap to evaluators', async () => {
    vi.useRealTimers();
    const sink = new ArraySink();
    const seen: { passMark?: number; maxOutputTokens?: number }[] = [];
    const a = fakeEval([{ ok: true }], { name: 'a' });
    a.evaluate = async (_req, ctx) => {
      seen.push({ passMark: ctx.passMark, maxOutputTokens: ctx.maxOutputTokens });
      throw new AiError('schema_violation', 'a: not JSON', { usage: { tokensIn: 1000, tokensOut: 200 } });
    };
    const b = fakeEval([{ ok: true }], { name: 'b' });
    const policy = definePolicy({ capabilities: { eval: { chain: ['a', 'b'], retry: { maxAttempts: 1 }, passMark: 60, maxOutputTokens: 500 } } });
    const client = createAiClient({ policy, providers: { a, b }, sinks: [sink] });
    const r = await client.eval.evaluate(evalReq);
    expect(seen).toEqual([{ passMark: 60, maxOutputTokens: 500 }]);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'schema_violation', tokensIn: 1000, tokensOut: 200, estimatedCostUsd: 0.0008 });
    expect(r.meta.costUsd).toBe(0.0016);
  });

  it('prices TTS by the model the provider names for the request, and closes providers on close()', async () => {
    vi.useRealTimers();
    const sink = new ArraySink();
    let closed = 0;
    const t = Object.assign(fakeTts([{ ok: true }]), {
      modelIdFor: (req: { voice?: string }) => req.voice ?? 'ko-KR-Wavenet-A',
      close: async () => void closed++,
    });
    const plain = fakeTts([{ ok: true }], { name: 'plain', modelId: 'tts-1' });
    const client = createAiClient({ policy: { capabilities: { tts: { chain: ['t'] } } }, providers: { t, plain }, sinks: [sink] });
    await client.tts.synthesize({ text: '가'.repeat(1000), voice: 'ko-KR-Neural2-A' });
    expect(sink.records[0]).toMatchObject({ modelId: 'ko-KR-Neural2-A', estimatedCostUsd: 0.016 });
    const other = createAiClient({ policy: { capabilities: { tts: { chain: ['plain'] } } }, providers: { plain }, sinks: [sink] });
    await other.tts.synthesize({ text: '가'.repeat(1000), voice: 'ko-KR-Neural2-A' });
    expect(sink.records[1]).toMatchObject({ modelId: 'tts-1', estimatedCostUsd: 0.015 });
    await client.close();
    expect(closed).toBe(1);
  });
});

describe('budget reservations per attempt', () => {
  it('a breaker-skipped step reserves nothing; each provider attempt after the first reserves its own worst case', async () => {
    vi.useRealTimers();
    const store = new MemoryBudgetStore();
    const ids: string[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => (ids.push(r.id), reserve(r));
    const a = fakeStt([{ error: unavailable() }], { name: 'a' });
    const b = fakeStt([{ ok: true }, { error: unavailable() }, { ok: true }], { name: 'b' });
    const policy = definePolicy({
      budget: { perDayUsd: 10 },
      capabilities: { stt: { chain: ['a', 'b'], retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } } },
    });
    const client = createAiClient({ policy, providers: { a, b }, budgetStore: store });
    // a fails twice and opens its breaker; b answers
    expect((await client.stt.transcribe(sttReq)).meta.attempts.map((x) => `${x.providerKey}:${x.outcome}`)).toEqual(['a:error', 'a:error', 'b:success']);
    ids.length = 0;
    const r = await client.stt.transcribe(sttReq);
    expect(r.meta.attempts.map((x) => x.outcome)).toEqual(['skipped', 'error', 'success']);
    // the call's reservation covers b#2; only b#3 tops up
    expect(ids).toEqual([r.meta.callId, `${r.meta.callId}#top1`]);
  });
});
