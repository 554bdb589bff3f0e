import type { Redis, RedisOptions } from 'ioredis';
import { AiError } from '../errors/ai-error.js';
import type { SharedLimiterSpec, SharedRateLimits } from '../policy/rate-limit.js';
import type { Capability } from '../spec/types.js';
import { createRedisClient } from './redis-client.js';
import type { RedisLinkState } from './redis-link.js';
import { checkRedisUrl, redisUrlFromEnv } from './redis-url.js';
import { SharedRateLimiter, type SharedLimiterStats } from './shared-rate-limiter.js';

export interface RedisRateLimitsOptions {
  /**
   * Redis URL (redis:// or rediss://) for every shared limit; wins over the policy's
   * `redisUrlEnv`. Never logged or put in an error message. Default: the URL in the
   * environment variable the policy names (`shared.redisUrlEnv`, default REDIS_URL).
   */
  url?: string;
  /**
   * An ioredis client whose settings the limiters copy: each limiter makes its own two
   * connections with `client.duplicate()`. Your client is never used for commands and never
   * closed. Wins over `url`.
   */
  client?: Redis;
  /** Extra ioredis options for connections made from a URL (over DEFAULT_REDIS_OPTIONS). Default none. */
  redisOptions?: RedisOptions;
  /** Where the policy's `redisUrlEnv` is looked up. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * How long a slot may outlive the capability's attemptTimeoutMs before Redis frees it
   * anyway (covers a release lost with the connection), ms. Default 2000.
   */
  slotGraceMs?: number;
  /** A limiter's Redis connections went down or came back. Must not throw. */
  onRedisStateChange?: (e: { limiterId: string; state: RedisLinkState }) => void;
  /** A Redis or bottleneck error that did not fail a call (the limiter fell back or retried). Must not throw. */
  onError?: (e: { limiterId: string; error: unknown }) => void;
}

/**
 * The SharedRateLimits of `createAiClient({ sharedRateLimits })` on Redis: one clustered
 * bottleneck limiter per (capability, provider) whose policy rateLimit has `shared`, with the
 * id `<keyPrefix>:<capability>:<providerKey>`. The client closes its limiters; `close()`
 * closes whatever is still open (call it when the process shuts down).
 */
export class RedisRateLimits implements SharedRateLimits {
  private readonly limiters = new Set<SharedRateLimiter>();
  private closed = false;

  constructor(private readonly options: RedisRateLimitsOptions = {}) {
    if (options.url !== undefined) checkRedisUrl(options.url, 'createRedisRateLimits: url');
    if (options.client !== undefined && typeof (options.client as { duplicate?: unknown }).duplicate !== 'function') {
      throw new AiError('invalid_config', 'createRedisRateLimits: client: must be an ioredis Redis client (Redis Cluster clients are not supported)', { retryable: false });
    }
    if (options.slotGraceMs !== undefined && !(Number.isInteger(options.slotGraceMs) && options.slotGraceMs >= 0)) {
      throw new AiError('invalid_config', 'createRedisRateLimits: slotGraceMs: must be an integer number of milliseconds >= 0', { retryable: false });
    }
  }

  /** The limiter id in Redis for one provider: `<keyPrefix>:<capability>:<providerKey>`. */
  static limiterId(keyPrefix: string, capability: Capability, providerKey: string): string {
    return `${keyPrefix}:${capability}:${providerKey}`;
  }

  limiterFor(spec: SharedLimiterSpec): SharedRateLimiter {
    const where = `capabilities.${spec.capability}.rateLimit.shared`;
    if (this.closed) throw new AiError('invalid_config', `${where}: the RedisRateLimits is closed`, { retryable: false });
    const shared = spec.policy.shared;
    if (!shared) throw new AiError('invalid_config', `${where}: missing`, { retryable: false });
    const { client, redisOptions } = this.options;
    let makeClient: () => Redis;
    // Bottleneck waits for 'ready' before its first command, so its connections must connect
    // by themselves (lazyConnect would leave them waiting forever).
    if (client) {
      makeClient = () => client.duplicate({ lazyConnect: false });
    } else {
      const url = this.options.url ?? redisUrlFromEnv(shared.redisUrlEnv, `${where}.redisUrlEnv`, this.options.env);
      makeClient = () => createRedisClient(url, { ...redisOptions, lazyConnect: false });
    }
    const id = RedisRateLimits.limiterId(shared.keyPrefix, spec.capability, spec.providerKey);
    const limiter = new SharedRateLimiter(spec, {
      id,
      makeClient,
      slotGraceMs: this.options.slotGraceMs ?? 2_000,
      onError: (error) => this.options.onError?.({ limiterId: id, error }),
      onStateChange: (state) => this.options.onRedisStateChange?.({ limiterId: id, state }),
    });
    // Several clients may use one RedisRateLimits; keep every limiter for close().
    this.limiters.add(limiter);
    return limiter;
  }

  /** Counters per limiter id (summed over clients sharing this object). */
  stats(): Record<string, SharedLimiterStats> {
    const out: Record<string, SharedLimiterStats> = {};
    for (const l of this.limiters.values()) {
      const s = l.stats();
      const acc = (out[l.id] ??= { shared: 0, localFallbacks: 0, refused: 0, rebuilds: 0 });
      acc.shared += s.shared;
      acc.localFallbacks += s.localFallbacks;
      acc.refused += s.refused;
      acc.rebuilds += s.rebuilds;
    }
    return out;
  }

  /** Closes every limiter built here (idempotent; a limiter the client already closed is skipped). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.limiters].map((l) => l.close()));
  }
}

/**
 * Shared rate limits on Redis for `createAiClient({ sharedRateLimits })`:
 *
 * ```ts
 * import { createRedisRateLimits } from '@korean-together/core/redis';
 * const sharedRateLimits = createRedisRateLimits(); // URL from the env var the policy names (REDIS_URL)
 * const client = createAiClient({ policy, providers, sharedRateLimits });
 * // on shutdown: await client.close(); await sharedRateLimits.close();
 * ```
 */
export function createRedisRateLimits(options: RedisRateLimitsOptions = {}): RedisRateLimits {
  return new RedisRateLimits(options);
}
