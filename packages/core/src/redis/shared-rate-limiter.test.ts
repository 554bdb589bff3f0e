import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteKeys, redisTestsRun, testRedisUrl, useRedisKeys } from '../../test/support/redis.js';
import { deadPort, TcpProxy } from '../../../../test-support/tcp-proxy.js';
import { createAiClient } from '../client.js';
import { isAiError } from '../errors/ai-error.js';
import { definePolicy } from '../policy/ai-policy.js';
import { systemClock } from '../policy/clock.js';
import { fakeTts } from '../testing/fakes.js';
import { createRedisRateLimits, RedisRateLimits, type RedisRateLimitsOptions } from './redis-rate-limits.js';
import type { SharedRateLimiter } from './shared-rate-limiter.js';

const onRedis = redisTestsRun('SharedRateLimiter tests on the Redis server');
const redis = useRedisKeys((p) => `b_${p}:*`, onRedis);
const open: RedisRateLimits[] = [];
const proxies: TcpProxy[] = [];
const never = new AbortController().signal;

afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

const sharedPolicy = (keyPrefix: string) => definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 2, shared: { keyPrefix } } } } });

interface LimitInput {
  maxConcurrent?: number;
  perSecond?: number;
  onRedisDown?: 'local' | 'closed';
  keyPrefix: string;
}

function limiter(input: LimitInput, options: RedisRateLimitsOptions = { url: testRedisUrl() }, attemptTimeoutMs = 5_000): SharedRateLimiter {
  const rl = createRedisRateLimits(options);
  open.push(rl);
  const { keyPrefix, onRedisDown, ...limits } = input;
  const policy = definePolicy({ capabilities: { tts: { rateLimit: { ...limits, shared: { keyPrefix, ...(onRedisDown && { onRedisDown }) } } } } });
  return rl.limiterFor({ capability: 'tts', providerKey: 'voice', policy: policy.capabilities.tts.rateLimit!, attemptTimeoutMs, clock: systemClock });
}

/** A proxy in front of the test Redis, closed after the test. */
async function startProxy(): Promise<TcpProxy> {
  const proxy = TcpProxy.forUrl(testRedisUrl());
  proxies.push(proxy);
  await proxy.start();
  return proxy;
}

const prefix = (label: string): string => redis.prefix(label);

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.runIf(onRedis)('SharedRateLimiter (bottleneck clustering on the real Redis)', () => {
  it('two limiters with one id (two processes, as far as Redis can tell) share maxConcurrent', async () => {
    const keyPrefix = prefix('conc');
    const a = limiter({ maxConcurrent: 2, keyPrefix });
    const b = limiter({ maxConcurrent: 2, keyPrefix });
    const r1 = await a.acquire(never, 5_000, 'voice');
    const r2 = await a.acquire(never, 5_000, 'voice');
    const full = await b.acquire(never, 300, 'voice').catch((e: unknown) => e);
    expect(isAiError(full) && full.code).toBe('rate_limited');
    expect((full as Error).message).toMatch(/\(shared limit\)/);
    const waiting = b.acquire(never, 10_000, 'voice');
    r1();
    const r3 = await waiting;
    r2();
    r3();
    expect(a.stats()).toMatchObject({ shared: 2, localFallbacks: 0 });
    expect(b.stats()).toMatchObject({ shared: 1, localFallbacks: 0 });
  });

  it('copies the settings of a client you pass (even a lazyConnect one) and leaves that client alone', async () => {
    const keyPrefix = prefix('client');
    const yours = new Redis(testRedisUrl(), { lazyConnect: true });
    const l = limiter({ maxConcurrent: 1, keyPrefix }, { client: yours });
    (await l.acquire(never, 5_000, 'voice'))();
    expect(l.stats()).toMatchObject({ shared: 1, localFallbacks: 0 });
    expect(yours.status).toBe('wait');
    yours.disconnect();
  });

  it("connection lost mid-run, 'local': a waiter switches to the local limiter at once; after reconnecting, slots come from Redis again", async () => {
    const proxy = await startProxy();
    const keyPrefix = prefix('lost-local');
    const other = limiter({ maxConcurrent: 1, keyPrefix });
    const l = limiter({ maxConcurrent: 1, keyPrefix }, { url: proxy.urlFor(testRedisUrl()) });
    const held = await other.acquire(never, 5_000, 'voice');
    // Queued behind the shared limit, which stays full.
    const waiting = l.acquire(never, 20_000, 'voice');
    await until(() => l.counts().queued === 1, 'the waiter to queue in the shared limiter');
    await proxy.cut('refuse');
    const release = await waiting;
    expect(l.stats()).toMatchObject({ shared: 0, localFallbacks: 1 });
    release();
    await proxy.restore();
    held();
    await until(() => l.redisUp, 'the limiter to reconnect');
    (await l.acquire(never, 10_000, 'voice'))();
    expect(l.stats()).toMatchObject({ shared: 1, localFallbacks: 1 });
  });

  it("connection lost mid-run, 'closed': a waiter is refused with rate_limited at once", async () => {
    const proxy = await startProxy();
    const keyPrefix = prefix('lost-closed');
    const other = limiter({ maxConcurrent: 1, keyPrefix });
    const l = limiter({ maxConcurrent: 1, keyPrefix, onRedisDown: 'closed' }, { url: proxy.urlFor(testRedisUrl()) });
    const held = await other.acquire(never, 5_000, 'voice');
    const waiting = l.acquire(never, 20_000, 'voice').catch((e: unknown) => e);
    await until(() => l.counts().queued === 1, 'the waiter to queue in the shared limiter');
    await proxy.cut('refuse');
    const e = await waiting;
    expect(isAiError(e) && e.code).toBe('rate_limited');
    expect((e as Error).message).toMatch(/onRedisDown: 'closed'/);
    expect(l.stats()).toMatchObject({ shared: 0, refused: 1 });
    held();
  });

  it("recovers when its keys vanish from Redis (restart without persistence, flush, eviction): bottleneck's Redis 7 errors are normalised", async () => {
    const keyPrefix = prefix('vanish');
    const l = limiter({ perSecond: 50, maxConcurrent: 3, keyPrefix });
    (await l.acquire(never, 5_000, 'voice'))();
    expect(await deleteKeys(redis.admin, `b_${keyPrefix}:*`)).toBeGreaterThan(0);
    (await l.acquire(never, 5_000, 'voice'))();
    // And after it forgot this process (no heartbeat seen, e.g. after an outage).
    await redis.admin.zrem(`b_${l.id}_client_last_seen`, (l.shared as unknown as { _store: { clientId: string } })._store.clientId);
    (await l.acquire(never, 5_000, 'voice'))();
    expect(l.stats()).toMatchObject({ shared: 3, localFallbacks: 0 });
  });

  it('a process started with a changed policy makes its limits the shared ones', async () => {
    const keyPrefix = prefix('settings');
    const old = limiter({ perSecond: 10, keyPrefix });
    (await old.acquire(never, 5_000, 'voice'))();
    const settings = `b_${old.id}_settings`;
    expect(await redis.admin.hget(settings, 'minTime')).toBe('100');
    const updated = limiter({ perSecond: 20, maxConcurrent: 4, keyPrefix });
    (await updated.acquire(never, 5_000, 'voice'))();
    await until(async () => (await redis.admin.hget(settings, 'minTime')) === '50', 'minTime 50 in Redis');
    expect(await redis.admin.hget(settings, 'maxConcurrent')).toBe('4');
  });
});

describe.runIf(onRedis)('createAiClient with shared rate limits', () => {
  it('reads the URL from the environment variable the policy names, and says which one is missing (never a value)', async () => {
    const missing = createRedisRateLimits({ env: {} });
    open.push(missing);
    expect(() => createAiClient({ policy: sharedPolicy('x'), providers: { tts: fakeTts([{ ok: true }]) }, sharedRateLimits: missing })).toThrow(
      /capabilities\.tts\.rateLimit\.shared\.redisUrlEnv: environment variable REDIS_URL is not set/,
    );
    const invalid = createRedisRateLimits({ env: { REDIS_URL: 'http://user:topsecret@host' } });
    open.push(invalid);
    const e = (() => {
      try {
        createAiClient({ policy: sharedPolicy('x'), providers: { tts: fakeTts([{ ok: true }]) }, sharedRateLimits: invalid });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e?.message).toMatch(/environment variable REDIS_URL/);
    expect(e?.message).not.toMatch(/topsecret/);

    const keyPrefix = prefix('env');
    const sharedRateLimits = createRedisRateLimits({ env: { REDIS_URL: testRedisUrl() } });
    open.push(sharedRateLimits);
    const tts = fakeTts([{ ok: true }]);
    const client = createAiClient({ policy: sharedPolicy(keyPrefix), providers: { tts }, sharedRateLimits });
    const results = await Promise.all(Array.from({ length: 5 }, () => client.tts.synthesize({ text: '네' })));
    expect(results).toHaveLength(5);
    expect(sharedRateLimits.stats()[`${keyPrefix}:tts:tts`]).toMatchObject({ shared: 5, localFallbacks: 0 });
    expect(await redis.admin.exists(`b_${keyPrefix}:tts:tts_settings`)).toBe(1);
    await client.close();
  });
});

describe('SharedRateLimiter when Redis is unreachable', () => {
  it("Redis unreachable from the start, onRedisDown 'local': the same limits hold per process", async () => {
    const port = await deadPort();
    const l = limiter({ maxConcurrent: 1, keyPrefix: prefix('down-local') }, { url: `redis://127.0.0.1:${port}` });
    const release = await l.acquire(never, 3_000, 'voice');
    const second = await l.acquire(never, 50, 'voice').catch((e: unknown) => e);
    expect(isAiError(second) && second.code).toBe('rate_limited');
    expect((second as Error).message).toMatch(/\(local limit\)/);
    release();
    (await l.acquire(never, 3_000, 'voice'))();
    expect(l.stats()).toMatchObject({ shared: 0, localFallbacks: 2, refused: 0 });
    expect(l.redisUp).toBe(false);
  });

  it("Redis unreachable, onRedisDown 'closed': attempts are refused with rate_limited, no provider is called, no URL is shown", async () => {
    const port = await deadPort();
    const sharedRateLimits = createRedisRateLimits({ url: `redis://app:pa55word@127.0.0.1:${port}/2` });
    open.push(sharedRateLimits);
    const a = fakeTts([{ ok: true }], { name: 'a' });
    const b = fakeTts([{ ok: true }], { name: 'b' });
    const policy = definePolicy({
      capabilities: { tts: { chain: ['a', 'b'], rateLimit: { perSecond: 5, shared: { keyPrefix: prefix('down-closed'), onRedisDown: 'closed' } } } },
    });
    const client = createAiClient({ policy, providers: { a, b }, sharedRateLimits });
    const e = await client.tts.synthesize({ text: '안녕' }).catch((err: unknown) => err);
    expect(isAiError(e) && e.code).toBe('exhausted');
    expect((e as { attempts: { providerKey: string; errorCode?: string }[] }).attempts.map((x) => `${x.providerKey}:${x.errorCode}`)).toEqual([
      'a:rate_limited',
      'b:rate_limited',
    ]);
    expect(a.calls).toHaveLength(0);
    expect(b.calls).toHaveLength(0);
    const text = JSON.stringify([(e as Error).message, ((e as Error).cause as Error | undefined)?.message]);
    expect(text).toMatch(/Redis unreachable/);
    expect(text).not.toMatch(/pa55word|app:|127\.0\.0\.1/);
    await client.close();
  });
});

describe('createAiClient with shared rate limits: configuration', () => {
  it('refuses a policy that shares a limit when no sharedRateLimits is given', () => {
    expect(() => createAiClient({ policy: sharedPolicy('x'), providers: { tts: fakeTts([{ ok: true }]) } })).toThrow(
      /capabilities\.tts\.rateLimit\.shared: needs createAiClient\(\{ sharedRateLimits/,
    );
  });

  it('rejects bad options with invalid_config', () => {
    expect(() => createRedisRateLimits({ url: 'http://example.com' })).toThrow(/createRedisRateLimits: url/);
    expect(() => createRedisRateLimits({ slotGraceMs: -1 })).toThrow(/slotGraceMs/);
    expect(() => createRedisRateLimits({ client: {} as never })).toThrow(/ioredis Redis client/);
  });
});
