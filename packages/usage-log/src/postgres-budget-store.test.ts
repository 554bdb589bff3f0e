import fc from 'fast-check';
import pg from 'pg';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createAiClient, definePolicy, isAiError, MemoryBudgetStore, type BudgetLimit } from '@korean-together/core';
import { reserveAndDie, spendTogether, untilGranted, type BudgetStoreTarget } from '../../../test-support/budget-processes.js';
import type { PoolLike } from '../../../test-support/db.js';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { createPostgresBudgetStore, type PostgresBudgetStore } from './postgres-budget-store.js';

// The store runs on the real server when DATABASE_URL is set (with real child processes for the
// cross-process tests) and on embedded PGlite otherwise, through a pool that hands out its one
// connection in turn. On PGlite, transactions therefore never overlap: the race test below checks
// the counting there, and only the server run shows row locks between connections.
const db = useMigratedDatabase('budget', { maxConnections: 8 });
let pool: PoolLike;
let schema: string;
let store: PostgresBudgetStore;
let n = 0;
/** A key no other test touches (they share one schema). */
const key = (label: string) => `day:${label}-${++n}`;
const limit = (k: string, capMicro: number, ttlMs = 600_000): BudgetLimit => ({ key: k, capMicro, ttlMs });

beforeAll(async () => {
  pool = db.poolLike;
  schema = db.schema;
  store = createPostgresBudgetStore({ pool, schema });
});

/** The file's schema on the server, for the child processes (test-support/budget-processes.ts). */
const target = (): BudgetStoreTarget => ({ kind: 'postgres', databaseUrl: db.connectionString!, schema });

describe('PostgresBudgetStore', () => {
  it('reserves within the cap and refuses past it, naming the key, the cap and what is used', async () => {
    const k = key('cap');
    expect(await store.reserve({ id: 'a', amountMicro: 600, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: true });
    expect(await store.reserve({ id: 'b', amountMicro: 500, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: false, key: k, capMicro: 1_000, usedMicro: 600 });
    expect(await store.reserve({ id: 'c', amountMicro: 400, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: true });
    expect(await store.usage(k)).toEqual({ spentMicro: 0, reservedMicro: 1_000 });
  });

  it('is atomic across limits: when one cap has no room nothing is reserved on the others', async () => {
    const day = key('atomic-day');
    const session = key('atomic-session');
    await store.reserve({ id: 'x', amountMicro: 900, limits: [limit(session, 1_000)], reservationTtlMs: 60_000 });
    const r = await store.reserve({ id: 'y', amountMicro: 300, limits: [limit(day, 10_000), limit(session, 1_000)], reservationTtlMs: 60_000 });
    expect(r).toEqual({ ok: false, key: session, capMicro: 1_000, usedMicro: 900 });
    expect(await store.usage(day)).toEqual({ spentMicro: 0, reservedMicro: 0 });
  });

  it('settle replaces the reservation by the real cost on every key; release drops it; both are idempotent', async () => {
    const day = key('settle-day');
    const session = key('settle-session');
    const limits = [limit(day, 10_000), limit(session, 5_000)];
    await store.reserve({ id: 'call-1', amountMicro: 2_000, limits, reservationTtlMs: 60_000 });
    await store.reserve({ id: 'call-2', amountMicro: 1_000, limits, reservationTtlMs: 60_000 });
    await store.settle('call-1', 1_234);
    await store.settle('call-1', 1_234);
    await store.release('call-2');
    await store.release('call-2');
    expect(await store.usage(day)).toEqual({ spentMicro: 1_234, reservedMicro: 0 });
    expect(await store.usage(session)).toEqual({ spentMicro: 1_234, reservedMicro: 0 });
    await store.reserve({ id: 'call-3', amountMicro: 100, limits, reservationTtlMs: 60_000 });
    await store.reserve({ id: 'call-3', amountMicro: 100, limits, reservationTtlMs: 60_000 });
    expect((await store.usage(session)).reservedMicro).toBe(100);
  });

  it('an unsettled reservation stops holding room at its expiry; a late settle still counts the spend', async () => {
    const k = key('expiry');
    await store.reserve({ id: 'slow', amountMicro: 800, limits: [limit(k, 1_000)], reservationTtlMs: 300 });
    expect((await store.reserve({ id: 'early', amountMicro: 300, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).ok).toBe(false);
    let usage = await store.usage(k);
    for (let i = 0; usage.reservedMicro !== 0 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      usage = await store.usage(k);
    }
    expect(usage).toEqual({ spentMicro: 0, reservedMicro: 0 });
    expect((await store.reserve({ id: 'later', amountMicro: 300, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).ok).toBe(true);
    await store.settle('slow', 500);
    expect(await store.usage(k)).toEqual({ spentMicro: 500, reservedMicro: 300 });
  });

  it('a key past its ttl starts again from zero, and sweep() deletes long-expired rows', async () => {
    const k = key('ttl');
    const short = createPostgresBudgetStore({ pool, schema, keepExpiredMs: 1 });
    await short.reserve({ id: 'spend', amountMicro: 700, limits: [limit(k, 1_000, 200)], reservationTtlMs: 100 });
    await short.settle('spend', 700);
    await short.reserve({ id: 'dangling', amountMicro: 10, limits: [limit(k, 1_000, 200)], reservationTtlMs: 50 });
    expect((await short.usage(k)).spentMicro).toBe(700);
    await new Promise((r) => setTimeout(r, 400));
    expect(await short.usage(k)).toEqual({ spentMicro: 0, reservedMicro: 0 });
    const swept = await short.sweep();
    expect(swept.reservations).toBeGreaterThanOrEqual(1);
    expect(swept.totals).toBeGreaterThanOrEqual(1);
    const rows = await db.query(`SELECT (SELECT count(*) FROM "${schema}".ai_budget_totals WHERE key = $1)::int AS t, (SELECT count(*) FROM "${schema}".ai_budget_reservations WHERE key = $1)::int AS r`, [k]);
    expect(rows[0]).toEqual({ t: 0, r: 0 });
    // The key starts again from zero: the whole cap is free.
    expect((await short.reserve({ id: 'fresh', amountMicro: 1_000, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).ok).toBe(true);
  });

  it('admits exactly what fits when 40 reservations race on one connection pool, and never deadlocks on keys given in different orders', async () => {
    const a = key('race-a');
    const b = key('race-b');
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.reserve({ id: `race-${i}`, amountMicro: 100, limits: i % 2 ? [limit(a, 2_000), limit(b, 2_000)] : [limit(b, 2_000), limit(a, 2_000)], reservationTtlMs: 60_000 }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    await Promise.all(results.map((r, i) => (r.ok ? store.settle(`race-${i}`, i % 3 === 0 ? 100 : 50) : store.release(`race-${i}`))));
    const spent = results.reduce((sum, r, i) => sum + (r.ok ? (i % 3 === 0 ? 100 : 50) : 0), 0);
    expect(await store.usage(a)).toEqual({ spentMicro: spent, reservedMicro: 0 });
    expect(await store.usage(b)).toEqual({ spentMicro: spent, reservedMicro: 0 });
  });

  it('behaves like MemoryBudgetStore for any sequence of reserve / settle / release (no expiry)', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), id: fc.integer({ min: 0, max: 6 }), amount: fc.integer({ min: 0, max: 2_000 }), keys: fc.subarray([0, 1, 2], { minLength: 1 }) }),
      fc.record({ kind: fc.constant('settle' as const), id: fc.integer({ min: 0, max: 6 }), actual: fc.integer({ min: 0, max: 2_500 }) }),
      fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 0, max: 6 }) }),
    );
    const caps = [5_000, 3_000, 2_500];
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
        const run = ++n;
        const keys = [`day:m${run}`, `session:a${run}`, `session:b${run}`];
        const memory = new MemoryBudgetStore();
        const held = new Set<string>();
        for (const o of ops) {
          const id = `m${run}-${o.id}`;
          if (o.kind === 'reserve') {
            // Memory overwrites a live id; the shared stores keep the first (ids are unique per call).
            if (held.has(id)) continue;
            const req = { id, amountMicro: o.amount, limits: o.keys.map((k) => limit(keys[k]!, caps[k]!)), reservationTtlMs: 600_000 };
            const got = await store.reserve(req);
            expect(got).toEqual(await memory.reserve(req));
            if (got.ok) held.add(id);
          } else {
            const actual = o.kind === 'settle' ? o.actual : 0;
            await store.settle(id, actual);
            await memory.settle(id, actual);
            held.delete(id);
          }
          for (const k of keys) expect(await store.usage(k)).toEqual(await memory.usage(k));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('counts spend through createAiClient and refuses past the cap', async () => {
    const tts = {
      capability: 'tts' as const,
      name: 'billed',
      modelId: 'ko-KR-Wavenet-A',
      calls: 0,
      async synthesize(req: { text: string }) {
        this.calls++;
        return { audio: new Uint8Array(1), encoding: 'MP3' as const, characters: [...req.text].length };
      },
    };
    const session = `pg-client-${++n}`;
    const client = createAiClient({ policy: definePolicy({ budget: { perSessionUsd: 0.001 } }), providers: { tts }, budgetStore: store });
    await client.tts.synthesize({ text: '가'.repeat(100) }, { sessionId: session });
    // The client settles in the background (the answer never waits on the store).
    await vi.waitFor(async () => expect(await store.usage(`session:${session}`)).toEqual({ spentMicro: 400, reservedMicro: 0 }));
    const refused = await client.tts.synthesize({ text: '가'.repeat(200) }, { sessionId: session }).catch((e: unknown) => e);
    expect(isAiError(refused) && refused.code).toBe('budget_exceeded');
    expect(tts.calls).toBe(1);
    await client.close();
  });

  it('fails with unavailable when the tables are missing or the server is unreachable, without the password', async () => {
    const missing = createPostgresBudgetStore({ pool, schema: 'public_missing_schema' });
    const e1 = await missing.reserve({ id: 'x', amountMicro: 1, limits: [limit('day:x', 10)], reservationTtlMs: 1_000 }).catch((e: unknown) => e);
    expect(isAiError(e1) && e1.code).toBe('unavailable');
    expect((e1 as Error).message).toMatch(/^Postgres budget store \(schema "public_missing_schema"\): reserve failed: 42P01/);

    const dead = new pg.Pool({ connectionString: 'postgresql://app:s3cret@127.0.0.1:1/db', connectionTimeoutMillis: 500 });
    dead.on('error', () => {});
    const e2 = await createPostgresBudgetStore({ pool: dead, operationTimeoutMs: 2_000 })
      .reserve({ id: 'x', amountMicro: 1, limits: [limit('day:x', 10)], reservationTtlMs: 1_000 })
      .catch((e: unknown) => e);
    expect(isAiError(e2) && e2.code).toBe('unavailable');
    expect(JSON.stringify([(e2 as Error).message])).not.toMatch(/s3cret/);
    await dead.end();
  });

  it('an operation that fails leaves the ones running beside it on the same pool intact', async () => {
    const k = key('beside-failure');
    const missing = createPostgresBudgetStore({ pool, schema: 'public_missing_schema' });
    const [failed, ...granted] = await Promise.all([
      missing.reserve({ id: 'lost', amountMicro: 1, limits: [limit(k, 10_000)], reservationTtlMs: 60_000 }).catch((e: unknown) => e),
      ...Array.from({ length: 5 }, (_, i) => store.reserve({ id: `beside-${i}`, amountMicro: 100, limits: [limit(k, 10_000)], reservationTtlMs: 60_000 })),
    ]);
    expect(isAiError(failed) && failed.code).toBe('unavailable');
    expect(granted).toEqual(Array.from({ length: 5 }, () => ({ ok: true })));
    expect(await store.usage(k)).toEqual({ spentMicro: 0, reservedMicro: 500 });
  });

  it('with synchronousCommit: false (commits not waited to disk) keeps the same semantics', async () => {
    const fast = createPostgresBudgetStore({ pool, schema, synchronousCommit: false });
    const k = key('async-commit');
    expect(await fast.reserve({ id: 'f1', amountMicro: 700, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: true });
    expect((await store.reserve({ id: 'f2', amountMicro: 700, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 })).ok).toBe(false);
    await fast.settle('f1', 650);
    expect(await store.usage(k)).toEqual({ spentMicro: 650, reservedMicro: 0 });
  });

  it('rejects bad configuration with invalid_config', () => {
    expect(() => createPostgresBudgetStore({ pool: {} as never })).toThrow(/pool: must be a node-postgres Pool/);
    expect(() => createPostgresBudgetStore({ pool, schema: 'bad; drop' })).toThrow(/schema/);
    expect(() => createPostgresBudgetStore({ pool, operationTimeoutMs: 0 })).toThrow(/operationTimeoutMs/);
  });
});

// Server only: the child processes need a server they can all connect to (PGlite lives in this process).
describe.runIf(process.env.DATABASE_URL)('PostgresBudgetStore across processes', () => {
  it('N processes spending concurrently never overshoot the daily cap by more than the largest single reservation', async () => {
    const N = 4;
    const capMicro = 20_000;
    const lengths = [37, 120, 250, 64, 180, 9];
    const largestReservation = Math.max(...lengths) * 4; // Wavenet: 4 micro-dollars per character
    const run = ++n;
    const res = await spendTogether(target(), N, (i) => ({ perDayUsd: capMicro / 1e6, perSessionUsd: 0.012, sessionId: `pg-mp-${run}-${i % 2}`, lengths, refusalsToStop: 8 }));
    for (const r of res) expect(r.otherErrors).toEqual([]);
    const day = await store.usage(`day:${new Date().toISOString().slice(0, 10)}`);
    const reported = res.reduce((s, r) => s + r.spentMicro, 0);
    expect(day.spentMicro).toBe(reported);
    expect(day.reservedMicro).toBe(0);
    expect(day.spentMicro).toBeLessThanOrEqual(capMicro + largestReservation);
    expect(day.spentMicro).toBeLessThanOrEqual(capMicro);
    expect(day.spentMicro).toBeGreaterThan(capMicro - largestReservation);
    for (let s = 0; s < 2; s++) expect((await store.usage(`session:pg-mp-${run}-${s}`)).spentMicro).toBeLessThanOrEqual(12_000);
    for (const r of res) expect(r.refused).toBeGreaterThan(0);
    expect(res.filter((r) => r.ok > 0).length).toBeGreaterThan(1);
  });

  it("a SIGKILLed process's reservation holds room until reservationTtlMs, then the room comes back", async () => {
    const k = key('killed');
    const reservationTtlMs = 3_000;
    const reserved = await reserveAndDie(target(), { id: 'crashed-call', amountMicro: 800, key: k, capMicro: 1_000, reservationTtlMs });
    expect(reserved.ok).toBe(true);
    const request = (id: string) => store.reserve({ id, amountMicro: 500, limits: [limit(k, 1_000)], reservationTtlMs: 60_000 });
    const refused = await request('after-kill');
    expect(Date.now() - reserved.at).toBeLessThan(reservationTtlMs);
    expect(refused).toEqual({ ok: false, key: k, capMicro: 1_000, usedMicro: 800 });
    expect(await untilGranted(request, reserved.at + reservationTtlMs + 5_000 - Date.now())).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(reserved.at + reservationTtlMs - 50);
    expect(await store.usage(k)).toEqual({ spentMicro: 0, reservedMicro: 500 });
  });
});

// Server only: another connection must hold the row lock while this one waits for it.
describe.runIf(process.env.DATABASE_URL)('PostgresBudgetStore timeouts', () => {
  it('a reserve reported as timed out never commits afterwards', async () => {
    const k = key('timeout');
    await store.reserve({ id: 'warm', amountMicro: 0, limits: [limit(k, 1_000_000)], reservationTtlMs: 60_000 });
    // A pool under pressure: a connection takes 900 ms to hand out, out of a 1000 ms budget.
    const slowPool = {
      connect: async () => {
        await new Promise((r) => setTimeout(r, 900));
        return pool.connect();
      },
    };
    const slow = createPostgresBudgetStore({ pool: slowPool, schema, operationTimeoutMs: 1_000 });
    // Another transaction holds the day's row a little past the deadline (well within lock_timeout).
    const holder = await pool.connect();
    await holder.query(`BEGIN; SELECT * FROM "${schema}".ai_budget_totals WHERE key = '${k}' FOR UPDATE`);
    const release = new Promise<void>((resolve) =>
      setTimeout(() => {
        void holder.query('COMMIT').then(() => {
          holder.release();
          resolve();
        });
      }, 1_300),
    );
    const outcome = await slow.reserve({ id: 'late-call', amountMicro: 400_000, limits: [limit(k, 1_000_000)], reservationTtlMs: 600_000 }).catch((e: unknown) => e);
    expect(isAiError(outcome) && outcome.code).toBe('unavailable');
    await release;
    await new Promise((r) => setTimeout(r, 500));
    expect(await store.usage(k)).toEqual({ spentMicro: 0, reservedMicro: 0 });
  });
});
