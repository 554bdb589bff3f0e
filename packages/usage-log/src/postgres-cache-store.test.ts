import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAiClient } from '@korean-together/core';
import { fakeTts } from '@korean-together/core/testing';
import { cacheStoreContract } from '../../../test-support/cache-store-contract.js';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { createPostgresCacheStore } from './postgres-cache-store.js';

// On the real server when DATABASE_URL is set, else on PGlite; each contract test gets its own
// copy of the migrated table, so sizes and evictions are exact.
const db = useMigratedDatabase('cache', { maxConnections: 8 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

cacheStoreContract('PostgresCacheStore', {
  ttlMs: 100,
  async make({ maxBytes }) {
    const table = await db.freshTable('ai_response_cache');
    const store = createPostgresCacheStore({ pool: db.poolLike, schema: db.schema, table, maxBytes });
    return { store, pass: sleep, close: async () => {} };
  },
});

describe('PostgresCacheStore', () => {
  it('stores audio as bytea with its size, and prunes expired rows', async () => {
    const table = await db.freshTable('ai_response_cache');
    const store = createPostgresCacheStore({ pool: db.poolLike, schema: db.schema, table });
    await store.set('tts:a', new Uint8Array([0, 255, 1]), 50);
    await store.set('tts:b', new Uint8Array([2]), 600_000);
    const [row] = await db.query<{ size_bytes: number; n: number }>(`SELECT size_bytes, octet_length(value) AS n FROM "${db.schema}"."${table}" WHERE key = 'tts:a'`);
    expect(row).toEqual({ size_bytes: 3 + 5, n: 3 });
    await sleep(120);
    expect(await store.prune()).toBe(1);
    expect(await db.query(`SELECT key FROM "${db.schema}"."${table}"`)).toEqual([{ key: 'tts:b' }]);
  });

  it('refuses bad options, naming the field', () => {
    expect(() => createPostgresCacheStore({ pool: db.poolLike, table: 'bad name' })).toThrow(/table/);
    expect(() => createPostgresCacheStore({ pool: db.poolLike, maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => createPostgresCacheStore({} as never)).toThrow(/pool/);
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('an outage (blackholed, then refused) skips the cache: calls still succeed from the provider and the error is reported', async () => {
    const proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    const pool = new pg.Pool({ connectionString: proxy.urlFor(db.connectionString!), max: 4, connectionTimeoutMillis: 1_000 });
    pool.on('error', () => {});
    const table = await db.freshTable('ai_response_cache');
    const store = createPostgresCacheStore({ pool, schema: db.schema, table });
    const voice = fakeTts([{ ok: true }]);
    const errors: { operation: string; timedOut: boolean }[] = [];
    const client = createAiClient({ providers: { voice }, cacheStore: store, events: { onCacheError: (e) => errors.push(e) }, policy: { cache: { tts: { ttlMs: 60_000 }, storeTimeoutMs: 100 } } });
    try {
      await client.tts.synthesize({ text: '안녕하세요' });
      // Until the write has committed, the client serves the entry itself: wait for the row.
      while ((await db.query(`SELECT 1 FROM "${db.schema}"."${table}"`)).length === 0) await sleep(10);
      await sleep(150); // and for the write's own bookkeeping to end (its timeout is 100 ms)
      expect((await client.tts.synthesize({ text: '안녕하세요' })).meta.cache).toBe('hit');
      await proxy.cut('blackhole');
      const r = await client.tts.synthesize({ text: '안녕하세요' });
      expect(r.meta.cache).toBe('miss');
      expect(voice.calls).toHaveLength(2);
      // Blackholing kills the pooled connections (an error at once) and stalls new ones (a timeout): either way the call went on.
      expect(errors[0]).toMatchObject({ operation: 'get' });
      await sleep(150); // the failed write of that answer ends (the client served it meanwhile)
      await proxy.cut('refuse');
      const refused = await client.tts.synthesize({ text: '안녕하세요' });
      expect(refused.meta.cache).toBe('miss');
      expect(voice.calls).toHaveLength(3);
      expect(errors.length).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
      await proxy.close();
      await pool.end().catch(() => {});
    }
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('honours the abort signal: nothing starts once aborted, a stalled query loses its connection, a stalled connect is left behind', async () => {
    const proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    const pool = new pg.Pool({ connectionString: proxy.urlFor(db.connectionString!), max: 2, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => {});
    let connects = 0;
    const counted = { connect: () => (connects++, pool.connect()) };
    const table = await db.freshTable('ai_response_cache');
    const store = createPostgresCacheStore({ pool: counted, schema: db.schema, table });
    try {
      const before = new AbortController();
      before.abort();
      await expect(store.get('tts:a', before.signal)).rejects.toMatchObject({ code: 'cancelled' });
      expect(connects).toBe(0);
      await store.set('tts:a', new Uint8Array([1]), 60_000);
      expect(pool.totalCount).toBe(1);
      // The pooled connection stays open but nothing comes back on it.
      await proxy.cut('partition');
      const ac = new AbortController();
      const stalled = store.get('tts:a', ac.signal);
      while (pool.idleCount > 0) await sleep(1);
      await sleep(20); // the query is on the wire
      ac.abort();
      await expect(stalled).rejects.toMatchObject({ code: 'cancelled' });
      expect(pool.totalCount).toBe(0); // destroyed, not held checked out behind the stall
      // A new connection is accepted and never answered: the abort ends the wait for it.
      const ac2 = new AbortController();
      const connecting = store.get('tts:a', ac2.signal);
      await sleep(20);
      ac2.abort();
      await expect(connecting).rejects.toMatchObject({ code: 'cancelled' });
      await proxy.restore();
      expect(await store.get('tts:a')).toEqual(new Uint8Array([1]));
    } finally {
      await proxy.close();
      await pool.end().catch(() => {});
    }
  });
});
