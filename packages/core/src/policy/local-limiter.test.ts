import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAiError } from '../errors/ai-error.js';
import { systemClock } from './clock.js';
import { LocalLimiter } from './local-limiter.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => vi.useRealTimers());
const never = () => new AbortController().signal;

describe('LocalLimiter', () => {
  it('gives a free slot at once through tryAcquire, and none past the limit or ahead of a waiter', async () => {
    const l = new LocalLimiter({ maxConcurrent: 1 }, systemClock);
    const r1 = l.tryAcquire();
    expect(r1).toBeTypeOf('function');
    expect(l.tryAcquire()).toBeUndefined();
    const waiting = l.acquire(never(), 1_000, 'p');
    r1!();
    // The slot went to the queued waiter, not to a newcomer.
    expect(l.tryAcquire()).toBeUndefined();
    (await waiting)();
    expect(l.counts()).toEqual({ running: 0, queued: 0 });
    expect(l.tryAcquire()).toBeTypeOf('function');
  });

  it('holds at most maxConcurrent slots and serves waiters first come first served', async () => {
    const l = new LocalLimiter({ maxConcurrent: 2 }, systemClock);
    const order: number[] = [];
    const r1 = await l.acquire(never(), 1_000, 'p');
    const r2 = await l.acquire(never(), 1_000, 'p');
    const w3 = l.acquire(never(), 1_000, 'p').then((r) => (order.push(3), r));
    const w4 = l.acquire(never(), 1_000, 'p').then((r) => (order.push(4), r));
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

  it('spaces starts on a 1000/perSecond ms grid (each at most one clock tick early): a one-second window sees at most perSecond + 1', async () => {
    const l = new LocalLimiter({ perSecond: 5 }, systemClock);
    const starts: number[] = [];
    const t0 = Date.now();
    const all = Array.from({ length: 12 }, () => l.acquire(never(), 10_000, 'p').then((r) => (starts.push(Date.now() - t0), r())));
    await vi.advanceTimersByTimeAsync(3_000);
    await Promise.all(all);
    expect(starts).toEqual([0, 199, 399, 599, 799, 999, 1_199, 1_399, 1_599, 1_799, 1_999, 2_199]);
    for (const s of starts) expect(starts.filter((x) => x >= s && x < s + 1_000).length).toBeLessThanOrEqual(5 + 1);
    // the grid does not drift: 12 starts take 11 intervals
    expect(starts[11]! - starts[1]!).toBe(2_000);
  });

  it('reaches rates above 1000 per second although the clock ticks in whole milliseconds', async () => {
    const l = new LocalLimiter({ perSecond: 5_000 }, systemClock);
    let started = 0;
    const all = Array.from({ length: 10_000 }, () => l.acquire(new AbortController().signal, 10_000, 'p').then((r) => (started++, r())));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBeGreaterThanOrEqual(5_000);
    // [0, 1000] spans 1001 ms, and the first start may come one tick early: 2 ticks of 5 starts, plus one
    expect(started).toBeLessThanOrEqual(5_000 + 2 * 5 + 1);
    await vi.advanceTimersByTimeAsync(1_100);
    await Promise.all(all);
  });

  it('gives up after maxWaitMs with rate_limited, and on abort with the signal reason', async () => {
    const l = new LocalLimiter({ maxConcurrent: 1 }, systemClock);
    const held = await l.acquire(never(), 1_000, 'p');
    const timedOut = l.acquire(never(), 50, 'gemini').catch((e: unknown) => e);
    const ac = new AbortController();
    const aborted = l.acquire(ac.signal, 1_000, 'p').catch((e: unknown) => e);
    ac.abort(new Error('bye'));
    await vi.advanceTimersByTimeAsync(60);
    const e = await timedOut;
    expect(isAiError(e) && e.code).toBe('rate_limited');
    expect((await aborted as Error).message).toBe('bye');
    held();
    // the gave-up waiters do not hold slots
    const again = await l.acquire(never(), 10, 'p');
    expect(l.counts()).toEqual({ running: 1, queued: 0 });
    again();
  });
});
