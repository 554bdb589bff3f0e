// Bottleneck spaces starts by whole milliseconds (minTime), so a perSecond above 1000 cannot be
// a minTime: ceil(1000 / 2000) = 1 ms would quietly mean 1000/s. Above 1000/s the bottleneck
// backend (local datastore) counts starts in a reservoir refilled every 10 ms instead.
import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { bottleneckLimits, localBottleneckLimits, RateLimiter } from './rate-limit.js';

describe('a perSecond above 1000 on the bottleneck backend', () => {
  it('is a reservoir of perSecond / 100 refilled every 10 ms, not minTime 1', () => {
    const fast = { maxConcurrent: null, minTime: 0, reservoir: 20_000, reservoirRefreshAmount: 20_000, reservoirRefreshInterval: 10, heartbeatInterval: 10 };
    expect(localBottleneckLimits({ perSecond: 2_000_000 })).toEqual(fast);
    expect(localBottleneckLimits({ perSecond: 1_001, maxConcurrent: 3 })).toMatchObject({ maxConcurrent: 3, minTime: 0, reservoir: 10 });
    // Up to 1000/s a minTime says the rate exactly as before.
    expect(localBottleneckLimits({ perSecond: 1_000, maxConcurrent: 2 })).toEqual({ maxConcurrent: 2, minTime: 1 });
    expect(localBottleneckLimits({ perSecond: 3 })).toEqual(bottleneckLimits({ perSecond: 3 }));
  });

  it('the RateLimiter on the local datastore is built with those settings', async () => {
    const limiter = new RateLimiter('p', { perSecond: 2_000_000 }, systemClock);
    expect(await limiter.limiter.currentReservoir()).toBe(20_000);
    const slow = new RateLimiter('p', { perSecond: 5 }, systemClock);
    expect(await slow.limiter.currentReservoir()).toBeNull();
    await Promise.all([limiter.close(), slow.close()]);
  });
});
