import { describe, expect, it } from 'vitest';
import { cacheStoreContract } from '../../../../test-support/cache-store-contract.js';
import { MemoryCacheStore } from './memory-cache-store.js';

let now = Date.UTC(2026, 11, 1);

cacheStoreContract('MemoryCacheStore', {
  ttlMs: 1_000,
  async make({ maxBytes }) {
    // Keys count as two bytes per UTF-16 unit plus a fixed overhead: 3,600 bytes hold three 1,000-byte values.
    const store = new MemoryCacheStore({ maxBytes, now: () => now });
    return { store, pass: async (ms) => void (now += ms), close: () => store.close() };
  },
});

describe('MemoryCacheStore', () => {
  it('counts the bytes it holds and gives them back on delete and eviction', async () => {
    const s = new MemoryCacheStore({ maxBytes: 10_000, now: () => now });
    await s.set('k', new Uint8Array(1_000), 1_000);
    const one = s.bytes;
    expect(one).toBeGreaterThanOrEqual(1_000);
    await s.set('k', new Uint8Array(1_000), 1_000);
    expect(s.bytes).toBe(one);
    await s.delete('k');
    expect(s.bytes).toBe(0);
  });

  it('refuses a maxBytes that is not a positive integer, naming the field', () => {
    expect(() => new MemoryCacheStore({ maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => new MemoryCacheStore({ maxBytes: 1.5 })).toThrow(/maxBytes/);
  });
});
