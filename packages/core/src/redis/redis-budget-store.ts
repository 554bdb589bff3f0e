import type { Redis, RedisOptions } from 'ioredis';
import type { BudgetLimit, BudgetStore, ReserveRequest, ReserveResult } from '../budget/budget-store.js';
import { AiError } from '../errors/ai-error.js';
import { RESERVE_LUA, SETTLE_LUA, USAGE_LUA } from './budget-scripts.js';
import { closeRedisClient, createRedisClient } from './redis-client.js';
import { checkRedisUrl, redisErrorText, redisUrlFromEnv } from './redis-url.js';

export interface RedisBudgetStoreOptions {
  /** Redis URL (redis:// or rediss://). Never logged or put in an error message. */
  url?: string;
  /** An ioredis client you own: used as is, never closed by `close()`. Wins over `url`. */
  client?: Redis;
  /** When neither url nor client is given: the environment variable holding the URL. Default 'REDIS_URL'. */
  urlEnv?: string;
  /**
   * First part of every key; a ':' is added. Processes that share budgets use the same prefix.
   * On Redis Cluster put a hash tag in it ('{kt:budget}') so a reservation's keys share a slot.
   * Default 'kt:budget'.
   */
  prefix?: string;
  /** Longest wait for one store operation before it fails (the call is then refused with `unavailable`), ms. Default 2000. */
  operationTimeoutMs?: number;
  /**
   * How long an expired (never settled) reservation stays findable, so that a late settle
   * still counts its spend, ms. It holds no room meanwhile. Default 3,600,000 (1 hour).
   */
  keepExpiredMs?: number;
  /** Extra ioredis options for a client made from a URL (over DEFAULT_REDIS_OPTIONS). Default none. */
  redisOptions?: RedisOptions;
}

type ScriptClient = Redis & {
  ktBudgetReserve(...args: (string | number)[]): Promise<unknown>;
  ktBudgetSettle(...args: (string | number)[]): Promise<unknown>;
  ktBudgetUsage(...args: (string | number)[]): Promise<unknown>;
};

/** Reservation ids this process made, with their limit keys, so settle is one round trip. */
const KNOWN_LIMIT = 50_000;

/**
 * A BudgetStore on Redis, shared by every process that uses the same Redis and prefix.
 * reserve / settle / release are single Lua scripts (atomic on the server); reservations that
 * are never settled (a crashed process) stop holding room at their expiry, measured in Redis
 * server time. Integer micro-dollars throughout.
 */
export class RedisBudgetStore implements BudgetStore {
  readonly prefix: string;
  private readonly keyPrefix: string;
  private readonly client: ScriptClient;
  private readonly owned: boolean;
  private readonly timeoutMs: number;
  private readonly keepMs: number;
  private readonly known = new Map<string, string[]>();
  private closed = false;

  constructor(options: RedisBudgetStoreOptions = {}) {
    const prefix = options.prefix ?? 'kt:budget';
    if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 200 || /\s/.test(prefix)) {
      throw new AiError('invalid_config', 'createRedisBudgetStore: prefix: must be 1..200 characters without whitespace', { retryable: false });
    }
    this.prefix = prefix.endsWith(':') ? prefix : `${prefix}:`;
    this.timeoutMs = positiveInt(options.operationTimeoutMs, 2_000, 'operationTimeoutMs');
    this.keepMs = positiveInt(options.keepExpiredMs, 3_600_000, 'keepExpiredMs');
    let client: Redis;
    if (options.client) {
      client = options.client;
      this.owned = false;
    } else {
      const url = options.url !== undefined ? checkRedisUrl(options.url, 'createRedisBudgetStore: url') : redisUrlFromEnv(options.urlEnv ?? 'REDIS_URL', 'createRedisBudgetStore');
      client = createRedisClient(url, options.redisOptions);
      this.owned = true;
    }
    client.defineCommand('ktBudgetReserve', { lua: RESERVE_LUA });
    client.defineCommand('ktBudgetSettle', { lua: SETTLE_LUA });
    client.defineCommand('ktBudgetUsage', { lua: USAGE_LUA });
    this.client = client as ScriptClient;
    // ioredis prepends its own keyPrefix option to KEYS (not to ARGV): settle compares full names.
    this.keyPrefix = `${client.options.keyPrefix ?? ''}${this.prefix}`;
  }

  private totalsKey(key: string): string {
    return `${this.prefix}k:${key}`;
  }

  private expiryKey(key: string): string {
    return `${this.prefix}z:${key}`;
  }

  private reservationKey(id: string): string {
    return `${this.prefix}r:${id}`;
  }

  /** Runs one store operation with the timeout; failures become `unavailable` naming the operation, never the URL. */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new AiError('unavailable', `Redis budget store (prefix '${this.prefix}'): ${op} after close()`, { retryable: false });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new AiError('unavailable', `Redis budget store (prefix '${this.prefix}'): ${op} timed out after ${this.timeoutMs} ms`, { retryable: true })), this.timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (e) {
      if (e instanceof AiError) throw e;
      throw new AiError('unavailable', `Redis budget store (prefix '${this.prefix}'): ${op} failed: ${redisErrorText(e)}`, { retryable: true, cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const amount = micro(req.amountMicro, 'amountMicro', Math.ceil);
    const ttlMs = micro(req.reservationTtlMs, 'reservationTtlMs', Math.ceil);
    if (req.limits.length === 0) return { ok: true };
    const keys = [this.reservationKey(req.id)];
    const args: (string | number)[] = [req.id, String(amount), String(Math.max(1, ttlMs)), String(this.keepMs)];
    for (const l of req.limits) {
      keys.push(this.totalsKey(l.key), this.expiryKey(l.key));
      args.push(l.key, String(micro(l.capMicro, 'capMicro', Math.floor)), String(Math.max(1, micro(l.ttlMs, 'ttlMs', Math.ceil))));
    }
    const reply = (await this.run('reserve', () => this.client.ktBudgetReserve(keys.length, ...keys, ...args))) as [number, number?, string?];
    if (reply[0] === 1) {
      this.remember(req.id, req.limits);
      return { ok: true };
    }
    const limit = req.limits[(reply[1] ?? 1) - 1]!;
    return { ok: false, key: limit.key, capMicro: limit.capMicro, usedMicro: Number(reply[2] ?? 0) };
  }

  async settle(id: string, actualMicro: number): Promise<void> {
    const actual = micro(actualMicro, 'actualMicro', Math.round);
    const settle = (limitKeys: string[]) => {
      const keys = [this.reservationKey(id)];
      for (const k of limitKeys) keys.push(this.totalsKey(k), this.expiryKey(k));
      return this.client.ktBudgetSettle(keys.length, ...keys, id, String(actual), this.keyPrefix) as Promise<[number, string?]>;
    };
    await this.run('settle', async () => {
      // Another process's reservation (or one this process forgot): the first reply names its limits.
      let reply = await settle(this.known.get(id) ?? []);
      if (reply[0] === -1) reply = await settle((JSON.parse(reply[1] ?? '[]') as [string, string][]).map(([k]) => k));
      if (reply[0] === -1) throw new Error('reservation limits changed during settle');
    });
    this.known.delete(id);
  }

  async release(id: string): Promise<void> {
    await this.settle(id, 0);
  }

  async usage(key: string): Promise<{ spentMicro: number; reservedMicro: number }> {
    const [spent, reserved] = (await this.run('usage', () => this.client.ktBudgetUsage(2, this.totalsKey(key), this.expiryKey(key)))) as [string, string];
    return { spentMicro: Number(spent), reservedMicro: Number(reserved) };
  }

  /** Quits the Redis client when this store created it (a client you passed stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.known.clear();
    if (this.owned) await closeRedisClient(this.client);
  }

  private remember(id: string, limits: BudgetLimit[]): void {
    // Bounded: a reservation never settled by this process must not grow the map forever.
    if (this.known.size >= KNOWN_LIMIT) this.known.delete(this.known.keys().next().value!);
    this.known.set(
      id,
      limits.map((l) => l.key),
    );
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new AiError('invalid_config', `createRedisBudgetStore: ${name}: must be a positive integer number of milliseconds`, { retryable: false });
  }
  return value;
}

/** A non-negative amount (micro-dollars or ms) as an integer, rounded the safe way for its use. */
function micro(value: number, name: string, round: (x: number) => number): number {
  const n = round(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new AiError('invalid_request', `Redis budget store: ${name} must be a non-negative number below 2^53, got ${String(value)}`, { retryable: false });
  }
  return n;
}

/**
 * A BudgetStore on Redis for `createAiClient({ budgetStore })`, so per-session and per-day
 * caps hold across every process using the same Redis and prefix.
 *
 * ```ts
 * import { createRedisBudgetStore } from '@korean-together/core/redis';
 * const budgetStore = createRedisBudgetStore({ url: process.env.REDIS_URL });
 * ```
 */
export function createRedisBudgetStore(options: RedisBudgetStoreOptions = {}): RedisBudgetStore {
  return new RedisBudgetStore(options);
}
