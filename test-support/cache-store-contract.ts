import { describe, expect, it } from 'vitest';
import { createAiClient, type CacheStore, type UsageRecord } from '@korean-together/core';
import { ArraySink, fakeEval, fakeTts } from '@korean-together/core/testing';

/** A store under test, with how to make time pass for its expiry. */
export interface StoreUnderTest {
  store: CacheStore;
  /** Lets `ms` pass as the store measures expiry (a fake clock, or a real wait for a server's). */
  pass(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface CacheStoreContractOptions {
  /** A fresh, empty store holding at most `maxBytes` (values and keys; a store's overhead may count too). */
  make(opts: { maxBytes: number }): Promise<StoreUnderTest>;
  /** The shortest TTL the store honours, ms (servers round to milliseconds, some to more). */
  ttlMs: number;
}

/** The answer of a miss is stored in the background: give it time to land before looking for the hit. */
const landed = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** The behaviour every CacheStore shares, on the store alone and under a client: one suite for memory, Redis and Postgres. */
export function cacheStoreContract(name: string, o: CacheStoreContractOptions): void {
  describe(`${name}: the CacheStore contract`, () => {
    it('misses an absent key and returns the stored bytes on a hit', async () => {
      const t = await o.make({ maxBytes: 1_000_000 });
      try {
        expect(await t.store.get('tts:absent')).toBeUndefined();
        await t.store.set('tts:a', bytes(300, 7), 60_000);
        expect(Buffer.from((await t.store.get('tts:a'))!)).toEqual(Buffer.from(bytes(300, 7)));
        await t.store.set('tts:a', bytes(10, 9), 60_000);
        expect(Buffer.from((await t.store.get('tts:a'))!)).toEqual(Buffer.from(bytes(10, 9)));
        await t.store.delete('tts:a');
        expect(await t.store.get('tts:a')).toBeUndefined();
      } finally {
        await t.close();
      }
    });

    it('forgets an entry once its TTL has passed, and keeps one whose TTL has not', async () => {
      const t = await o.make({ maxBytes: 1_000_000 });
      try {
        await t.store.set('tts:short', bytes(5, 1), o.ttlMs);
        await t.store.set('tts:long', bytes(5, 2), 600_000);
        await t.pass(o.ttlMs * 3);
        expect(await t.store.get('tts:short')).toBeUndefined();
        expect(await t.store.get('tts:long')).toBeDefined();
      } finally {
        await t.close();
      }
    });

    it('evicts the least recently used entries once the bytes held pass maxBytes', async () => {
      const t = await o.make({ maxBytes: 3_600 });
      try {
        await t.store.set('tts:1', bytes(1_000, 1), 600_000);
        await t.store.set('tts:2', bytes(1_000, 2), 600_000);
        await t.store.set('tts:3', bytes(1_000, 3), 600_000);
        // Reading 1 makes 2 the least recently used: the fourth entry pushes 2 out.
        expect(await t.store.get('tts:1')).toBeDefined();
        await t.store.set('tts:4', bytes(1_000, 4), 600_000);
        expect(await t.store.get('tts:2')).toBeUndefined();
        for (const k of ['tts:1', 'tts:3', 'tts:4']) expect(await t.store.get(k), k).toBeDefined();
        // An entry larger than the whole budget is never kept.
        await t.store.set('tts:huge', bytes(10_000, 5), 600_000);
        expect(await t.store.get('tts:huge')).toBeUndefined();
      } finally {
        await t.close();
      }
    });

    it('under a client: a TTS hit costs nothing, calls no provider and writes one usage row with cacheHit and the saving', async () => {
      const t = await o.make({ maxBytes: 1_000_000 });
      const sink = new ArraySink();
      const voice = fakeTts([{ ok: true }]);
      const client = createAiClient({ providers: { voice }, sinks: [sink], cacheStore: t.store, policy: { cache: { tts: { ttlMs: 600_000 } } } });
      try {
        const miss = await client.tts.synthesize({ text: '잘했어요! 100점이에요.' });
        await landed();
        const hit = await client.tts.synthesize({ text: '잘했어요!  100점이에요. ' });
        expect(miss.meta.cache).toBe('miss');
        expect(hit.meta.cache).toBe('hit');
        expect(voice.calls).toHaveLength(1);
        expect(Buffer.from(hit.audio)).toEqual(Buffer.from(miss.audio));
        expect(hit.meta).toMatchObject({ costUsd: 0, attempts: [], providerKey: 'voice', modelId: 'ko-KR-Wavenet-A' });
        expect(miss.meta.costUsd).toBeGreaterThan(0);
        const rows = sink.records.filter((r: UsageRecord) => r.callId === hit.meta.callId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ cacheHit: true, estimatedCostUsd: 0, savedCostUsd: miss.meta.costUsd, success: true });
      } finally {
        await client.close();
        await t.close();
      }
    });

    it('under a client: 50 concurrent identical misses make exactly one provider call, and each one answers', async () => {
      const t = await o.make({ maxBytes: 1_000_000 });
      const sink = new ArraySink();
      const grader = fakeEval([{ ok: true, afterMs: 50 }]);
      const client = createAiClient({ providers: { grader }, sinks: [sink], cacheStore: t.store, policy: { cache: { eval: { ttlMs: 600_000 } } } });
      try {
        const req = { prompt: '물을 달라고 하세요', learnerAnswer: '물 좀 주세요', targetFormality: 'haeyo' as const };
        const results = await Promise.all(Array.from({ length: 50 }, () => client.eval.evaluate(req)));
        expect(grader.calls).toHaveLength(1);
        expect(results.filter((r) => r.meta.cache === 'miss')).toHaveLength(1);
        expect(results.filter((r) => r.meta.cache === 'hit')).toHaveLength(49);
        for (const r of results) expect(r.score).toBe(85);
        expect(sink.records.filter((r) => r.cacheHit === true)).toHaveLength(49);
      } finally {
        await client.close();
        await t.close();
      }
    });

    it('under a client: a request that differs in any one keyed field misses', async () => {
      const t = await o.make({ maxBytes: 1_000_000 });
      const voice = fakeTts([{ ok: true }]);
      const grader = fakeEval([{ ok: true }]);
      const client = createAiClient({ providers: { voice, grader }, cacheStore: t.store, policy: { cache: { tts: { ttlMs: 600_000 }, eval: { ttlMs: 600_000 } } } });
      try {
        const tts = { text: '안녕하세요', voice: 'ko-KR-Wavenet-A', audioEncoding: 'MP3' as const, speakingRate: 1 };
        const ttsVariants = [tts, { ...tts, text: '안녕히 가세요' }, { ...tts, voice: 'ko-KR-Wavenet-B' }, { ...tts, audioEncoding: 'LINEAR16' as const }, { ...tts, speakingRate: 0.8 }];
        for (const r of ttsVariants) expect((await client.tts.synthesize(r)).meta.cache).toBe('miss');
        await landed();
        expect((await client.tts.synthesize(tts)).meta.cache).toBe('hit');
        const ev = { prompt: '물을 달라고 하세요', learnerAnswer: '물 좀 주세요', expectedAnswer: '물 좀 주세요', targetFormality: 'haeyo' as const, level: 'A1' };
        const evVariants = [ev, { ...ev, prompt: '밥을 달라고 하세요' }, { ...ev, learnerAnswer: '물 주세요' }, { ...ev, expectedAnswer: '물 주세요' }, { ...ev, targetFormality: 'hapsyo' as const }, { ...ev, level: 'A2' }];
        for (const r of evVariants) expect((await client.eval.evaluate(r)).meta.cache).toBe('miss');
        await landed();
        expect((await client.eval.evaluate({ ...ev, learnerAnswer: ' 물  좀 주세요' })).meta.cache).toBe('hit');
        expect(voice.calls).toHaveLength(ttsVariants.length);
        expect(grader.calls).toHaveLength(evVariants.length);
      } finally {
        await client.close();
        await t.close();
      }
    });
  });
}
