import { AiError } from '../errors/ai-error.js';
import type { RateLimitPolicy } from './ai-policy.js';
import type { Clock } from './clock.js';

const CLOCK_TICK_MS = 1;

/** Gives back a slot. Idempotent. */
export type SlotRelease = () => void;

interface Waiter {
  resolve(release: SlotRelease): void;
  reject(error: unknown): void;
  done: boolean;
}

/**
 * An in-process concurrency + start-rate limit: at most `maxConcurrent` holders at once, and
 * starts spaced at least 1000 / perSecond ms apart, first come first served.
 *
 * Why not bottleneck here: its local datastore yields to the event loop several times per
 * job, which measured 1.2 s p50 added latency with 1,000 calls in flight on this project's
 * bench (docs/BENCHMARKS.md); a free slot here costs one counter increment. Bottleneck is
 * still what a limit shared across processes runs on (its Redis clustering).
 */
export class LocalLimiter {
  private running = 0;
  private nextStartAt = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private pumpTimer: unknown;
  private readonly maxConcurrent: number;
  private readonly spacingMs: number;

  constructor(
    policy: Pick<RateLimitPolicy, 'maxConcurrent' | 'perSecond'>,
    private readonly clock: Clock,
  ) {
    this.maxConcurrent = policy.maxConcurrent ?? Infinity;
    this.spacingMs = policy.perSecond ? 1000 / policy.perSecond : 0;
  }

  /** Attempts holding a slot, and attempts waiting for one. */
  counts(): { running: number; queued: number } {
    let queued = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]!.done) queued++;
    return { running: this.running, queued };
  }

  /** A slot at once when one is free and nobody is queued; undefined otherwise. */
  tryAcquire(): SlotRelease | undefined {
    return this.head === this.queue.length && this.canStart() ? this.start() : undefined;
  }

  /**
   * Waits for a slot at most `maxWaitMs`: rejects with `rate_limited` (not retryable on this
   * provider, so the chain moves on) when none frees in time, or with the signal's reason on abort.
   */
  acquire(signal: AbortSignal, maxWaitMs: number, provider: string): Promise<SlotRelease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.head === this.queue.length && this.canStart()) return Promise.resolve(this.start());
    return new Promise<SlotRelease>((resolve, reject) => {
      const finish = () => {
        waiter.done = true;
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        done: false,
        resolve: (release) => {
          finish();
          resolve(release);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      const onAbort = () => waiter.reject(signal.reason);
      const timer = this.clock.setTimeout(
        () => waiter.reject(new AiError('rate_limited', `${provider}: no rate-limit slot free within ${maxWaitMs} ms (local limit)`, { provider, retryable: false })),
        maxWaitMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  // Clocks tick in whole milliseconds: a start may come up to 1 ms before its slot on the
  // spacing grid, or perSecond above 1000 could never be reached. The grid itself never
  // drifts, so a one-second window still sees at most perSecond starts, plus one.
  private canStart(): boolean {
    return this.running < this.maxConcurrent && this.clock.now() + CLOCK_TICK_MS >= this.nextStartAt;
  }

  private start(): SlotRelease {
    this.running++;
    if (this.spacingMs) this.nextStartAt = Math.max(this.clock.now(), this.nextStartAt) + this.spacingMs;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!;
      if (w.done) {
        this.head++;
        continue;
      }
      if (!this.canStart()) break;
      this.head++;
      w.resolve(this.start());
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    // Spacing-bound waiters need a wake-up; slot-bound ones are woken by a release.
    if (this.head < this.queue.length && this.running < this.maxConcurrent && this.pumpTimer === undefined) {
      this.pumpTimer = this.clock.setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, Math.max(0, this.nextStartAt - CLOCK_TICK_MS - this.clock.now()));
    }
  }
}
