// The one small interface every cache store implements (memory here, Redis in ./redis,
// Postgres in @korean-together/usage-log). Values are opaque bytes: the call path encodes
// what it stores (cache-entry.ts), so a store never sees a request or learner content, only a
// hashed key.

/** Where the SDK's cache keeps answers. Every operation may fail or be slow: the call path bounds it and carries on without the cache. */
export interface CacheStore {
  /** The value stored under `key`, or undefined when there is none or it has expired. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds (replacing what was there). */
  set(key: string, value: Uint8Array, ttlMs: number, signal?: AbortSignal): Promise<void>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Releases what the store owns (connections). Optional; never rejects. */
  close?(): Promise<void>;
}

/** A cache operation, as events name it. */
export type CacheOperation = 'get' | 'set';
