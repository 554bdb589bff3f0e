import { describe, expect, it } from 'vitest';
import { redisTestsRun, testRedisUrl, useRedisKeys, type RedisKeys } from '../../test/support/redis.js';
import { cacheStoreContract } from '../../../../test-support/cache-store-contract.js';
import { TcpProxy } from '../../../../test-support/tcp-proxy.js';
import { createAiClient } from '../client.js';
import { fakeTts } from '../testing/fakes.js';
import { createRedisCacheStore } from './redis-cache-store.js';

const onRedis = redisTestsRun('RedisCacheStore tests on the Redis server');
let redis: RedisKeys;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(onRedis)('RedisCacheStore', () => {
  redis = useRedisKeys((p) => `${p}:*`);

  cacheStoreContract('RedisCacheStore', {
    ttlMs: 100,
    async make({ maxBytes }) {
      const store = createRedisCacheStore({ url: testRedisUrl(), prefix: redis.prefix('contract'), maxBytes });
      return { store, pass: sleep, close: () => store.close() };
    },
  });

  it('without maxBytes: plain keys with a millisecond TTL, no bookkeeping keys', async () => {
    const prefix = redis.prefix('plain');
    const store = createRedisCacheStore({ url: testRedisUrl(), prefix });
    await store.set('tts:x', new Uint8Array([1, 2, 3]), 60_000);
    expect([...(await store.get('tts:x'))!]).toEqual([1, 2, 3]);
    const ttl = await redis.admin.pttl(`${prefix}:tts:x`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(await redis.admin.keys(`${prefix}:_*`)).toEqual([]);
    await store.close();
  });

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`an outage (${mode}) skips the cache: the call still succeeds from the provider, the store error is reported`, async () => {
      const proxy = TcpProxy.forUrl(testRedisUrl());
      await proxy.start();
      const store = createRedisCacheStore({ url: proxy.urlFor(testRedisUrl()), prefix: redis.prefix(`outage-${mode}`), redisOptions: { connectTimeout: 500 } });
      const voice = fakeTts([{ ok: true }]);
      const errors: { operation: string; timedOut: boolean }[] = [];
      const client = createAiClient({ providers: { voice }, cacheStore: store, events: { onCacheError: (e) => errors.push(e) }, policy: { cache: { tts: { ttlMs: 60_000 }, storeTimeoutMs: 100 } } });
      try {
        await client.tts.synthesize({ text: '안녕하세요' });
        await sleep(150); // the background set lands (and the client stops serving it from its pending writes)
        expect((await client.tts.synthesize({ text: '안녕하세요' })).meta.cache).toBe('hit');
        await proxy.cut(mode);
        const r = await client.tts.synthesize({ text: '안녕하세요' });
        expect(r.meta.cache).toBe('miss');
        expect(r.audio.byteLength).toBeGreaterThan(0);
        expect(voice.calls).toHaveLength(2);
        expect(errors.length).toBeGreaterThanOrEqual(1);
        expect(errors[0]!.operation).toBe('get');
      } finally {
        await client.close();
        await store.close();
        await proxy.close();
      }
    });
  }
});
