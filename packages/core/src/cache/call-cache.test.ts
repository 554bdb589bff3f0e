import { describe, expect, it } from 'vitest';
import { createAiClient } from '../client.js';
import { AiError, isAiError } from '../errors/ai-error.js';
import { definePolicy } from '../policy/ai-policy.js';
import { microToUsd, Pricer } from '../pricing/cost.js';
import { defaultPriceTable } from '../pricing/price-table.js';
import { ArraySink, fakeEval, fakeTts, goodEval } from '../testing/fakes.js';
import type { CacheStore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';

const evalReq = { prompt: '물을 달라고 하세요', learnerAnswer: '물 좀 주세요', targetFormality: 'haeyo' as const };
const cachedEval = { cache: { eval: { ttlMs: 600_000 } } };

describe('the cache step of the call path', () => {
  it('is off unless the policy sets it: no meta.cache, every call reaches the provider', async () => {
    const grader = fakeEval([{ ok: true }]);
    const client = createAiClient({ providers: { grader } });
    const a = await client.eval.evaluate(evalReq);
    await client.eval.evaluate(evalReq);
    expect(a.meta.cache).toBeUndefined();
    expect(grader.calls).toHaveLength(2);
    await client.close();
  });

  it('never caches a schema-violating answer: the next identical call asks again', async () => {
    const bad = fakeEval([{ output: { ...goodEval, score: 150 } }, { ok: true }]);
    const client = createAiClient({ providers: { bad }, policy: { ...cachedEval, capabilities: { eval: { retry: { maxAttempts: 1 } } } } });
    await expect(client.eval.evaluate(evalReq)).rejects.toMatchObject({ code: 'exhausted' });
    const second = await client.eval.evaluate(evalReq);
    expect(second.meta.cache).toBe('miss');
    const third = await client.eval.evaluate(evalReq);
    expect(third.meta.cache).toBe('hit');
    expect(bad.calls).toHaveLength(2);
    await client.close();
  });

  it('when the leader of identical misses fails, its followers are not failed with it: one of them leads again', async () => {
    const flaky = fakeEval([{ error: new AiError('invalid_request', 'refused', { retryable: false }), afterMs: 30 }, { ok: true, afterMs: 30 }]);
    const client = createAiClient({ providers: { flaky }, policy: cachedEval });
    const out = await Promise.allSettled(Array.from({ length: 10 }, () => client.eval.evaluate(evalReq)));
    expect(out.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect(flaky.calls).toHaveLength(2);
    await client.close();
  });

  it('a follower waits for its leader only within its own deadline, and its own caller can abort it', async () => {
    const slow = fakeEval([{ ok: true, afterMs: 300 }]);
    const client = createAiClient({ providers: { slow }, policy: cachedEval });
    const leader = client.eval.evaluate(evalReq);
    const late = client.eval.evaluate(evalReq, { deadlineMs: 20 }).catch((e: unknown) => e);
    const ac = new AbortController();
    const aborted = client.eval.evaluate(evalReq, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await aborted).toMatchObject({ code: 'cancelled' });
    const e = await late;
    expect(isAiError(e) && e.code).toBe('timeout');
    expect((await leader).meta.cache).toBe('miss');
    expect(slow.calls).toHaveLength(1);
    await client.close();
  });

  it('a stored grade that no longer passes the check (a stricter pass mark) is never served', async () => {
    const store = new MemoryCacheStore();
    const grader = fakeEval([{ ok: true }]);
    const a = createAiClient({ providers: { grader }, cacheStore: store, policy: cachedEval });
    await a.eval.evaluate(evalReq);
    // Same store, pass mark 90: the key differs (pass mark and prompt version), so nothing stale is found.
    const strict = fakeEval([{ output: { ...goodEval, score: 95 } }]);
    const b = createAiClient({ providers: { grader: strict }, cacheStore: store, policy: { ...cachedEval, capabilities: { eval: { passMark: 90 } } } });
    const r = await b.eval.evaluate(evalReq);
    expect(r.meta.cache).toBe('miss');
    expect(r.score).toBe(95);
    expect(strict.calls).toHaveLength(1);
    await a.close();
    await b.close();
  });

  it('a store that fails is skipped and reported; the call succeeds without it and the store is paused', async () => {
    let gets = 0;
    const broken: CacheStore = {
      get: async () => {
        gets++;
        throw new Error('connection refused');
      },
      set: async () => {
        throw new Error('connection refused');
      },
      delete: async () => {},
    };
    const errors: { operation: string; timedOut: boolean; pausedMs: number }[] = [];
    const voice = fakeTts([{ ok: true }]);
    const sink = new ArraySink();
    const client = createAiClient({ providers: { voice }, sinks: [sink], cacheStore: broken, events: { onCacheError: (e) => errors.push(e) }, policy: { cache: { tts: { ttlMs: 60_000 } } } });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await client.tts.synthesize({ text: `안녕하세요 ${i}` }));
    expect(results.map((r) => r.meta.cache)).toEqual(['miss', 'miss', 'miss', 'miss', 'miss']);
    // Three failures in a row (two gets and a set) pause the store: the calls after it do not ask it.
    expect(gets).toBe(2);
    expect(errors).toHaveLength(3);
    expect(errors.map((e) => e.operation).sort()).toEqual(['get', 'get', 'set']);
    expect(errors.map((e) => e.pausedMs)).toEqual([0, 0, 5_000]);
    expect(errors.every((e) => !e.timedOut)).toBe(true);
    expect(sink.records.every((r) => r.cacheHit === undefined)).toBe(true);
    await client.close();
  });

  it('keeps a fallback voice apart: an answer from the second step is stored under that step, not the primary', async () => {
    const primary = fakeTts([{ error: new AiError('unavailable', 'down', { retryable: false }) }, { ok: true }], { name: 'primary' });
    const backup = fakeTts([{ ok: true }], { name: 'backup' });
    const client = createAiClient({ providers: { primary, backup }, policy: { cache: { tts: { ttlMs: 60_000 } } } });
    const first = await client.tts.synthesize({ text: '안녕하세요' });
    expect(first.meta.providerKey).toBe('backup');
    const second = await client.tts.synthesize({ text: '안녕하세요' });
    expect(second.meta).toMatchObject({ cache: 'miss', providerKey: 'primary' });
    expect((await client.tts.synthesize({ text: '안녕하세요' })).meta.cache).toBe('hit');
    await client.close();
  });

  it("a leader that fell back hands no hit to its followers: each makes its own call, without waiting on one another's flight", async () => {
    const primary = fakeTts([{ error: new AiError('unavailable', 'down', { retryable: false }), afterMs: 20 }], { name: 'primary' });
    const backup = fakeTts([{ ok: true, afterMs: 20 }], { name: 'backup' });
    const client = createAiClient({ providers: { primary, backup }, policy: { cache: { tts: { ttlMs: 60_000 } } } });
    const out = await Promise.all([1, 2, 3].map(() => client.tts.synthesize({ text: '안녕하세요' })));
    expect(out.map((r) => [r.meta.cache, r.meta.providerKey])).toEqual([
      ['miss', 'backup'],
      ['miss', 'backup'],
      ['miss', 'backup'],
    ]);
    expect(primary.calls).toHaveLength(3);
    expect(backup.calls).toHaveLength(3);
    await client.close();
  });
});

describe('cacheKeySalt', () => {
  it('a client with another salt misses on the same store and never sees the salt in a key; an empty salt is refused', async () => {
    const store = new MemoryCacheStore();
    const keys: string[] = [];
    const spy: CacheStore = { get: (k) => (keys.push(k), store.get(k)), set: (k, v, ttl) => store.set(k, v, ttl), delete: (k) => store.delete(k) };
    const make = (cacheKeySalt: string) => createAiClient({ providers: { grader: fakeEval([{ ok: true }]) }, cacheStore: spy, cacheKeySalt, policy: cachedEval });
    const a = make('salt-one');
    await a.eval.evaluate(evalReq);
    expect((await a.eval.evaluate(evalReq)).meta.cache).toBe('hit');
    const b = make('salt-two');
    expect((await b.eval.evaluate(evalReq)).meta.cache).toBe('miss');
    expect(keys.some((k) => k.includes('salt'))).toBe(false);
    await a.close();
    await b.close();
    expect(() => make('')).toThrow(/cacheKeySalt/);
  });
});

describe('policy cache section', () => {
  it('is off by default and validates each field, naming it', () => {
    expect(definePolicy({}).cache).toEqual({ storeTimeoutMs: 100 });
    expect(definePolicy({ cache: { tts: { ttlMs: 1000 } } }).cache.tts).toEqual({ ttlMs: 1000, maxBytes: 67_108_864 });
    expect(() => definePolicy({ cache: { tts: {} } })).toThrow(/cache\.tts\.ttlMs/);
    expect(() => definePolicy({ cache: { eval: { ttlMs: 1000, maxBytes: -1 } } })).toThrow(/cache\.eval\.maxBytes: must be > 0/);
    expect(() => definePolicy({ cache: { stt: { ttlMs: 1000 } } })).toThrow(/cache: unknown key\(s\) 'stt'/);
    expect(() => definePolicy({ cache: { storeTimeoutMs: 0 } })).toThrow(/cache\.storeTimeoutMs/);
  });
});

describe('tts.prefetch', () => {
  it('synthesises each line once, reports hits, synthesised and failed lines with progress, under the same policy', async () => {
    const voice = fakeTts([{ ok: true }]);
    const client = createAiClient({ providers: { voice }, policy: { cache: { tts: { ttlMs: 60_000 } } } });
    const progress: string[] = [];
    const lines = ['안녕하세요', '잘했어요! 100점이에요.', '잘했어요! 100점이에요.', ''];
    const report = await client.tts.prefetch(lines, { voice: 'ko-KR-Wavenet-A' }, { concurrency: 1, onProgress: (e) => progress.push(`${e.index}:${e.outcome}:${e.done}/${e.total}`) });
    expect(report).toMatchObject({ total: 4, hits: 1, synthesized: 2, failed: 1, failures: [{ index: 3, errorCode: 'invalid_request' }] });
    expect(report.costUsd).toBeGreaterThan(0);
    expect(progress).toEqual(['0:synthesized:1/4', '1:synthesized:2/4', '2:hit:3/4', '3:failed:4/4']);
    expect((await client.tts.synthesize({ text: '안녕하세요', voice: 'ko-KR-Wavenet-A' })).meta.cache).toBe('hit');
    await client.close();
  });

  it('refuses when the policy has no TTS cache', async () => {
    const client = createAiClient({ providers: { voice: fakeTts([{ ok: true }]) } });
    await expect(client.tts.prefetch(['a'], {})).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/cache\.tts/) });
    await client.close();
  });
});

describe('the cache comes before the budget', () => {
  it('a hit is served when the session budget has no room left: it costs nothing and reserves nothing', async () => {
    const voice = fakeTts([{ ok: true }]);
    const sink = new ArraySink();
    const line = { text: '처음 만난 선생님께 격식 있게 인사하세요. 만나서 반갑습니다 선생님' };
    // The session cap holds one synthesis of the line, not two.
    const oneLineMicro = new Pricer(defaultPriceTable).costMicro('tts', voice.modelId, { characters: [...line.text].length, requests: 1 });
    const client = createAiClient({ providers: { voice }, sinks: [sink], policy: { budget: { perSessionUsd: microToUsd(Math.round(oneLineMicro * 1.5)) }, cache: { tts: { ttlMs: 60_000 } } } });
    const opts = { sessionId: '5f0c3a7e-5d0e-4c52-9a8f-0d9b8f1e2a10' };
    expect((await client.tts.synthesize(line, opts)).meta.cache).toBe('miss');
    expect((await client.tts.synthesize(line, opts)).meta.cache).toBe('hit');
    await expect(client.tts.synthesize({ text: `${line.text}!` }, opts)).rejects.toMatchObject({ code: 'budget_exceeded' });
    expect(voice.calls).toHaveLength(1);
    await client.close();
  });
});

describe('cached audio', () => {
  it('each caller owns its bytes: changing the audio of one hit changes no other result and not the cache', async () => {
    const client = createAiClient({ providers: { voice: fakeTts([{ ok: true, afterMs: 20 }]) }, policy: { cache: { tts: { ttlMs: 60_000 } } } });
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => client.tts.synthesize({ text: '안녕하세요' })));
    b!.audio.fill(0);
    expect([...a!.audio]).toEqual([1, 2, 3]);
    expect([...c!.audio]).toEqual([1, 2, 3]);
    const later = await client.tts.synthesize({ text: '안녕하세요' });
    later.audio.fill(9);
    expect([...(await client.tts.synthesize({ text: '안녕하세요' })).audio]).toEqual([1, 2, 3]);
    await client.close();
  });

  it("the leader's caller owns its bytes too: editing them changes no hit served while the write is on its way", async () => {
    const inner = new MemoryCacheStore();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A store whose writes wait: the entry is served from the pending write meanwhile.
    const slowWrites: CacheStore = {
      get: (k) => inner.get(k),
      set: async (k, v, ttl) => {
        await held;
        return inner.set(k, v, ttl);
      },
      delete: (k) => inner.delete(k),
    };
    const voice = fakeTts([{ ok: true }]);
    const client = createAiClient({ providers: { voice }, cacheStore: slowWrites, policy: { cache: { tts: { ttlMs: 60_000 }, storeTimeoutMs: 60_000 } } });
    const leader = await client.tts.synthesize({ text: '안녕하세요' });
    leader.audio.fill(0);
    const pending = await client.tts.synthesize({ text: '안녕하세요' });
    expect(pending.meta.cache).toBe('hit');
    expect([...pending.audio]).toEqual([1, 2, 3]);
    release();
    expect([...(await client.tts.synthesize({ text: '안녕하세요' })).audio]).toEqual([1, 2, 3]);
    expect(voice.calls).toHaveLength(1);
    await client.close();
  });
});
