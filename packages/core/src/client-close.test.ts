import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackgroundErrorEvent } from './events.js';
import { createAiClient } from './client.js';
import { closeShares, closeWithin, DEFAULT_CLOSE_TIMEOUT_MS, SINK_CLOSE_SHARE_MS } from './client-close.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { isAiError } from './errors/ai-error.js';
import { defaultPolicy } from './policy/ai-policy.js';
import type { Clock } from './policy/clock.js';
import { ArraySink, fakeEval, fakeStt, fakeTts } from './testing/fakes.js';
import { FakeClock } from './testing/fake-clock.js';
import { UsageFanOut } from './usage/fan-out.js';
import type { UsageRecord, UsageSink } from './usage/usage-record.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

/** A sink whose database is down and whose spill disk is full: flush() and close() never settle. */
class StalledSink implements UsageSink {
  records: UsageRecord[] = [];
  flushCalledAt: number | undefined;
  closeCalledAt: number | undefined;
  write(r: UsageRecord): void {
    this.records.push(r);
  }
  flush(): Promise<void> {
    this.flushCalledAt = Date.now();
    return new Promise(() => {});
  }
  close(): Promise<void> {
    this.closeCalledAt = Date.now();
    return new Promise(() => {});
  }
}

/** Lets `close()` run while fake time advances; tells whether it resolved by then. */
async function closeAfter(client: { close(): Promise<void> }, ms: number): Promise<{ resolved: () => boolean }> {
  let resolved = false;
  void client.close().then(() => (resolved = true));
  await vi.advanceTimersByTimeAsync(ms);
  return { resolved: () => resolved };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-11-26T12:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('client.close() within closeTimeoutMs', () => {
  it('resolves by its deadline when a sink never closes, and reports what was left', async () => {
    const stalled = new StalledSink();
    const healthy = new ArraySink();
    const events: BackgroundErrorEvent[] = [];
    const client = createAiClient({
      providers: { a: fakeStt([{ ok: true }]) },
      sinks: [stalled, healthy],
      closeTimeoutMs: 3_000,
      events: { onBackgroundError: (e) => events.push(e) },
    });
    await client.stt.transcribe(sttReq);
    const t0 = Date.now();
    const early = await closeAfter(client, 2_999);
    expect(early.resolved()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(early.resolved()).toBe(true);
    // close() at once, no flush() first: a sink's close drains it, and a flush with its own
    // deadline in front of it would only eat the sink's share.
    expect(stalled.closeCalledAt).toBe(t0);
    expect(stalled.flushCalledAt).toBeUndefined();
    expect(healthy).toMatchObject({ flushed: 0, closed: true, records: [{ success: true }] });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ where: 'close', pending: [{ stage: 'sink_close', sink: 0 }] });
    const error = events[0]!.error;
    expect(isAiError(error) && error.code).toBe('timeout');
  });

  it('with closeSinks: false flushes the sinks instead, bounded the same way, and leaves them open', async () => {
    const stalled = new StalledSink();
    const healthy = new ArraySink();
    const events: BackgroundErrorEvent[] = [];
    const client = createAiClient({
      providers: { a: fakeStt([{ ok: true }]) },
      sinks: [stalled, healthy],
      closeSinks: false,
      closeTimeoutMs: 2_000,
      events: { onBackgroundError: (e) => events.push(e) },
    });
    await client.stt.transcribe(sttReq);
    const c = await closeAfter(client, 2_000);
    expect(c.resolved()).toBe(true);
    expect(stalled.closeCalledAt).toBeUndefined();
    expect(healthy).toMatchObject({ flushed: 1, closed: false });
    expect(events).toMatchObject([{ where: 'close', pending: [{ stage: 'sink_flush', sink: 0 }] }]);
  });

  it(`defaults to ${DEFAULT_CLOSE_TIMEOUT_MS} ms`, async () => {
    expect(DEFAULT_CLOSE_TIMEOUT_MS).toBe(26_000);
    const client = createAiClient({ providers: { a: fakeStt([{ ok: true }]) }, sinks: [new StalledSink()] });
    const c = await closeAfter(client, 25_999);
    expect(c.resolved()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.resolved()).toBe(true);
  });

  it('resolves even when the onBackgroundError handler throws', async () => {
    const client = createAiClient({
      providers: { a: fakeStt([{ ok: true }]) },
      sinks: [new StalledSink()],
      closeTimeoutMs: 1_000,
      events: {
        onBackgroundError: () => {
          throw new Error('handler bug');
        },
      },
    });
    let outcome = 'pending';
    void client.close().then(
      () => (outcome = 'resolved'),
      () => (outcome = 'rejected'),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcome).toBe('resolved');
  });

  it('cancels calls still running when only the sinks\' share is left; their attempts are still recorded and the sink closed', async () => {
    const sink = new ArraySink();
    const events: BackgroundErrorEvent[] = [];
    const a = fakeStt([{ hang: true }]);
    const client = createAiClient({
      policy: { capabilities: { stt: { deadlineMs: 60_000, attemptTimeoutMs: 60_000 } } },
      providers: { a },
      sinks: [sink],
      closeTimeoutMs: 3_000,
      events: { onBackgroundError: (e) => events.push(e) },
    });
    const call = client.stt.transcribe(sttReq).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    // 3 s: the sinks' share is half (1.5 s), the calls get the rest.
    const c = await closeAfter(client, 1_499);
    expect(a.aborted).toBe(0);
    expect(sink.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.resolved()).toBe(true);
    const e = await call;
    expect(isAiError(e) && e.code).toBe('cancelled');
    expect(a.aborted).toBe(1);
    expect(sink.records).toMatchObject([{ success: false, errorCode: 'cancelled' }]);
    expect(sink).toMatchObject({ flushed: 0, closed: true });
    expect(events).toMatchObject([{ where: 'close', pending: [{ stage: 'calls', count: 1 }] }]);
  });

  it('by default lets calls of the default policy finish: attempts already paid for are not cancelled', async () => {
    const sink = new ArraySink();
    const events: BackgroundErrorEvent[] = [];
    const caps = defaultPolicy.capabilities;
    // Each provider answers just inside its capability's attempt timeout (STT 8 s, TTS 5 s, eval 10 s).
    const client = createAiClient({
      providers: {
        stt: fakeStt([{ ok: true, afterMs: caps.stt.attemptTimeoutMs - 1 }]),
        tts: fakeTts([{ ok: true, afterMs: caps.tts.attemptTimeoutMs - 1 }]),
        eval: fakeEval([{ ok: true, afterMs: caps.eval.attemptTimeoutMs - 1 }]),
      },
      sinks: [sink],
      events: { onBackgroundError: (e) => events.push(e) },
    });
    const calls = Promise.allSettled([
      client.stt.transcribe(sttReq),
      client.tts.synthesize({ text: '안녕하세요' }),
      client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요' }),
    ]);
    await vi.advanceTimersByTimeAsync(0);
    const c = await closeAfter(client, caps.eval.attemptTimeoutMs - 2);
    expect(c.resolved()).toBe(false);
    expect(sink.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await calls).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(c.resolved()).toBe(true);
    expect(sink.records.map((r) => r.success)).toEqual([true, true, true]);
    expect(sink.closed).toBe(true);
    expect(events).toEqual([]);
  });

  it('a call that will not end even when cancelled does not take the sinks\' share', async () => {
    const clock = new FakeClock();
    const sinkClosedAt: number[] = [];
    const events: BackgroundErrorEvent[] = [];
    const usage = new UsageFanOut([{ write: () => {}, flush: async () => {}, close: async () => void sinkClosedAt.push(clock.now()) }], () => {});
    let cancelled = 0;
    const t0 = clock.now();
    const closing = closeWithin({
      clock,
      timeoutMs: 20_000,
      // One call in flight that ignores its cancellation (a contract-breaking await inside it).
      inflight: { size: 1, idle: () => new Promise(() => {}) },
      background: { size: 0, idle: async () => {} },
      cancelCalls: () => void cancelled++,
      limiters: new Map(),
      usage,
      closeSinks: true,
      providers: [],
      report: (e) => events.push(e),
    });
    await clock.advance(20_000);
    await closing;
    const { sinksMs, callsMs } = closeShares(20_000);
    expect({ sinksMs, callsMs }).toEqual({ sinksMs: SINK_CLOSE_SHARE_MS, callsMs: 14_000 });
    expect(cancelled).toBe(1);
    // Cancelled at callsMs, and the sink closed then (a timer tick later at most), not at the deadline.
    expect(sinkClosedAt).toHaveLength(1);
    expect(sinkClosedAt[0]! - t0).toBeGreaterThanOrEqual(callsMs);
    expect(sinkClosedAt[0]! - t0).toBeLessThanOrEqual(callsMs + 1);
    expect(events).toMatchObject([
      { where: 'close', pending: [{ stage: 'calls', count: 1 }] },
      { where: 'close', pending: [{ stage: 'calls', count: 1 }] },
    ]);
  });

  it('shares its time so the defaults nest: every default-policy call fits, and the sinks get 6 s', () => {
    const shares = closeShares(DEFAULT_CLOSE_TIMEOUT_MS);
    expect(shares).toEqual({ sinksMs: 6_000, callsMs: 20_000 });
    // Calls end by their own deadline: the calls' share covers the longest of the default policy's
    // (and so every attempt timeout, each <= its deadline).
    const caps = Object.values(defaultPolicy.capabilities);
    expect(shares.callsMs).toBeGreaterThanOrEqual(Math.max(...caps.map((c) => c.deadlineMs)));
    expect(shares.callsMs).toBeGreaterThanOrEqual(Math.max(...caps.map((c) => c.attemptTimeoutMs)));
    expect(shares.sinksMs + shares.callsMs).toBe(DEFAULT_CLOSE_TIMEOUT_MS);
    // Short deadlines split in half; never more than 6 s for the sinks when calls need the rest.
    expect(closeShares(750)).toEqual({ sinksMs: 375, callsMs: 375 });
    expect(closeShares(60_000)).toEqual({ sinksMs: 6_000, callsMs: 54_000 });
  });

  it('bounds stalled budget settlements, limiters and providers too, naming each', async () => {
    const store = new MemoryBudgetStore();
    store.settle = () => new Promise(() => {});
    const voice = Object.assign(fakeTts([{ ok: true }]), { close: () => new Promise<void>(() => {}) });
    const events: BackgroundErrorEvent[] = [];
    const client = createAiClient({
      policy: { budget: { perDayUsd: 1 }, capabilities: { tts: { rateLimit: { maxConcurrent: 1, shared: {} } } } },
      providers: { voice },
      budgetStore: store,
      // A shared limiter whose backend is gone: its close() never settles.
      sharedRateLimits: {
        limiterFor: () => ({ acquire: async () => () => {}, counts: () => ({ queued: 0, running: 0 }), close: () => new Promise<void>(() => {}) }),
        close: async () => {},
      },
      closeTimeoutMs: 2_000,
      events: { onBackgroundError: (e) => events.push(e) },
    });
    await client.tts.synthesize({ text: '안녕하세요' });
    const c = await closeAfter(client, 2_000);
    expect(c.resolved()).toBe(true);
    expect(events).toMatchObject([
      {
        where: 'close',
        pending: [
          { stage: 'budget_settle', count: 1 },
          { stage: 'limiter_close', key: 'tts:voice' },
          { stage: 'provider_close', key: 'voice' },
        ],
      },
    ]);
  });

  it('runs on an injected clock', async () => {
    vi.useRealTimers();
    let now = 0;
    const timers = new Map<number, { at: number; fn: () => void }>();
    let nextId = 1;
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        timers.set(nextId, { at: now + ms, fn });
        return nextId++;
      },
      clearTimeout: (id) => timers.delete(id as number),
    };
    const advance = async (ms: number) => {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    const client = createAiClient({ providers: { a: fakeStt([{ ok: true }]) }, sinks: [new StalledSink()], clock, closeTimeoutMs: 500 });
    let resolved = false;
    void client.close().then(() => (resolved = true));
    await advance(250);
    expect(resolved).toBe(false);
    await advance(250);
    expect(resolved).toBe(true);
    expect(timers.size).toBe(0);
  });

  it('refuses a closeTimeoutMs that is not a positive integer', () => {
    for (const closeTimeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      let code: string | undefined;
      try {
        createAiClient({ providers: { a: fakeStt([{ ok: true }]) }, closeTimeoutMs });
      } catch (e) {
        code = isAiError(e) ? `${e.code} ${/closeTimeoutMs/.test(e.message)}` : 'other';
      }
      expect(code).toBe('invalid_config true');
    }
  });
});
