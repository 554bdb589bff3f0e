import { setMaxListeners } from 'node:events';
import type { Redis } from 'ioredis';

export type RedisLinkState = 'up' | 'down';

/**
 * Whether a set of ioredis connections is usable right now, from their connection events
 * (no polling, no extra commands). Up: every connection is `ready`. `lostSignal()` aborts the
 * moment the link goes down, so waits on Redis can switch to the Redis-down behaviour at once
 * instead of running into their own timeouts.
 */
export class RedisLink {
  private everUp = false;
  private failedBeforeUp = false;
  private lost = RedisLink.controller();
  private last: RedisLinkState;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly clients: Redis[],
    private readonly onChange?: (state: RedisLinkState) => void,
  ) {
    const update = () => this.update();
    const failed = () => {
      if (!this.everUp) this.failedBeforeUp = true;
      this.update();
    };
    for (const c of clients) {
      c.on('ready', update);
      c.on('close', failed);
      c.on('end', failed);
      c.on('reconnecting', failed);
    }
    this.last = this.up ? 'up' : 'down';
    if (this.last === 'up') this.everUp = true;
    else this.lost.abort();
  }

  /** Every attempt waiting on Redis listens to the signal: no listener limit (and no leak warning). */
  private static controller(): AbortController {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  }

  /** Every connection is ready. */
  get up(): boolean {
    return this.clients.every((c) => c.status === 'ready');
  }

  /** Aborts when the link goes down; a fresh signal is handed out after it comes back. */
  lostSignal(): AbortSignal {
    return this.lost.signal;
  }

  /**
   * True when the link is up. While the very first connection is still being made (and has
   * not failed yet), waits for it up to `ms`; once Redis has been reached before, or the first
   * attempt failed, a down link answers false at once.
   */
  waitUp(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.up) return Promise.resolve(true);
    if (this.everUp || this.failedBeforeUp || ms <= 0 || signal?.aborted || this.clients.some((c) => c.status === 'end')) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      // An aborted attempt (caller, deadline, lost hedge) stops waiting for the first connection at once.
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(this.up);
      };
      const timer = setTimeout(done, ms);
      timer.unref?.();
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private update(): void {
    const state: RedisLinkState = this.up ? 'up' : 'down';
    if (state === 'up') {
      this.everUp = true;
      if (this.lost.signal.aborted) this.lost = RedisLink.controller();
    } else if (!this.lost.signal.aborted) {
      this.lost.abort();
    }
    // A waiter is told about every change: up, or a failed first attempt.
    if (state === 'up' || this.failedBeforeUp) for (const w of [...this.waiters]) w();
    if (state !== this.last) {
      this.last = state;
      try {
        this.onChange?.(state);
      } catch {
        // A state handler must never break the link.
      }
    }
  }
}
