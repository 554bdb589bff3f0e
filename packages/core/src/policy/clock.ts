/**
 * Time as the policy engine sees it. Inject one to test policies with fake time; the
 * default reads the globals at each call, so vitest's fake timers also drive it.
 *
 * Two kinds of timer, kept apart on purpose:
 * - `setTimeout` serves work somebody awaits (an attempt's timeout, the call deadline, a retry
 *   sleep, a hedge delay, a budget or rate-limit wait, close()'s deadline). It keeps the
 *   process alive like Node's own timers: a script whose top-level `await` is in the middle of
 *   a backoff must not exit before the call ends.
 * - `setBackgroundTimeout` serves work nobody awaits (budget settlement retries after a call
 *   returned, heartbeats, probes). It must not keep the process alive on its own.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** A timer for awaited work: keeps the process alive until it fires or is cleared. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Clears a timer from either `setTimeout` or `setBackgroundTimeout`. */
  clearTimeout(handle: unknown): void;
  /**
   * A timer for background work: must not keep the process alive by itself (Node: unref'd).
   * Optional: a clock without it (a fake clock in a test) gets `setTimeout` instead, see `backgroundTimeout`.
   */
  setBackgroundTimeout?(callback: () => void, ms: number): unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setBackgroundTimeout: (callback, ms) => {
    const t = setTimeout(callback, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
};

/** Starts a background timer on `clock` (see Clock); clocks without `setBackgroundTimeout` use `setTimeout`. */
export function backgroundTimeout(clock: Clock, callback: () => void, ms: number): unknown {
  return clock.setBackgroundTimeout ? clock.setBackgroundTimeout(callback, ms) : clock.setTimeout(callback, ms);
}

/** A source of uniform random numbers in [0, 1), injectable for exact tests. */
export type RandomSource = () => number;

export interface SleepOptions {
  /** Nobody awaits this sleep (a background retry): its timer does not keep the process alive. Default false. */
  background?: boolean;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts.
 * The timer keeps the process alive unless `options.background` is set.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, options: SleepOptions = {}): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const handle = options.background ? backgroundTimeout(clock, done, ms) : clock.setTimeout(done, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
