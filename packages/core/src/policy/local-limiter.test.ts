import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAiError } from '../errors/ai-error.js';
import { systemClock } from './clock.js';
import { LocalLimiter } from './local-limiter.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => vi.useRealTimers());
const never = new AbortController().signal;

describe('LocalLimiter', () => {
  it('holds at most maxConcurrent slots and serves waiters first come first served', async () => {
    const l = new LocalLimiter({ maxConcurrent: 2 }, systemClock);
    const order: number[] = [];
    const r1 = await l.acquire(never, 1_000, 'p');
    const r2 = await l.acquire(never, 1_000, 'p');
    const w3 = l.acquire(never, 1_000, 'p').then((r) => (order.push(3), r));
    const w4 = l.acquire(never, 1_000, 'p').then((r) => (order.push(4), r));
    expect(l.counts()).toEqual({ running: 2, queued: 2 });
    r2();
    r2(); // idempotent
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([3]);
    r1();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([3, 4]);
    (await w3)();
    (await w4)();
    expect(l.counts()).toEqual({ running: 0, queued: 0 });
  });

  it('spaces starts 1000/perSecond ms apart, so no one-second window sees more than perSecond starts', async () => {
    const l = new LocalLimiter({ perSecond: 5 }, systemClock);
    const starts: number[] = [];
    const t0 = Date.now();
    const all = Array.from({ length: 12 }, () => l.acquire(never, 10_000, 'p').then((r) => (starts.push(Date.now() - t0), r())));
    await vi.advanceTimersByTimeAsync(3_000);
    await Promise.all(all);
    expect(starts).toEqual([0, 200, 400, 600, 800, 1_000, 1_200, 1_400, 1_600, 1_800, 2_000, 2_200]);
    for (const s of starts) expect(starts.filter((x) => x >= s && x < s + 1_000).length).toBeLessThanOrEqual(5);
  });

  it('gives up after maxWaitMs with rate_limited, and on abort with the signal reason', async () => {
    const l = new LocalLimiter({ maxConcurrent: 1 }, systemClock);
    const held = await l.acquire(never, 1_000, 'p');
    const timedOut = l.acquire(never, 50, 'gemini').catch((e: unknown) => e);
    const ac = new AbortController();
    const aborted = l.acquire(ac.signal, 1_000, 'p').catch((e: unknown) => e);
    ac.abort(new Error('bye'));
    await vi.advanceTimersByTimeAsync(60);
    const e = await timedOut;
    expect(isAiError(e) && e.code).toBe('rate_limited');
    expect((await aborted as Error).message).toBe('bye');
    held();
    // the gave-up waiters do not hold slots
    const again = await l.acquire(never, 10, 'p');
    expect(l.counts()).toEqual({ running: 1, queued: 0 });
    again();
  });
});
