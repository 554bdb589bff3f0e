import Bottleneck from 'bottleneck';
import { AiError } from '../errors/ai-error.js';
import type { RateLimitPolicy } from './ai-policy.js';
import type { Clock } from './clock.js';

/** Gives back the slot taken by `acquire`. Idempotent. */
export type Release = () => void;

/** Extra bottleneck options, e.g. `{ datastore: 'ioredis', clientOptions, id }` for a limit shared across processes. */
export type LimiterBackendOptions = Omit<Bottleneck.ConstructorOptions, 'maxConcurrent' | 'minTime'>;

/**
 * A per-provider concurrency and rate limit, on bottleneck. Only built when the policy
 * configures one: bottleneck's scheduler costs milliseconds per job, which an unlimited
 * provider must not pay. A slot is held for the whole attempt; `perSecond` spaces attempt
 * starts evenly (minTime = 1000 / perSecond), so no one-second window sees more than
 * perSecond starts (plus one at the window's edge).
 */
export class RateLimiter {
  readonly limiter: Bottleneck;

  constructor(
    readonly key: string,
    policy: RateLimitPolicy,
    private readonly clock: Clock,
    backend: LimiterBackendOptions = {},
  ) {
    this.limiter = new Bottleneck({
      maxConcurrent: policy.maxConcurrent ?? null,
      minTime: policy.perSecond ? Math.ceil(1000 / policy.perSecond) : 0,
      ...backend,
    });
    // Bottleneck emits 'error' for datastore problems; an unhandled 'error' would throw.
    this.limiter.on('error', () => {});
  }

  /**
   * Waits for a slot, at most `maxWaitMs`, and rejects with `rate_limited` (not retryable on
   * this provider: the chain moves on) when none frees up in time, or with the signal's
   * reason when it aborts.
   */
  acquire(signal: AbortSignal, maxWaitMs: number, provider: string): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      let done = false;
      let releaseSlot: () => void = () => {};
      const held = new Promise<void>((r) => (releaseSlot = r));
      const finish = () => {
        done = true;
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (done) return;
        finish();
        reject(signal.reason);
      };
      const timer = this.clock.setTimeout(() => {
        if (done) return;
        finish();
        reject(
          new AiError('rate_limited', `${provider}: no rate-limit slot free within ${maxWaitMs} ms (local limit)`, {
            provider,
            retryable: false,
          }),
        );
      }, maxWaitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.limiter
        .schedule(() => {
          // The caller gave up while queued: hand the slot straight back.
          if (done) return Promise.resolve();
          finish();
          let released = false;
          resolve(() => {
            if (!released) {
              released = true;
              releaseSlot();
            }
          });
          return held;
        })
        .catch((e: unknown) => {
          if (done) return;
          finish();
          reject(new AiError('rate_limited', `${provider}: rate limiter failed: ${(e as Error)?.message ?? 'error'}`, { provider, retryable: false, cause: e }));
        });
    });
  }

  /** Counts of queued and running attempts. */
  counts(): { queued: number; running: number } {
    const c = this.limiter.counts();
    return { queued: (c.RECEIVED ?? 0) + (c.QUEUED ?? 0), running: (c.RUNNING ?? 0) + (c.EXECUTING ?? 0) };
  }

  async close(): Promise<void> {
    await this.limiter.disconnect(false).catch(() => {});
  }
}
