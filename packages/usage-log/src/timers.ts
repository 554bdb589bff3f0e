import pTimeout from 'p-timeout';
import { backgroundTimeout, sleep, type Clock } from '@korean-together/core';

/**
 * Calls `fn` every `ms` on `clock`'s background timers (they never keep the process alive by
 * themselves) until `stop()`: the flush tick, the adoption scan, the spill heartbeat.
 */
export function repeatInBackground(clock: Clock, ms: number, fn: () => void): { stop(): void } {
  let stopped = false;
  let handle: unknown;
  const arm = () => {
    handle = backgroundTimeout(
      clock,
      () => {
        if (stopped) return;
        arm();
        fn();
      },
      ms,
    );
  };
  arm();
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(handle);
    },
  };
}

/**
 * Waits `ms` on a background timer of `clock` (a retry or probe backoff nobody awaits), or
 * until `signal` aborts. Resolves to true when the signal ended the wait; never rejects.
 */
export function waitInBackground(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return sleep(clock, ms, signal, { background: true }).then(
    () => false,
    () => true,
  );
}

/** `clock`'s ordinary timers in the shape p-timeout's `customTimers` takes. */
export function pTimeoutTimers(clock: Clock): { setTimeout: typeof globalThis.setTimeout; clearTimeout: typeof globalThis.clearTimeout } {
  return {
    setTimeout: ((fn: () => void, ms: number) => clock.setTimeout(fn, ms)) as unknown as typeof globalThis.setTimeout,
    clearTimeout: ((handle: unknown) => clock.clearTimeout(handle)) as unknown as typeof globalThis.clearTimeout,
  };
}

/**
 * Waits for `p` (fulfilled or rejected alike) until `deadline` (ms on `clock`); resolves to
 * true when it settled in time. Ordinary timers: what waits on this (close()) is awaited.
 */
export function settlesBy(clock: Clock, p: Promise<unknown>, deadline: number): Promise<boolean> {
  const ms = deadline - clock.now();
  if (ms <= 0) return Promise.resolve(false);
  const settled = p.then(
    () => true,
    () => true,
  );
  return pTimeout(settled, { milliseconds: ms, fallback: () => false, customTimers: pTimeoutTimers(clock) });
}
