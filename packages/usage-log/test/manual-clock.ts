// Test-only: a core Clock whose time moves only when a test says so.
import type { Clock } from '@korean-together/core';

interface Timer {
  at: number;
  callback: () => void;
  background: boolean;
}

export interface ManualClock {
  clock: Clock;
  /** Current time, ms. */
  readonly now: number;
  /** Timers set and not fired or cleared, soonest first: when they fire and whether they are background timers. */
  pending(): { at: number; background: boolean }[];
  /** Moves time forward by `ms`, firing due timers in order and letting promise callbacks run after each. */
  advance(ms: number): Promise<void>;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function manualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, Timer>();
  const add = (callback: () => void, ms: number, background: boolean) => {
    const id = ++nextId;
    timers.set(id, { at: now + Math.max(0, ms), callback, background });
    return id;
  };
  const due = (until: number) => [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
  return {
    clock: {
      now: () => now,
      setTimeout: (callback, ms) => add(callback, ms, false),
      setBackgroundTimeout: (callback, ms) => add(callback, ms, true),
      clearTimeout: (handle) => {
        timers.delete(handle as number);
      },
    },
    get now() {
      return now;
    },
    pending: () => [...timers.values()].sort((a, b) => a.at - b.at).map((t) => ({ at: t.at, background: t.background })),
    async advance(ms: number) {
      const until = now + ms;
      await settle();
      for (let next = due(until); next; next = due(until)) {
        const [id, t] = next;
        timers.delete(id);
        now = Math.max(now, t.at);
        t.callback();
        await settle();
      }
      now = until;
      await settle();
    },
  };
}
