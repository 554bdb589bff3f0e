import Bottleneck from 'bottleneck';
import { describe, expect, it } from 'vitest';
import { createAiClient } from '../client.js';
import { isAiError } from '../errors/ai-error.js';
import { fakeTts } from '../testing/fakes.js';
import { definePolicy } from './ai-policy.js';
import { systemClock } from './clock.js';
import { acquireSlot, bottleneckLimits, LimiterBackendFailure, RateLimiter } from './rate-limit.js';

const never = new AbortController().signal;

describe('rateLimit.shared in the policy', () => {
  it('fills in the documented defaults', () => {
    const p = definePolicy({ capabilities: { stt: { rateLimit: { perSecond: 5, shared: {} } } } });
    expect(p.capabilities.stt.rateLimit?.shared).toEqual({ redisUrlEnv: 'REDIS_URL', keyPrefix: 'kt:rl', onRedisDown: 'local', connectWaitMs: 2_000 });
  });

  it('rejects a URL where an environment variable name belongs, a shared limit without limits, and unknown keys', () => {
    expect(() => definePolicy({ capabilities: { stt: { rateLimit: { perSecond: 5, shared: { redisUrlEnv: 'redis://u:p@h' } } } } })).toThrow(
      /capabilities\.stt\.rateLimit\.shared\.redisUrlEnv: must be an environment variable name/,
    );
    expect(() => definePolicy({ capabilities: { tts: { rateLimit: { maxWaitMs: 10, shared: {} } } } })).toThrow(
      /capabilities\.tts\.rateLimit\.shared: a shared rate limit needs perSecond or maxConcurrent/,
    );
    expect(() => definePolicy({ capabilities: { eval: { rateLimit: { perSecond: 1, shared: { onRedisDown: 'open' } } } } })).toThrow(/onRedisDown/);
    expect(() => definePolicy({ capabilities: { eval: { rateLimit: { perSecond: 1, shared: { url: 'redis://h' } } } } })).toThrow(/unknown key\(s\) 'url'/);
    expect(() => definePolicy({ capabilities: { eval: { rateLimit: { perSecond: 1, shared: { keyPrefix: 'a b' } } } } })).toThrow(/keyPrefix: must not contain whitespace/);
  });
});

describe('bottleneck limits', () => {
  it('minTime is ceil(1000 / perSecond) ms, maxConcurrent null when unset', () => {
    expect(bottleneckLimits({ perSecond: 3 })).toEqual({ maxConcurrent: null, minTime: 334 });
    expect(bottleneckLimits({ maxConcurrent: 4 })).toEqual({ maxConcurrent: 4, minTime: 0 });
  });

  it('acquireSlot rejects with LimiterBackendFailure when its backend is lost while waiting, and frees the slot it later gets', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    const first = await acquireSlot(limiter, systemClock, { signal: never, maxWaitMs: 1_000, provider: 'p', scope: 'test limit' });
    const lost = new AbortController();
    const waiting = acquireSlot(limiter, systemClock, { signal: never, maxWaitMs: 5_000, provider: 'p', scope: 'test limit', lost: lost.signal }).catch((e: unknown) => e);
    lost.abort();
    expect(await waiting).toBeInstanceOf(LimiterBackendFailure);
    first();
    // The abandoned job ran and handed its slot straight back: the next caller gets one.
    (await acquireSlot(limiter, systemClock, { signal: never, maxWaitMs: 1_000, provider: 'p', scope: 'test limit' }))();
    await expect(acquireSlot(limiter, systemClock, { signal: never, maxWaitMs: 10, provider: 'p', scope: 'test limit', lost: lost.signal })).rejects.toBeInstanceOf(
      LimiterBackendFailure,
    );
    await limiter.disconnect();
  });

  it('RateLimiter reports a failing bottleneck as rate_limited naming the provider', async () => {
    const l = new RateLimiter('tts:p', { maxConcurrent: 1 }, systemClock);
    await l.limiter.stop({ dropWaitingJobs: true });
    const e = await l.acquire(never, 1_000, 'p').catch((err: unknown) => err);
    expect(isAiError(e) && e.code).toBe('rate_limited');
    expect((e as Error).message).toMatch(/^p: rate limiter failed/);
  });

  it('createAiClient builds a bottleneck RateLimiter with the options limiterBackend returns', async () => {
    const seen: string[] = [];
    const tts = fakeTts([{ ok: true }]);
    const client = createAiClient({
      policy: definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 5, maxWaitMs: 100 } } } }),
      providers: { tts },
      // A bottleneck-only option: a reservoir of one job in total.
      limiterBackend: (capability, key) => {
        seen.push(`${capability}:${key}`);
        return { reservoir: 1 };
      },
    });
    await client.tts.synthesize({ text: '하나' });
    const e = await client.tts.synthesize({ text: '둘' }).catch((err: unknown) => err);
    expect(isAiError(e) && e.attempts?.map((a) => a.errorCode)).toEqual(['rate_limited']);
    expect(seen).toEqual(['tts:tts']);
    expect(tts.calls).toHaveLength(1);
    await client.close();
  });
});
