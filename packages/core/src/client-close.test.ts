import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackgroundErrorEvent } from './events.js';
import { createAiClient } from './client.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { isAiError } from './errors/ai-error.js';
import type { Clock } from './policy/clock.js';
import { ArraySink, fakeStt, fakeTts } from './testing/fakes.js';
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
  it('resolves by its deadline when a sink never flushes nor closes, and reports what was left', async () => {
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
    // A stalled flush does not keep the sink from being closed: close() is called at half the time left.
    expect(stalled.flushCalledAt).toBe(t0);
    expect(stalled.closeCalledAt).toBe(t0 + 1_500);
    expect(healthy).toMatchObject({ flushed: 1, closed: true });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      where: 'close',
      pending: [
        { stage: 'sink_flush', sink: 0 },
        { stage: 'sink_close', sink: 0 },
      ],
    });
    const error = events[0]!.error;
    expect(isAiError(error) && error.code).toBe('timeout');
  });

  it('defaults to 15 s', async () => {
    const client = createAiClient({ providers: { a: fakeStt([{ ok: true }]) }, sinks: [new StalledSink()] });
    const c = await closeAfter(client, 14_999);
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

  it('cancels calls still running after a third of it; their attempts are still recorded and flushed', async () => {
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
    const c = await closeAfter(client, 1_000);
    expect(c.resolved()).toBe(true);
    const e = await call;
    expect(isAiError(e) && e.code).toBe('cancelled');
    expect(a.aborted).toBe(1);
    expect(sink.records).toMatchObject([{ success: false, errorCode: 'cancelled' }]);
    expect(sink).toMatchObject({ flushed: 1, closed: true });
    expect(events).toMatchObject([{ where: 'close', pending: [{ stage: 'calls', count: 1 }] }]);
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
