// Several real processes share one provider's rate limit through Redis (bottleneck
// clustering). Start times from every process are merged and checked in sliding windows.
import { describe, expect, it } from 'vitest';
import { definePolicy, isAiError, systemClock } from '../src/index.js';
import { createRedisRateLimits } from '../src/redis/index.js';
import { resultsOf, startChild, startTogether } from '../../../test-support/child-protocol.js';
import { redisTestsRun, testRedisUrl, useRedisKeys } from './support/redis.js';

const onRedis = redisTestsRun('shared rate limit multi-process tests');

interface LimiterResult {
  spans: [number, number][];
  errors: string[];
  stats: Record<string, { shared: number; localFallbacks: number; refused: number }>;
}

const limiterChild = new URL('./fixtures/limiter-child.ts', import.meta.url);

/** The most starts in any window [t, t + windowMs) over the sorted start times. */
function maxInWindow(starts: number[], windowMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** The most spans open at one moment; a span that ends exactly when another starts does not overlap it. */
function maxOverlap(spans: [number, number][]): number {
  const events = spans.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]) as [number, number][];
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let best = 0;
  for (const [, d] of events) best = Math.max(best, (open += d));
  return best;
}

describe.runIf(onRedis)('shared rate limit across processes (bottleneck clustering on Redis)', () => {
  const redis = useRedisKeys((p) => `b_${p}:*`);

  it('N processes hammering one provider never start more than perSecond (+1 at a window edge) attempts in any one-second window', async () => {
    const keyPrefix = redis.prefix('rl-rate');
    const N = 4;
    const L = 10;
    const callsEach = 15;
    const children = await startTogether(N, limiterChild, () => ({ redisUrl: testRedisUrl(), keyPrefix, perSecond: L, calls: callsEach, holdMs: 5 }));
    const res = await resultsOf<LimiterResult>(children);
    for (const r of res) expect(r.errors).toEqual([]);
    const starts = res.flatMap((r) => r.spans.map(([s]) => s)).sort((x, y) => x - y);
    expect(starts).toHaveLength(N * callsEach);
    // Every process got slots from Redis, none from a local fallback.
    for (const r of res) {
      const s = Object.values(r.stats)[0]!;
      expect(s.localFallbacks).toBe(0);
      expect(s.shared).toBeGreaterThanOrEqual(callsEach);
    }
    // Documented tolerance: perSecond + 1 (the window edge), whatever the number of processes.
    // With per-process limits the four processes would start up to 4 x L in a second.
    const worst = maxInWindow(starts, 1_000);
    expect(worst).toBeLessThanOrEqual(L + 1);
    // The limit was really hammered: the run is as long as L per second allows, not longer than twice that.
    const spanMs = starts[starts.length - 1]! - starts[0]!;
    expect(spanMs).toBeGreaterThanOrEqual(((N * callsEach - 1) * 1000) / L - 100);
    expect(spanMs).toBeLessThan(((N * callsEach - 1) * 1000 * 2) / L);
  });

  it('N processes share maxConcurrent: never more attempts in flight at once than the shared limit', async () => {
    const keyPrefix = redis.prefix('rl-conc');
    const N = 3;
    const children = await startTogether(N, limiterChild, () => ({ redisUrl: testRedisUrl(), keyPrefix, maxConcurrent: 2, calls: 8, holdMs: 40 }));
    const res = await resultsOf<LimiterResult>(children);
    for (const r of res) expect(r.errors).toEqual([]);
    const spans = res.flatMap((r) => r.spans);
    expect(spans).toHaveLength(N * 8);
    expect(maxOverlap(spans)).toBeLessThanOrEqual(2);
    // And the limit was used: at some moment two attempts (from any processes) ran together.
    expect(maxOverlap(spans)).toBe(2);
  });

  it("a SIGKILLed process's slot is freed when it expires (attemptTimeoutMs + slotGraceMs), so the limit does not shrink for good", async () => {
    const keyPrefix = redis.prefix('rl-kill');
    const child = startChild(new URL('./fixtures/hold-slot-child.ts', import.meta.url), { redisUrl: testRedisUrl(), keyPrefix, attemptTimeoutMs: 1_000, slotGraceMs: 500 });
    const holding = await child.waitFor('holding').finally(() => child.kill('SIGKILL'));
    await child.exited;

    const limits = createRedisRateLimits({ url: testRedisUrl(), slotGraceMs: 500 });
    const policy = definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 1, shared: { keyPrefix } } } } });
    const limiter = limits.limiterFor({ capability: 'tts', providerKey: 'voice', policy: policy.capabilities.tts.rateLimit!, attemptTimeoutMs: 1_000, clock: systemClock });
    const never = new AbortController().signal;
    // The dead process still holds the only slot.
    const refused = await limiter.acquire(never, 200, 'voice').catch((e: unknown) => e);
    expect(Date.now() - (holding.at as number)).toBeLessThan(1_500);
    expect(isAiError(refused) && refused.code).toBe('rate_limited');
    // It expires 1,500 ms after it was granted; a waiter notices it at the latest at its next
    // heartbeat (bottleneck's heartbeatInterval, 5 s).
    (await limiter.acquire(never, 10_000, 'voice'))();
    expect(Date.now()).toBeGreaterThanOrEqual((holding.at as number) + 1_500 - 50);
    expect(limiter.stats()).toMatchObject({ shared: 1, localFallbacks: 0 });
    await limits.close();
  });
});
