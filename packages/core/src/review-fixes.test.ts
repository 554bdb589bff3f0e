// Regression tests for defects found in review: each fails on the code before its fix.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAiClient } from './client.js';
import { AiError, isAiError } from './errors/ai-error.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { definePolicy } from './policy/ai-policy.js';
import { CircuitBreaker } from './policy/circuit-breaker.js';
import { Pricer } from './pricing/cost.js';
import { defaultPriceTable } from './pricing/price-table.js';
import { ArraySink, fakeEval, fakeStt, fakeTts, unavailable } from './testing/fakes.js';

afterEach(() => vi.useRealTimers());

async function failure(p: Promise<unknown>): Promise<AiError> {
  try {
    await p;
  } catch (e) {
    if (isAiError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

/** A constant-bitrate MPEG-1 Layer III stream (32 kbit/s, 32 kHz, mono): 36 ms per 144-byte frame. */
function mp3OfMs(ms: number): Uint8Array {
  const frames = Math.ceil(ms / 36);
  const out = new Uint8Array(frames * 144);
  for (let i = 0; i < frames; i++) out.set([0xff, 0xfb, 0x18, 0xc4], i * 144);
  return out;
}

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('requests are checked before anything is spent', () => {
  it('refuses compressed audio longer than 60 s, measured from its frames, and raw LINEAR16 without a rate', async () => {
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ providers: { a } });
    const long = await failure(client.stt.transcribe({ audio: mp3OfMs(61_000), encoding: 'MP3' }));
    expect(long).toMatchObject({ code: 'invalid_request' });
    expect(long.message).toMatch(/audio: 61\d{3} ms is longer than the 60000 ms synchronous limit/);
    expect((await client.stt.transcribe({ audio: mp3OfMs(5_000), encoding: 'MP3' })).transcript).toBe('안녕하세요');
    const raw = await failure(client.stt.transcribe({ audio: new Uint8Array(3200), encoding: 'LINEAR16' }));
    expect(raw.message).toContain('sampleRateHertz: required for LINEAR16 audio without a WAV header');
    expect(a.calls).toHaveLength(1);
  });

  it('reserves a compressed file by its measured length, and containers that do not say by their size at 6 kbit/s', async () => {
    const store = new MemoryBudgetStore();
    const amounts: number[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => (amounts.push(r.amountMicro), reserve(r));
    const a = fakeStt([{ ok: true }], { modelId: 'whisper-1' });
    const client = createAiClient({ policy: { budget: { perDayUsd: 100 } }, providers: { a }, budgetStore: store });
    await client.stt.transcribe({ audio: mp3OfMs(20_000), encoding: 'MP3' });
    const webm = new Uint8Array(readFileSync(new URL('../test/fixtures/audio/tone.webm', import.meta.url)));
    await client.stt.transcribe({ audio: webm, encoding: 'WEBM_OPUS' });
    // whisper-1: 100 micro-dollars per second; 20.016 s bills 21 s; WebM states no length: its bytes at 750 B/s
    expect(amounts).toEqual([2_100, Math.ceil(webm.length / 750) * 100]);
  });

  it('refuses a per-request voice the price table does not know', async () => {
    const t = Object.assign(fakeTts([{ ok: true }]), { modelIdFor: (req: { voice?: string }) => req.voice ?? 'ko-KR-Wavenet-A' });
    const client = createAiClient({ providers: { t } });
    const e = await failure(client.tts.synthesize({ text: '안녕하세요', voice: 'en-GB-News-G' }));
    expect(e).toMatchObject({ code: 'invalid_request' });
    expect(e.message).toContain("voice: no price for 'en-GB-News-G'");
    expect(t.calls).toHaveLength(0);
  });

  it('validates call options, naming the option', async () => {
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a } });
    for (const [opts, text] of [
      [{ deadlineMs: Number.NaN }, 'options.deadlineMs'],
      [{ deadlineMs: 3e9 }, 'options.deadlineMs: must be <= 2147483647'],
      [{ signal: {} as AbortSignal }, 'options.signal: must be an AbortSignal'],
      [{ sessionId: '' }, 'options.sessionId: must not be empty'],
    ] as const) {
      const e = await failure(client.stt.transcribe(sttReq, opts));
      expect(e.code).toBe('invalid_request');
      expect(e.message).toContain(text);
    }
    expect(a.calls).toHaveLength(0);
  });

  it('refuses whitespace-only answers and non-audio attachments', async () => {
    const e = fakeEval([{ ok: true }]);
    const client = createAiClient({ providers: { e } });
    const blank = await failure(client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '   ' }));
    expect(blank.message).toContain('learnerAnswer: must not be empty');
    const notAudio = await failure(client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요', audio: { data: new Uint8Array(10), mimeType: 'text/plain' } }));
    expect(notAudio.message).toContain('audio.mimeType: must be an audio MIME type');
    expect(e.calls).toHaveLength(0);
  });
});

describe('the breaker hears only about the provider', () => {
  it('a refusal by our own rate limiter does not open the provider breaker', async () => {
    const a = fakeTts([{ ok: true, afterMs: 200 }]);
    const policy = definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 1, maxWaitMs: 20 }, retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } } } });
    const client = createAiClient({ policy, providers: { a } });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => client.tts.synthesize({ text: '네' })));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(client.breakerStates()['tts:a']).toBe('closed');
    expect((await client.tts.synthesize({ text: '네' })).meta.providerKey).toBe('a');
  });

  it('a late success from a call admitted before the breaker opened does not close it', () => {
    let t = 0;
    const b = new CircuitBreaker('k', { failureThreshold: 1, cooldownMs: 1_000 }, { now: () => t, setTimeout: () => 0, clearTimeout: () => {} });
    const early = b.acquire();
    b.onFailure(b.acquire());
    expect(b.state).toBe('open');
    b.onSuccess(early);
    expect(b.state).toBe('open');
    t = 1_000;
    const probe = b.acquire();
    expect(probe).toBe('probe');
    b.onSuccess(probe);
    expect(b.state).toBe('closed');
  });
});

describe('budget settlement and slow stores', () => {
  it('retries a failed settle, so the spend still counts', async () => {
    const store = new MemoryBudgetStore();
    let failures = 2;
    const settle = store.settle.bind(store);
    store.settle = async (id, micro) => {
      if (failures-- > 0) throw new Error('store blip');
      return settle(id, micro);
    };
    const onBackgroundError = vi.fn();
    const a = fakeTts([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a }, budgetStore: store, events: { onBackgroundError } });
    const r = await client.tts.synthesize({ text: '가'.repeat(1000) });
    await client.close(); // waits for the background settle and its retries
    const day = `day:${new Date().toISOString().slice(0, 10)}`;
    expect(await store.usage(day)).toEqual({ spentMicro: Math.round(r.meta.costUsd * 1e6), reservedMicro: 0 });
    expect(onBackgroundError).not.toHaveBeenCalled();
  });

  it('a slow budget store cannot stretch the deadline; a reservation that lands late is released', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryBudgetStore();
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => {
      await new Promise((done) => setTimeout(done, 5_000));
      return reserve(r);
    };
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a }, budgetStore: store });
    const t0 = Date.now();
    let endedAt = 0;
    const p = failure(client.stt.transcribe(sttReq, { deadlineMs: 1_000 }).finally(() => (endedAt = Date.now())));
    await vi.advanceTimersByTimeAsync(6_000);
    const e = await p;
    expect(e.code).toBe('timeout');
    expect(endedAt - t0).toBe(1_000);
    expect(a.calls).toHaveLength(0);
    const day = `day:${new Date(t0).toISOString().slice(0, 10)}`;
    expect((await store.usage(day)).reservedMicro).toBe(0);
  });

  it('hedged lanes that both retry never share a top-up reservation', async () => {
    const store = new MemoryBudgetStore();
    const ids: string[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => {
      ids.push(r.id);
      await new Promise((done) => setTimeout(done, 5));
      return reserve(r);
    };
    const a = fakeStt([{ error: unavailable(), afterMs: 30 }], { name: 'a' });
    const b = fakeStt([{ error: unavailable(), afterMs: 30 }], { name: 'b' });
    const policy = definePolicy({
      budget: { perDayUsd: 1 },
      capabilities: { stt: { chain: ['a', 'b'], hedgeAfterMs: 10, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 } } },
    });
    const client = createAiClient({ policy, providers: { a, b }, budgetStore: store });
    const e = await failure(client.stt.transcribe(sttReq));
    expect(e.code).toBe('exhausted');
    expect(new Set(ids).size).toBe(ids.length);
    // 6 attempts: the first two are covered by the hedged reservation, each other one tops up
    expect(e.attempts).toHaveLength(6);
    expect(ids).toHaveLength(1 + 4);
  });
});

describe('pricing', () => {
  it('prices Gemini audio input tokens apart where the model has an audio price', () => {
    const pricer = new Pricer(defaultPriceTable);
    // flash: 1,000 audio tokens at $1.00/1M + 500 text tokens at $0.30/1M
    expect(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: 1_500, audioTokensIn: 1_000 })).toBe(1_000 + 150);
    // pro has one input price: audio tokens are input tokens
    expect(pricer.costMicro('eval', 'gemini-2.5-pro', { tokensIn: 1_500, audioTokensIn: 1_000 })).toBe(Math.round(1_500 * 1.25));
  });
});

describe('foreign errors', () => {
  it('keep only their kind as the cause', async () => {
    const a = fakeStt([{ ok: true }]);
    a.transcribe = async () => {
      throw Object.assign(new TypeError('request to https://x/?key=SECRET failed with body {"answer":"저는"}'), { code: 'ECONNRESET' });
    };
    const client = createAiClient({ policy: { capabilities: { stt: { retry: { maxAttempts: 1 } } } }, providers: { a }, sinks: [new ArraySink()] });
    const e = await failure(client.stt.transcribe(sttReq));
    const inner = e.cause as AiError;
    expect(inner.cause).toEqual({ kind: 'TypeError ECONNRESET' });
    expect(JSON.stringify({ m: e.message, c: inner.message, cc: inner.cause })).not.toMatch(/SECRET|저는/);
  });
});
