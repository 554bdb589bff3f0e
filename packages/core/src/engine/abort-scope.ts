import type { Clock } from '../policy/clock.js';
import { AbortReason } from '../policy/abort-reason.js';

const ignore = (): void => {};

/**
 * What one attempt (or one wait of a call: a retry sleep, a budget reservation) can be aborted
 * by, and the signal a provider sees. The AbortSignal is made only when somebody reads it: in
 * Node 20 making one costs more than the rest of a call's bookkeeping, and a provider that
 * answers from memory never needs it. Waits are raced against the scope directly, with no
 * listener on any signal.
 */
export class AbortScope {
  reason: AbortReason | undefined;
  private controller: AbortController | undefined;
  private rejectWait: ((reason: unknown) => void) | undefined;
  private sleepTimer: unknown;

  constructor(private readonly clock: Clock) {}

  /** The scope's AbortSignal (aborted with the scope's AbortReason). */
  get signal(): AbortSignal {
    let c = this.controller;
    if (c === undefined) {
      c = this.controller = new AbortController();
      if (this.reason !== undefined) c.abort(this.reason);
    }
    return c.signal;
  }

  /** Aborts the scope once: its signal fires and what it waits for rejects with `reason`. */
  abort(reason: AbortReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const reject = this.rejectWait;
    if (reject !== undefined) {
      this.rejectWait = undefined;
      if (this.sleepTimer !== undefined) {
        this.clock.clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
      }
      reject(reason);
    }
  }

  /** Settles like `promise`, or rejects with the abort reason as soon as the scope aborts (without waiting for `promise`). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.reason !== undefined) {
      promise.then(undefined, ignore);
      return Promise.reject(this.reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      promise.then(resolve, reject);
    });
  }

  /** Resolves after `ms` (an awaited timer: it keeps the process alive), or rejects when the scope aborts first. */
  sleep(ms: number): Promise<void> {
    if (this.reason !== undefined) return Promise.reject(this.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.rejectWait = reject;
      this.sleepTimer = this.clock.setTimeout(() => {
        this.sleepTimer = undefined;
        this.rejectWait = undefined;
        resolve();
      }, ms);
    });
  }
}
