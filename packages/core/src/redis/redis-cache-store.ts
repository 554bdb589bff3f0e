import type { Redis, RedisOptions } from 'ioredis';
import type { CacheStore } from '../cache/cache-store.js';
import { AiError } from '../errors/ai-error.js';
import { closeRedisClient, createRedisClient } from './redis-client.js';
import { checkRedisUrl, redisUrlFromEnv } from './redis-url.js';

export interface RedisCacheStoreOptions {
  /** Redis URL (redis:// or rediss://). Never logged or put in an error message. */
  url?: string;
  /** An ioredis client you own: used as is, never closed by `close()`. Wins over `url`. */
  client?: Redis;
  /** When neither url nor client is given: the environment variable holding the URL. Default 'REDIS_URL'. */
  urlEnv?: string;
  /** First part of every key; a ':' is added. Default 'kt:cache'. On Redis Cluster put a hash tag in it ('{kt:cache}'). */
  prefix?: string;
  /**
   * Most bytes (values plus keys) the store keeps under its prefix; past it the least recently
   * used entries are deleted. Costs one script call (a sorted set of last reads) per operation.
   * Absent: entries leave only at their TTL or by the server's own `maxmemory-policy`. Default absent.
   */
  maxBytes?: number;
  /** Extra ioredis options for a client made from a URL (over DEFAULT_REDIS_OPTIONS). Default none. */
  redisOptions?: RedisOptions;
}

// Takes one member out of the size accounting (sizes, total, lru); its value key is left alone.
const FORGET_LUA = (member: string) => `
local old = redis.call('HGET', KEYS[3], ${member})
if old then
  redis.call('DECRBY', KEYS[4], old)
  redis.call('HDEL', KEYS[3], ${member})
  redis.call('ZREM', KEYS[2], ${member})
end`;

// KEYS: value, lru (zset member -> last use), sizes (hash member -> bytes), total.
// ARGV: value, ttlMs, maxBytes, member, value-key prefix. Sizes of entries that expired on their
// own stay counted until the LRU end reaches them: the bound is kept, never exceeded.
const SET_LUA = `
local size = string.len(ARGV[1]) + string.len(ARGV[4])
local max = tonumber(ARGV[3])${FORGET_LUA('ARGV[4]')}
if size > max then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[4])
redis.call('HSET', KEYS[3], ARGV[4], size)
local total = redis.call('INCRBY', KEYS[4], size)
while total > max do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then break end
  local m = oldest[1]
  local sz = tonumber(redis.call('HGET', KEYS[3], m) or '0')
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], m)
  redis.call('DEL', ARGV[5] .. m)
  total = redis.call('DECRBY', KEYS[4], sz)
end
return 1
`;

// KEYS: value, lru. ARGV: member. A read marks the entry as just used.
const GET_LUA = `
local v = redis.call('GET', KEYS[1])
if v then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], 'XX', tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
end
return v
`;

// KEYS: value, lru, sizes, total. ARGV: member.
const DELETE_LUA = `
redis.call('DEL', KEYS[1])${FORGET_LUA('ARGV[1]')}
return 1
`;

type ScriptClient = Redis & {
  ktCacheSet(...args: (string | number | Buffer)[]): Promise<unknown>;
  ktCacheGetBuffer(...args: (string | number)[]): Promise<Buffer | null>;
  ktCacheDelete(...args: (string | number)[]): Promise<unknown>;
};

/**
 * A CacheStore on Redis, for many processes sharing one cache: each entry is one string key
 * with a millisecond TTL (PX). With `maxBytes`, a Lua script per operation also keeps the
 * entries' sizes and last reads, and deletes the least recently used past the bound.
 */
export class RedisCacheStore implements CacheStore {
  readonly prefix: string;
  readonly maxBytes: number | undefined;
  private readonly client: ScriptClient;
  private readonly owned: boolean;
  private readonly lru: string;
  private readonly sizes: string;
  private readonly total: string;

  constructor(options: RedisCacheStoreOptions = {}) {
    const prefix = options.prefix ?? 'kt:cache';
    if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 200 || /\s/.test(prefix)) {
      throw new AiError('invalid_config', 'createRedisCacheStore: prefix: must be 1..200 characters without whitespace', { retryable: false });
    }
    if (options.maxBytes !== undefined && (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0)) {
      throw new AiError('invalid_config', 'createRedisCacheStore: maxBytes: must be a positive integer number of bytes', { retryable: false });
    }
    this.maxBytes = options.maxBytes;
    this.prefix = prefix.endsWith(':') ? prefix : `${prefix}:`;
    this.lru = `${this.prefix}_lru`;
    this.sizes = `${this.prefix}_sizes`;
    this.total = `${this.prefix}_bytes`;
    let client: Redis;
    if (options.client) {
      client = options.client;
      this.owned = false;
    } else {
      const url = options.url !== undefined ? checkRedisUrl(options.url, 'createRedisCacheStore: url') : redisUrlFromEnv(options.urlEnv ?? 'REDIS_URL', 'createRedisCacheStore');
      client = createRedisClient(url, options.redisOptions);
      this.owned = true;
    }
    client.defineCommand('ktCacheSet', { numberOfKeys: 4, lua: SET_LUA });
    client.defineCommand('ktCacheGet', { numberOfKeys: 2, lua: GET_LUA });
    client.defineCommand('ktCacheDelete', { numberOfKeys: 4, lua: DELETE_LUA });
    this.client = client as ScriptClient;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const k = this.prefix + key;
    const v = this.maxBytes === undefined ? await this.client.getBuffer(k) : await this.client.ktCacheGetBuffer(k, this.lru, key);
    return v === null ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  async set(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    const k = this.prefix + key;
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const ttl = Math.max(1, Math.round(ttlMs));
    if (this.maxBytes === undefined) await this.client.set(k, buf, 'PX', ttl);
    else await this.client.ktCacheSet(k, this.lru, this.sizes, this.total, buf, ttl, this.maxBytes, key, this.prefix);
  }

  async delete(key: string): Promise<void> {
    const k = this.prefix + key;
    if (this.maxBytes === undefined) await this.client.del(k);
    else await this.client.ktCacheDelete(k, this.lru, this.sizes, this.total, key);
  }

  /** Closes the client when the store made it (from a URL); a client you passed stays open. Never throws. */
  async close(): Promise<void> {
    if (this.owned) await closeRedisClient(this.client);
  }
}

/** A RedisCacheStore (see RedisCacheStoreOptions). */
export function createRedisCacheStore(options: RedisCacheStoreOptions = {}): RedisCacheStore {
  return new RedisCacheStore(options);
}
