import Bottleneck from 'bottleneck';
import { AiError } from '../errors/ai-error.js';
import type { Capability } from '../spec/types.js';
import type { RateLimitPolicy } from './ai-policy.js';
import type { Clock } from './clock.js';

/** Gives back the slot taken by `acquire`. Idempotent. */
export type Release = () => void;

/**
 * What the engine needs from a per-provider limiter: LocalLimiter (in-process), RateLimiter
 * (bottleneck, with a custom backend), SharedRateLimiter (Redis, from the ./redis entry).
 */
export interface Limiter {
  /**
   * Waits for a slot at most `maxWaitMs`; rejects with `rate_limited` (not retryable on this
   * provider, so the chain moves on) when none frees in time, or with the signal's reason on abort.
   */
  acquire(signal: AbortSignal, maxWaitMs: number, provider: string): Promise<Release>;
  /**
   * A slot at once when one is free and nobody waits, else undefined (then `acquire` waits).
   * Optional: it lets a free slot cost no promise and no AbortSignal.
   */
  tryAcquire?(): Release | undefined;
  /** Attempts holding a slot, and attempts waiting for one (this process). */
  counts(): { queued: number; running: number };
  /** Stops the limiter and frees what it holds (timers, connections). */
  close?(): Promise<void>;
}

/** Extra bottleneck options, e.g. `{ datastore: 'ioredis', clientOptions, id }` for a limit shared across processes. */
export type LimiterBackendOptions = Omit<Bottleneck.ConstructorOptions, 'maxConcurrent' | 'minTime'>;

/**
 * A limiter's backend failed or was lost while an attempt waited (e.g. Redis went away).
 * Internal signal between `acquireSlot` and the limiters: a local limiter reports it as
 * `rate_limited`, a shared one falls back to its Redis-down behaviour.
 */
export class LimiterBackendFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LimiterBackendFailure';
  }
}

/** One wait for a bottleneck slot. */
export interface SlotRequest {
  signal: AbortSignal;
  /** Longest wait for a slot, ms; then `rate_limited`. */
  maxWaitMs: number;
  /** Provider key, for errors. */
  provider: string;
  /** Which limit, for errors: 'local limit', 'shared limit'. */
  scope: string;
  /** Bottleneck job expiration, ms: a slot held longer is freed by the datastore. */
  expirationMs?: number;
  /** Aborts the wait when the backend is lost; the wait then rejects with LimiterBackendFailure. */
  lost?: AbortSignal;
}

/**
 * Waits for a slot of `limiter`: resolves with its Release once bottleneck runs the job, or
 * rejects with `rate_limited` after `maxWaitMs`, with the signal's reason when it aborts, or
 * with LimiterBackendFailure when the limiter fails or `lost` aborts. The slot is held (the
 * bottleneck job stays running) until Release is called.
 */
export function acquireSlot(limiter: Bottleneck, clock: Clock, req: SlotRequest): Promise<Release> {
  const { signal, maxWaitMs, provider, scope, lost } = req;
  if (signal.aborted) return Promise.reject(signal.reason);
  if (lost?.aborted) return Promise.reject(new LimiterBackendFailure(`${provider}: ${scope} unavailable`));
  return new Promise<Release>((resolve, reject) => {
    let done = false;
    let releaseSlot: () => void = () => {};
    const held = new Promise<void>((r) => (releaseSlot = r));
    const finish = () => {
      done = true;
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      lost?.removeEventListener('abort', onLost);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(signal.reason);
    };
    const onLost = () => {
      if (done) return;
      finish();
      reject(new LimiterBackendFailure(`${provider}: ${scope} lost its backend while waiting for a slot`));
    };
    const timer = clock.setTimeout(() => {
      if (done) return;
      finish();
      reject(new AiError('rate_limited', `${provider}: no rate-limit slot free within ${maxWaitMs} ms (${scope})`, { provider, retryable: false }));
    }, maxWaitMs);
    signal.addEventListener('abort', onAbort, { once: true });
    lost?.addEventListener('abort', onLost, { once: true });
    const job = () => {
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
    };
    const scheduled = req.expirationMs !== undefined ? limiter.schedule({ expiration: req.expirationMs }, job) : limiter.schedule(job);
    scheduled.catch((e: unknown) => {
      if (done) return;
      finish();
      const name = e instanceof Error ? e.message : 'error';
      reject(new LimiterBackendFailure(`${provider}: ${scope} failed: ${name.slice(0, 200)}`, { cause: e }));
    });
  });
}

/**
 * A per-provider concurrency and rate limit on bottleneck, for `createAiClient({ limiterBackend })`
 * (bottleneck options such as another datastore); plain local limits use LocalLimiter, which
 * is far cheaper per call. A slot is held for the whole attempt; `perSecond` spaces attempt
 * starts evenly (minTime = 1000 / perSecond), so no one-second window sees more than
 * perSecond starts (plus one at the window's edge); above 1000/s on the local datastore, see
 * `localBottleneckLimits`.
 */
export class RateLimiter implements Limiter {
  readonly limiter: Bottleneck;

  constructor(
    readonly key: string,
    policy: RateLimitPolicy,
    protected readonly clock: Clock,
    backend: LimiterBackendOptions = {},
  ) {
    // Another datastore (Redis) refills a reservoir only at its heartbeat: it keeps minTime.
    const local = backend.datastore === undefined || backend.datastore === 'local';
    this.limiter = new Bottleneck({ ...(local ? localBottleneckLimits(policy) : bottleneckLimits(policy)), ...backend });
    // Bottleneck emits 'error' for datastore problems; an unhandled 'error' would throw.
    this.limiter.on('error', () => {});
  }

  /**
   * Waits for a slot, at most `maxWaitMs`, and rejects with `rate_limited` (not retryable on
   * this provider: the chain moves on) when none frees up in time, or with the signal's
   * reason when it aborts.
   */
  acquire(signal: AbortSignal, maxWaitMs: number, provider: string): Promise<Release> {
    return acquireSlot(this.limiter, this.clock, { signal, maxWaitMs, provider, scope: 'local limit' }).catch((e: unknown) => {
      if (e instanceof LimiterBackendFailure) {
        throw new AiError('rate_limited', `${provider}: rate limiter failed: ${e.message}`, { provider, retryable: false, cause: e.cause });
      }
      throw e;
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

/** Bottleneck spaces starts by a whole number of ms: above this many starts a second, minTime cannot express the rate. */
const MAX_MIN_TIME_RATE = 1000;
/** Above MAX_MIN_TIME_RATE, the local datastore counts starts in windows of this many ms instead. */
const RESERVOIR_WINDOW_MS = 10;

/** Bottleneck's settings for a policy's limits. */
export interface BottleneckLimits {
  maxConcurrent: number | null;
  minTime: number;
  reservoir?: number;
  reservoirRefreshAmount?: number;
  reservoirRefreshInterval?: number;
  heartbeatInterval?: number;
}

/** The bottleneck settings of a policy's limits: maxConcurrent (null: none) and minTime = ceil(1000 / perSecond) ms. */
export function bottleneckLimits(policy: Pick<RateLimitPolicy, 'maxConcurrent' | 'perSecond'>): { maxConcurrent: number | null; minTime: number } {
  return {
    maxConcurrent: policy.maxConcurrent ?? null,
    minTime: policy.perSecond ? Math.ceil(1000 / policy.perSecond) : 0,
  };
}

/**
 * The settings for bottleneck's local datastore. Up to 1000 per second, bottleneckLimits'.
 * Above (starts less than 1 ms apart, which minTime cannot say: minTime 1 would mean 1000/s
 * whatever was asked), minTime is 0 and a reservoir of floor(perSecond / 100) starts is
 * refilled every 10 ms (the datastore's heartbeat set to match, or it refills every 250 ms),
 * so a one-second window sees at most perSecond + perSecond / 100 starts.
 */
export function localBottleneckLimits(policy: Pick<RateLimitPolicy, 'maxConcurrent' | 'perSecond'>): BottleneckLimits {
  const perSecond = policy.perSecond;
  if (perSecond === undefined || perSecond <= MAX_MIN_TIME_RATE) return bottleneckLimits(policy);
  const amount = Math.floor((perSecond * RESERVOIR_WINDOW_MS) / 1000);
  return {
    maxConcurrent: policy.maxConcurrent ?? null,
    minTime: 0,
    reservoir: amount,
    reservoirRefreshAmount: amount,
    reservoirRefreshInterval: RESERVOIR_WINDOW_MS,
    heartbeatInterval: RESERVOIR_WINDOW_MS,
  };
}

/** What `createAiClient` tells a SharedRateLimits about one rate-limited provider. */
export interface SharedLimiterSpec {
  capability: Capability;
  providerKey: string;
  /** The capability's rateLimit; `shared` is set. */
  policy: RateLimitPolicy;
  /** The capability's attemptTimeoutMs: the longest a slot is held. */
  attemptTimeoutMs: number;
  clock: Clock;
}

/**
 * Builds the limiters of providers whose policy rateLimit has `shared`, so the limit holds
 * across processes. `createRedisRateLimits()` from `@korean-together/core/redis` is the
 * implementation; pass it as `createAiClient({ sharedRateLimits })`.
 */
export interface SharedRateLimits {
  limiterFor(spec: SharedLimiterSpec): Limiter;
  /** Closes every limiter it built and the connections it opened. */
  close(): Promise<void>;
}
