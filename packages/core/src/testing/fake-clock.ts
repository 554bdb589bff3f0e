import type { Clock } from '../policy/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every promise chain that is ready run to its end (a turn of the real event loop). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A Clock whose time moves only when told: pass it to createAiClient({ clock }) and drive
 * deadlines, timeouts, backoff and breaker cooldowns in a test without waiting. Timers fire in
 * time order (then in the order they were set), and the promises they release run before the
 * next one fires, so a call's retries play out as they would in real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  /** @param startMs epoch ms the clock starts at (default 2026-01-01T00:00:00Z) */
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.t + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  setBackgroundTimeout(fn: () => void, ms: number): unknown {
    return this.setTimeout(fn, ms);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way; resolves once what they started has run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: Timer | undefined;
      for (const timer of this.timers.values()) if (timer.at <= end && (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) next = timer;
      if (!next) break;
      this.timers.delete(next.seq);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
}
