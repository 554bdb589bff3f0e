import { AiError } from '../errors/ai-error.js';
import type { CacheStore } from './cache-store.js';

export interface MemoryCacheStoreOptions {
  /** Most bytes held (values plus keys); the least recently used entries are evicted past it. Default 67,108,864 (64 MiB). */
  maxBytes?: number;
  /** Time source for expiry, epoch ms. Default Date.now. */
  now?: () => number;
}

interface Entry {
  value: Uint8Array;
  expiresAt: number;
  bytes: number;
}

/** What a key costs besides its value: its UTF-16 code units and the entry's bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * A cache store in this process's memory: least recently used first out, bounded by bytes, so
 * a TTS cache of long lines cannot grow past its budget however many entries it holds. An entry
 * larger than the whole budget is not kept; an expired one is dropped when next read or when
 * the LRU end reaches it.
 */
export class MemoryCacheStore implements CacheStore {
  readonly maxBytes: number;
  private readonly now: () => number;
  // A Map iterates in insertion order: re-inserting on every read keeps it in LRU order.
  private readonly entries = new Map<string, Entry>();
  private usedBytes = 0;

  constructor(options: MemoryCacheStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? 67_108_864;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new AiError('invalid_config', 'MemoryCacheStore: maxBytes: must be a positive integer number of bytes', { retryable: false });
    }
    this.maxBytes = maxBytes;
    this.now = options.now ?? Date.now;
  }

  /** Bytes held now (values, keys and overhead). */
  get bytes(): number {
    return this.usedBytes;
  }

  /** Entries held now (expired ones not yet dropped included). */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= this.now()) {
      this.usedBytes -= e.bytes;
      return undefined;
    }
    this.entries.set(key, e);
    return e.value;
  }

  async set(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    this.remove(key);
    const bytes = value.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes || ttlMs <= 0) return;
    // Evict from the least recently used end until the new entry fits.
    for (const [k, e] of this.entries) {
      if (this.usedBytes + bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.usedBytes -= e.bytes;
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs, bytes });
    this.usedBytes += bytes;
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.usedBytes = 0;
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.usedBytes -= e.bytes;
  }
}
