import fc from 'fast-check';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { adminClient, redisTestsRun, testRedisUrl, uniquePrefix, useRedisKeys, type RedisKeys } from '../../test/support/redis.js';
import { deadPort } from '../../../../test-support/tcp-proxy.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import type { BudgetLimit } from '../budget/budget-store.js';
import { isAiError } from '../errors/ai-error.js';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import { fakeTts } from '../testing/fakes.js';
import { createRedisBudgetStore, RedisBudgetStore } from './redis-budget-store.js';

const onRedis = redisTestsRun('RedisBudgetStore tests on the Redis server');
let redis: RedisKeys;

function store(label: string, extra: Partial<Parameters<typeof createRedisBudgetStore>[0]> = {}): RedisBudgetStore {
  return createRedisBudgetStore({ url: testRedisUrl(), prefix: redis.prefix(label), ...extra });
}

const day = (capMicro: number, ttlMs = 600_000): BudgetLimit => ({ key: 'day:2026-11-26', capMicro, ttlMs });
const session = (id: string, capMicro: number): BudgetLimit => ({ key: `session:${id}`, capMicro, ttlMs: 600_000 });

describe.runIf(onRedis)('RedisBudgetStore', () => {
  redis = useRedisKeys((p) => `${p}:*`);

  it('reserves within the cap and refuses past it, naming the key, the cap and what is used', async () => {
    const s = store('reserve');
    expect(await s.reserve({ id: 'a', amountMicro: 600, limits: [day(1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: true });
    expect(await s.reserve({ id: 'b', amountMicro: 500, limits: [day(1_000)], reservationTtlMs: 60_000 })).toEqual({
      ok: false,
      key: 'day:2026-11-26',
      capMicro: 1_000,
      usedMicro: 600,
    });
    expect(await s.reserve({ id: 'c', amountMicro: 400, limits: [day(1_000)], reservationTtlMs: 60_000 })).toEqual({ ok: true });
    expect(await s.usage('day:2026-11-26')).toEqual({ spentMicro: 0, reservedMicro: 1_000 });
    await s.close();
  });

  it('is atomic across limits: when one cap has no room nothing is reserved on the others', async () => {
    const s = store('atomic');
    await s.reserve({ id: 'x', amountMicro: 900, limits: [session('s2', 1_000)], reservationTtlMs: 60_000 });
    const r = await s.reserve({ id: 'y', amountMicro: 300, limits: [day(10_000), session('s2', 1_000)], reservationTtlMs: 60_000 });
    expect(r).toEqual({ ok: false, key: 'session:s2', capMicro: 1_000, usedMicro: 900 });
    expect(await s.usage('day:2026-11-26')).toEqual({ spentMicro: 0, reservedMicro: 0 });
    await s.close();
  });

  it('settle replaces the reservation by the real cost on every key; release drops it; both are idempotent', async () => {
    const s = store('settle');
    const limits = [day(10_000), session('s1', 5_000)];
    await s.reserve({ id: 'call-1', amountMicro: 2_000, limits, reservationTtlMs: 60_000 });
    await s.reserve({ id: 'call-2', amountMicro: 1_000, limits, reservationTtlMs: 60_000 });
    await s.settle('call-1', 1_234);
    await s.settle('call-1', 1_234);
    await s.release('call-2');
    await s.release('call-2');
    expect(await s.usage('day:2026-11-26')).toEqual({ spentMicro: 1_234, reservedMicro: 0 });
    expect(await s.usage('session:s1')).toEqual({ spentMicro: 1_234, reservedMicro: 0 });
    // A reserve under an id already held changes nothing.
    await s.reserve({ id: 'call-3', amountMicro: 100, limits, reservationTtlMs: 60_000 });
    await s.reserve({ id: 'call-3', amountMicro: 100, limits, reservationTtlMs: 60_000 });
    expect((await s.usage('session:s1')).reservedMicro).toBe(100);
    await s.close();
  });

  it('settles a reservation made by another store instance (another process) in two round trips', async () => {
    const a = store('cross');
    const b = createRedisBudgetStore({ url: testRedisUrl(), prefix: a.prefix.slice(0, -1) });
    await a.reserve({ id: 'shared-call', amountMicro: 700, limits: [day(1_000), session('s9', 900)], reservationTtlMs: 60_000 });
    await b.settle('shared-call', 650);
    expect(await a.usage('session:s9')).toEqual({ spentMicro: 650, reservedMicro: 0 });
    expect(await b.usage('day:2026-11-26')).toEqual({ spentMicro: 650, reservedMicro: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it("works on a client of yours with ioredis' own keyPrefix option, also when another instance settles", async () => {
    const outer = `${redis.prefix('outer')}:`;
    const c1 = new Redis(testRedisUrl(), { keyPrefix: outer });
    const c2 = new Redis(testRedisUrl(), { keyPrefix: outer });
    const a = createRedisBudgetStore({ client: c1, prefix: 'budget' });
    const b = createRedisBudgetStore({ client: c2, prefix: 'budget' });
    await a.reserve({ id: 'p1', amountMicro: 300, limits: [day(1_000)], reservationTtlMs: 60_000 });
    await b.settle('p1', 250);
    expect(await a.usage('day:2026-11-26')).toEqual({ spentMicro: 250, reservedMicro: 0 });
    expect(await redis.admin.exists(`${outer}budget:k:day:2026-11-26`)).toBe(1);
    c1.disconnect();
    c2.disconnect();
  });

  it('an unsettled reservation stops holding room at its expiry; a late settle still counts the spend', async () => {
    const s = store('expiry');
    await s.reserve({ id: 'slow', amountMicro: 800, limits: [day(1_000)], reservationTtlMs: 300 });
    expect((await s.reserve({ id: 'early', amountMicro: 300, limits: [day(1_000)], reservationTtlMs: 60_000 })).ok).toBe(false);
    let usage = await s.usage('day:2026-11-26');
    for (let i = 0; usage.reservedMicro !== 0 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      usage = await s.usage('day:2026-11-26');
    }
    expect(usage).toEqual({ spentMicro: 0, reservedMicro: 0 });
    expect((await s.reserve({ id: 'later', amountMicro: 300, limits: [day(1_000)], reservationTtlMs: 60_000 })).ok).toBe(true);
    await s.settle('slow', 500);
    expect(await s.usage('day:2026-11-26')).toEqual({ spentMicro: 500, reservedMicro: 300 });
    await s.close();
  });

  it('keys expire: totals live limit.ttlMs after their last change, a reservation record until expiry + keepExpiredMs', async () => {
    const s = store('ttl', { keepExpiredMs: 10_000 });
    await s.reserve({ id: 'r1', amountMicro: 10, limits: [day(1_000, 120_000)], reservationTtlMs: 5_000 });
    const pttl = async (suffix: string) => redis.admin.pttl(`${s.prefix}${suffix}`);
    const totals = await pttl('k:day:2026-11-26');
    expect(totals).toBeGreaterThan(100_000);
    expect(totals).toBeLessThanOrEqual(120_000);
    expect(await pttl('z:day:2026-11-26')).toBeGreaterThan(100_000);
    const record = await pttl('r:r1');
    expect(record).toBeGreaterThan(13_000);
    expect(record).toBeLessThanOrEqual(15_000);
    await s.settle('r1', 10);
    expect(await pttl('r:r1')).toBe(-2);
    await s.close();
  });

  it('behaves like MemoryBudgetStore for any sequence of reserve / settle / release (no expiry)', async () => {
    const keys = ['day:d', 'session:a', 'session:b'];
    const caps: Record<string, number> = { 'day:d': 5_000, 'session:a': 3_000, 'session:b': 2_500 };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), id: fc.integer({ min: 0, max: 7 }), amount: fc.integer({ min: 0, max: 2_000 }), keys: fc.subarray(keys, { minLength: 1 }) }),
      fc.record({ kind: fc.constant('settle' as const), id: fc.integer({ min: 0, max: 7 }), actual: fc.integer({ min: 0, max: 2_500 }) }),
      fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 0, max: 7 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const redis = store('model');
        const memory = new MemoryBudgetStore();
        for (const o of ops) {
          if (o.kind === 'reserve') {
            const req = { id: `c${o.id}`, amountMicro: o.amount, limits: o.keys.map((k) => ({ key: k, capMicro: caps[k]!, ttlMs: 600_000 })), reservationTtlMs: 600_000 };
            // Memory overwrites a reservation under a live id; the shared store keeps the first (ids are unique per call).
            if (memoryHas(memory, req.id)) continue;
            expect(await redis.reserve(req)).toEqual(await memory.reserve(req));
          } else if (o.kind === 'settle') {
            await redis.settle(`c${o.id}`, o.actual);
            await memory.settle(`c${o.id}`, o.actual);
          } else {
            await redis.release(`c${o.id}`);
            await memory.release(`c${o.id}`);
          }
          for (const k of keys) expect(await redis.usage(k)).toEqual(await memory.usage(k));
        }
        await redis.close();
      }),
      { numRuns: 40 },
    );
  });

  it('counts spend through createAiClient: reserve the worst case, settle the real cost, refuse past the cap', async () => {
    const s = store('client');
    const tts = fakeTts([{ ok: true }]);
    const client = createAiClient({ policy: definePolicy({ budget: { perSessionUsd: 0.001 } }), providers: { tts }, budgetStore: s });
    // Wavenet: 4 micro-dollars per character.
    await client.tts.synthesize({ text: '가'.repeat(100) }, { sessionId: 'learner-1' });
    expect(await s.usage('session:learner-1')).toEqual({ spentMicro: 400, reservedMicro: 0 });
    const refused = await client.tts.synthesize({ text: '가'.repeat(200) }, { sessionId: 'learner-1' }).catch((e: unknown) => e);
    expect(isAiError(refused) && refused.code).toBe('budget_exceeded');
    expect(tts.calls).toHaveLength(1);
    await client.close();
    await s.close();
  });

  it('close() quits a client it created but leaves a client you passed open', async () => {
    const own = store('close-own');
    await own.usage('day:x');
    await own.close();
    await expect(own.usage('day:x')).rejects.toMatchObject({ code: 'unavailable' });

    const mine = adminClient();
    const borrowed = createRedisBudgetStore({ client: mine, prefix: uniquePrefix('close-borrowed') });
    await borrowed.usage('day:x');
    await borrowed.close();
    expect(await mine.ping()).toBe('PONG');
    mine.disconnect();
  });
});

describe('RedisBudgetStore without a server', () => {
  it('fails fast with unavailable when Redis cannot be reached, and never shows the URL or its password', async () => {
    const port = await deadPort();
    const s = createRedisBudgetStore({ url: `redis://user:s3cret-pw@127.0.0.1:${port}/0`, prefix: uniquePrefix('down'), operationTimeoutMs: 1_500 });
    const started = Date.now();
    const e = await s.reserve({ id: 'x', amountMicro: 1, limits: [day(10)], reservationTtlMs: 1_000 }).catch((err: unknown) => err);
    expect(isAiError(e) && e.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String((e as Error).message)).not.toMatch(/s3cret|user:/);
    expect(JSON.stringify(e)).not.toMatch(/s3cret/);
    await s.close();
  });

  // A well-formed URL that is never dialled: these options fail before any connection is made.
  const unusedUrl = 'redis://127.0.0.1:6379/0';

  it('rejects bad configuration with invalid_config, naming the option but not the URL password', () => {
    expect(() => createRedisBudgetStore({ url: 'http://u:pw@localhost' })).toThrow(/url: .*is not a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => createRedisBudgetStore({ url: 'http://u:pw@localhost' })).not.toThrow(/pw/);
    expect(() => createRedisBudgetStore({ urlEnv: 'KT_NOT_SET_FOR_TEST' })).toThrow(/environment variable KT_NOT_SET_FOR_TEST is not set/);
    expect(() => createRedisBudgetStore({ url: unusedUrl, prefix: 'has space' })).toThrow(/prefix/);
    expect(() => createRedisBudgetStore({ url: unusedUrl, operationTimeoutMs: 0 })).toThrow(/operationTimeoutMs/);
  });
});

function memoryHas(memory: MemoryBudgetStore, id: string): boolean {
  return (memory as unknown as { reservations: Map<string, unknown> }).reservations.has(id);
}
