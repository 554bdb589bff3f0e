import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { AiError } from '../errors/ai-error.js';
import type { SharedRateLimitPolicy } from '../policy/ai-policy.js';
import type { Clock } from '../policy/clock.js';
import { LocalLimiter } from '../policy/local-limiter.js';
import { acquireSlot, bottleneckLimits, LimiterBackendFailure, type Limiter, type Release, type SharedLimiterSpec } from '../policy/rate-limit.js';
import { patchForBottleneck } from './bottleneck-redis7.js';
import { RedisLink, type RedisLinkState } from './redis-link.js';

/** Counters of one shared limiter since it was built. */
export interface SharedLimiterStats {
  /** Slots granted by the shared (Redis) limiter. */
  shared: number;
  /** Slots granted by the local limiter because Redis was unreachable (onRedisDown 'local'). */
  localFallbacks: number;
  /** Attempts refused because Redis was unreachable (onRedisDown 'closed'). */
  refused: number;
  /** Times the Redis side was rebuilt after bottleneck failed to initialise it. */
  rebuilds: number;
}

export interface SharedRateLimiterOptions {
  /** Bottleneck limiter id in Redis; its keys are `b_<id>_*`. */
  id: string;
  /** A new ioredis client for this limiter's commands (it duplicates it for its subscriber); the limiter owns and closes both. */
  makeClient: () => Redis;
  /** Extra ms a slot may outlive the attempt timeout before Redis frees it anyway. */
  slotGraceMs: number;
  /** Bottleneck datastore and connection errors that did not fail a call. */
  onError?: (error: unknown) => void;
  /** The limiter's Redis connections became unusable ('down') or usable again ('up'). */
  onStateChange?: (state: RedisLinkState) => void;
}

interface Backend {
  limiter: Bottleneck;
  connection: Bottleneck.IORedisConnection;
  link: RedisLink;
  /** Bottleneck failed to initialise the limiter in Redis; it will never recover on its own. */
  broken: boolean;
}

/**
 * A rate limit shared by every process that uses the same limiter id: bottleneck in
 * clustering mode, its state in Redis (Redis server time, so process clocks do not matter).
 * It keeps a LocalLimiter with the same limits, used while Redis is unreachable when the
 * policy says onRedisDown 'local'; with 'closed' such attempts get `rate_limited`.
 * Holds two Redis connections (commands, and a subscriber for bottleneck's capacity messages).
 */
export class SharedRateLimiter implements Limiter {
  readonly id: string;
  /** '<capability>:<providerKey>', as the client names its limiters. */
  readonly key: string;
  /** The fallback while Redis is unreachable (onRedisDown 'local'). */
  private readonly local: LocalLimiter;
  private readonly clock: Clock;
  private readonly mode: SharedRateLimitPolicy['onRedisDown'];
  private readonly connectWaitMs: number;
  private readonly expirationMs: number;
  private readonly limits: { maxConcurrent: number | null; minTime: number };
  private readonly options: SharedRateLimiterOptions;
  private backend: Backend;
  private closed = false;
  private readonly counters: SharedLimiterStats = { shared: 0, localFallbacks: 0, refused: 0, rebuilds: 0 };

  constructor(spec: SharedLimiterSpec, options: SharedRateLimiterOptions) {
    const sharedPolicy = spec.policy.shared;
    if (!sharedPolicy) throw new AiError('invalid_config', `capabilities.${spec.capability}.rateLimit.shared: missing`, { retryable: false });
    this.key = `${spec.capability}:${spec.providerKey}`;
    this.clock = spec.clock;
    this.local = new LocalLimiter(spec.policy, spec.clock);
    this.id = options.id;
    this.options = options;
    this.mode = sharedPolicy.onRedisDown;
    this.connectWaitMs = sharedPolicy.connectWaitMs;
    // Bottleneck frees a dead client's slots only through job expiration (clientTimeout drops
    // a silent client only once it holds nothing), so every shared slot carries one.
    this.expirationMs = spec.attemptTimeoutMs + options.slotGraceMs;
    this.limits = bottleneckLimits(spec.policy);
    this.backend = this.build();
  }

  /** The clustered bottleneck limiter in use now. */
  get shared(): Bottleneck {
    return this.backend.limiter;
  }

  /** Whether this limiter's Redis connections are usable right now. */
  get redisUp(): boolean {
    return this.backend.link.up;
  }

  private build(): Backend {
    const onError = (e: unknown) => {
      try {
        this.options.onError?.(e);
      } catch {
        // An error handler must never break the limiter.
      }
    };
    const client = patchForBottleneck(this.options.makeClient());
    client.on('error', () => {});
    const connection = new Bottleneck.IORedisConnection({ client, Redis });
    connection.on('error', onError);
    const subscriber = (connection as unknown as { subscriber: Redis }).subscriber;
    const link = new RedisLink([client, subscriber], this.options.onStateChange);
    const limiter = new Bottleneck({ ...this.limits, id: this.id, datastore: 'ioredis', connection, clearDatastore: false });
    limiter.on('error', onError);
    const backend: Backend = { limiter, connection, link, broken: false };
    // Bottleneck's readiness promise would otherwise be an unhandled rejection, and once
    // rejected every later job fails: mark it so the next acquire builds a fresh one.
    limiter.ready().catch((e: unknown) => {
      backend.broken = true;
      onError(e);
    });
    // Bottleneck keeps the settings of whichever process created the keys; a process started
    // with a changed policy makes its limits the shared ones (the last one started wins).
    // (Typed as returning the limiter; it returns a promise that settles once Redis has them.)
    Promise.resolve(limiter.updateSettings(this.limits) as unknown).catch(onError);
    return backend;
  }

  private rebuild(): void {
    const old = this.backend;
    this.counters.rebuilds++;
    this.backend = this.build();
    void old.connection.disconnect(false);
  }

  /**
   * A slot of the shared limit. While Redis is unreachable (or is lost during the wait):
   * a slot of the local limiter ('local'), or `rate_limited` ('closed'). A full shared limit
   * is `rate_limited` after maxWaitMs, as for a local one.
   */
  async acquire(signal: AbortSignal, maxWaitMs: number, provider: string): Promise<Release> {
    const started = this.clock.now();
    const left = () => Math.max(0, maxWaitMs - (this.clock.now() - started));
    if (this.backend.broken && this.backend.link.up && !this.closed) this.rebuild();
    const backend = this.backend;
    if (backend.link.up || (await backend.link.waitUp(Math.min(this.connectWaitMs, maxWaitMs), signal))) {
      try {
        const release = await acquireSlot(backend.limiter, this.clock, {
          signal,
          maxWaitMs: left(),
          provider,
          scope: 'shared limit',
          expirationMs: this.expirationMs,
          lost: backend.link.lostSignal(),
        });
        this.counters.shared++;
        return release;
      } catch (e) {
        if (!(e instanceof LimiterBackendFailure)) throw e;
      }
    }
    if (signal.aborted) throw signal.reason;
    if (this.mode === 'closed') {
      this.counters.refused++;
      throw new AiError('rate_limited', `${provider}: shared rate limit '${this.id}' cannot be checked (Redis unreachable); attempt refused (onRedisDown: 'closed')`, {
        provider,
        retryable: false,
      });
    }
    const release = await this.local.acquire(signal, left(), provider);
    this.counters.localFallbacks++;
    return release;
  }

  /** Slots granted through Redis, local fallbacks, refusals and rebuilds since this limiter was built. */
  stats(): SharedLimiterStats {
    return { ...this.counters };
  }

  /** Queued and running attempts of this process, shared and local fallback together. */
  counts(): { queued: number; running: number } {
    const local = this.local.counts();
    const c = this.backend.limiter.counts();
    return { queued: local.queued + (c.RECEIVED ?? 0) + (c.QUEUED ?? 0), running: local.running + (c.RUNNING ?? 0) + (c.EXECUTING ?? 0) };
  }

  /**
   * Closes both Redis connections. A slot this process still holds in Redis is freed when it
   * expires (attemptTimeoutMs + slotGraceMs after it was granted), as for a process that died.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.connection.disconnect(false);
  }
}
