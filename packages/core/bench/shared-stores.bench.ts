// Added latency per call of the shared (multi-process) stores: the Redis rate limiter
// (bottleneck clustering), the Redis budget store and the Postgres budget store, against the
// same client with in-process limits and budgets. Needs the Redis and Postgres servers
// (REDIS_URL, DATABASE_URL; defaults: the ones on this machine).
// Run: cd packages/core && tsx bench/shared-stores.bench.ts
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createAiClient, definePolicy, type AiClient, type BudgetStore, type TtsProvider } from '../src/index.js';
import { createRedisBudgetStore, createRedisRateLimits } from '../src/redis/index.js';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_CALLS ?? 2_000);
const WARMUP = 200;
const IN_FLIGHT = 50;
const ROUNDS = 20;
const run = `kt-bench:${randomBytes(4).toString('hex')}`;

const provider: TtsProvider = {
  capability: 'tts',
  name: 'instant',
  modelId: 'ko-KR-Wavenet-A',
  async synthesize(req) {
    return { audio: new Uint8Array(1), encoding: 'MP3', characters: [...req.text].length };
  },
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Per-call microseconds of `n` awaited calls, one at a time (sorted). */
async function sequential(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1_000);
  }
  return out.sort((a, b) => a - b);
}

/** Per-call microseconds with `inFlight` calls started together, `rounds` times (sorted). */
async function concurrent(fn: () => Promise<unknown>, inFlight: number, rounds: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const times = await Promise.all(
      Array.from({ length: inFlight }, async () => {
        const t = process.hrtime.bigint();
        await fn();
        return Number(process.hrtime.bigint() - t) / 1_000;
      }),
    );
    if (r > 0) out.push(...times);
  }
  return out.sort((a, b) => a - b);
}

/** The Postgres budget store from @korean-together/usage-log (a sibling package: imported by path, this is a dev-only script). */
async function postgresStore(): Promise<{ store: BudgetStore; fastStore: BudgetStore; cleanup: () => Promise<void> } | { error: string }> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => {});
  const schema = `kt_bench_${randomBytes(4).toString('hex')}`;
  try {
    const usageLog = (await import('../../usage-log/src/index.js')) as Record<string, unknown>;
    const sql = (await import('../../sql/src/index.js')) as { migrate: (o: { client: pg.Pool; schema: string }) => Promise<unknown> };
    const create = usageLog.createPostgresBudgetStore as ((o: { pool: pg.Pool; schema: string; synchronousCommit?: boolean }) => BudgetStore) | undefined;
    if (!create) throw new Error('@korean-together/usage-log has no createPostgresBudgetStore yet');
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await sql.migrate({ client: pool, schema });
    return {
      store: create({ pool, schema }),
      fastStore: create({ pool, schema, synchronousCommit: false }),
      cleanup: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  } catch (e) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
    return { error: (e as Error).message.slice(0, 120) };
  }
}

const budget = { perDayUsd: 1e6, perSessionUsd: 1e6 };
const highLimit = { maxConcurrent: 1_000 };
const clients: { name: string; client: AiClient; session?: boolean }[] = [];
const closers: (() => Promise<void>)[] = [];

clients.push({ name: 'no limit, no budget (baseline)', client: createAiClient({ providers: { p: provider } }) });
clients.push({
  name: 'local rate limit (in-process)',
  client: createAiClient({ policy: definePolicy({ capabilities: { tts: { rateLimit: highLimit } } }), providers: { p: provider } }),
});
const sharedRateLimits = createRedisRateLimits({ url: REDIS_URL });
closers.push(() => sharedRateLimits.close());
clients.push({
  name: 'shared rate limit (Redis, bottleneck clustering)',
  client: createAiClient({
    policy: definePolicy({ capabilities: { tts: { rateLimit: { ...highLimit, shared: { keyPrefix: `${run}:rl` } } } } }),
    providers: { p: provider },
    sharedRateLimits,
  }),
});
clients.push({ name: 'budget, memory store (in-process)', client: createAiClient({ policy: definePolicy({ budget }), providers: { p: provider } }), session: true });
const redisBudget = createRedisBudgetStore({ url: REDIS_URL, prefix: `${run}:budget` });
closers.push(() => redisBudget.close());
clients.push({ name: 'budget, Redis store', client: createAiClient({ policy: definePolicy({ budget }), providers: { p: provider }, budgetStore: redisBudget }), session: true });
const pgStore = await postgresStore();
if ('store' in pgStore) {
  closers.push(pgStore.cleanup);
  clients.push({ name: 'budget, Postgres store', client: createAiClient({ policy: definePolicy({ budget }), providers: { p: provider }, budgetStore: pgStore.store }), session: true });
  clients.push({
    name: 'budget, Postgres store (synchronousCommit: false)',
    client: createAiClient({ policy: definePolicy({ budget }), providers: { p: provider }, budgetStore: pgStore.fastStore }),
    session: true,
  });
}

const rows: { name: string; seq: number[]; conc: number[] }[] = [];
for (const { name, client, session } of clients) {
  const call = () => client.tts.synthesize({ text: '안녕하세요' }, session ? { sessionId: 'bench-session' } : {});
  const seq = await sequential(call, N);
  const conc = await concurrent(call, IN_FLIGHT, ROUNDS);
  rows.push({ name, seq, conc });
  console.error(`measured: ${name}`);
}
await Promise.all(clients.map((c) => c.client.close()));

const admin = new Redis(REDIS_URL);
const redisVersion = ((await admin.info('server')).match(/redis_version:(\S+)/) ?? [])[1] ?? '?';
let cursor = '0';
do {
  const [next, keys] = await admin.scan(cursor, 'MATCH', `*${run}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length) await admin.del(...keys);
} while (cursor !== '0');
admin.disconnect();
for (const close of closers) await close();

const fmt = (us: number) => (us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(0)} us`);
// A configuration faster than the baseline at some quantile is run-to-run noise (GC, timers).
const added = (us: number) => (us <= 0 ? '~0' : fmt(us));
const base = rows[0]!;
const columns = ['configuration', 'p50', 'p99', 'added p50', 'added p99', `${IN_FLIGHT} in flight p50`, `${IN_FLIGHT} in flight p99`];
const table = rows.map((r) => [
  r.name,
  fmt(quantile(r.seq, 0.5)),
  fmt(quantile(r.seq, 0.99)),
  added(quantile(r.seq, 0.5) - quantile(base.seq, 0.5)),
  added(quantile(r.seq, 0.99) - quantile(base.seq, 0.99)),
  fmt(quantile(r.conc, 0.5)),
  fmt(quantile(r.conc, 0.99)),
]);
printTable(columns, table);

const pgNote = 'error' in pgStore ? `\nThe Postgres budget store row is missing: ${pgStore.error}.\n` : '';
writeBenchSection(
  'shared-stores',
  `## Core: added latency of the shared stores (Redis rate limit, Redis and Postgres budgets)

${machineLine()}; Redis ${redisVersion} and Postgres on the same machine (loopback).
Command: \`cd packages/core && tsx bench/shared-stores.bench.ts\` (part of \`pnpm bench\`).
${N} sequential calls per configuration (after ${WARMUP} warm-up calls) through \`createAiClient\`
around a TTS provider that answers at once; "added" is the difference to the baseline at the
same quantile (~0: within run-to-run noise). Then ${ROUNDS} rounds of ${IN_FLIGHT} calls started together, each timed from start to settle.
A shared rate limit costs three Redis scripts per attempt (bottleneck's submit, register and
free) plus bottleneck's own timers. A budgeted call costs a reserve and a settle: one Redis
script each, or one short transaction each on Postgres (four round trips, on a pool of 4
connections here; concurrent calls of one day queue on that day's row lock).

${markdownTable(columns, table)}
${pgNote}`,
);
