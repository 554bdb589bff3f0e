// What the SDK's caches save on the demo's lesson, and what a miss costs. Writes the `cache`
// section of docs/BENCHMARKS.md.
//
//   pnpm --filter @korean-together/example-server bench:cache    (DATABASE_URL / REDIS_URL add those stores)
//
// Part 1 replays the quickstart's five-activity lesson (examples/quickstart/lesson-script.ts) for
// LEARNERS simulated learners on the emulators, through the tutoring server's policy and
// providers: per activity the tutor speaks the task, grades the learner's typed answer and speaks
// the reply (runTurn). Answers follow a Zipf distribution per activity (s = 1.1 over 200 distinct
// answers: rank 1 the model answer, rank 2 the lesson's scripted answer, the rest variants), from
// a seeded PRNG. Once without caches, once with the TTS and eval caches on the memory store (the
// five task lines prefetched first).
//
// Part 2 measures what a miss adds to a call, per store: calls that always miss (each text new)
// on a provider that answers at once, with the cache and without, in the same process.

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { createAiClient, definePolicy, MemoryCacheStore, usdToMicro, microToUsd, type CacheStore, type UsageRecord } from '@korean-together/core';
import { createRedisCacheStore } from '@korean-together/core/redis';
import { ArraySink, fakeTts, seededRandom } from '@korean-together/core/testing';
import { startEmulators } from '@korean-together/providers/emulators';
import { migrate } from '@korean-together/sql';
import { createPostgresCacheStore } from '@korean-together/usage-log';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';
import { LESSON } from '../../quickstart/lesson-script.js';
import { evalFallbacks } from '../../quickstart/eval-fallbacks.js';
import { buildProviders } from '../src/providers.js';
import { runTurn } from '../src/turn.js';
import { tutoringPolicy } from '../src/tutoring-policy.js';

const LEARNERS = Number(process.env.BENCH_LEARNERS ?? 1_000);
const CONCURRENCY = 16;
const ZIPF_S = 1.1;
const DISTINCT_ANSWERS = 200;
const MISS_CALLS = Number(process.env.BENCH_MISS_CALLS ?? 2_000);
const SEED = 15;

const FILLERS = ['', '음, ', '어, ', '저기, ', '아, '];
const ENDINGS = ['', ' 정말', ' 진짜', ' 꼭', ' 좀'];
const EXTRAS = ['', '.', '!', '?', '...', ' 네', ' 감사합니다', ' 선생님'];

/** The answers of one activity, most common first: the model answer, the scripted one, then variants of both. */
function answersFor(activity: (typeof LESSON)[number]): string[] {
  const out = [activity.expectedAnswer, activity.learnerAnswer];
  const seen = new Set(out);
  for (let i = 0; out.length < DISTINCT_ANSWERS; i++) {
    const base = i % 2 === 0 ? activity.expectedAnswer : activity.learnerAnswer;
    const j = Math.floor(i / 2);
    const a = `${FILLERS[j % 5]}${base}${ENDINGS[Math.floor(j / 5) % 5]}${EXTRAS[Math.floor(j / 25) % 8]}`;
    if (!seen.has(a)) {
      seen.add(a);
      out.push(a);
    }
  }
  return out;
}

/** Zipf(s) over ranks 1..n: a sampler returning a 0-based rank. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) cdf.push((total += 1 / k ** s));
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface LessonRun {
  label: string;
  ttsMicro: number;
  evalMicro: number;
  ttsCalls: number;
  evalCalls: number;
  ttsHits: number;
  evalHits: number;
  ttsRows: number;
  evalRows: number;
  savedMicro: number;
  seconds: number;
  failedTurns: number;
  /** onCacheError events: store operations that failed or ran past cache.storeTimeoutMs. */
  storeErrors: number;
}

async function runLesson(label: string, cached: boolean, store?: CacheStore): Promise<LessonRun> {
  const emu = await startEmulators();
  const set = buildProviders({ kind: 'emulators', endpoints: emu });
  const providers = { ...set.providers, ...evalFallbacks(set.providers, emu) };
  const base = tutoringPolicy();
  const policy = definePolicy({
    capabilities: base.capabilities,
    // The per-session cap as the server has it; the daily cap opened for a thousand learners in one run.
    budget: { perSessionUsd: base.budget.perSessionUsd, perDayUsd: 1_000 },
    ...(cached && { cache: { tts: { ttlMs: 86_400_000, maxBytes: 256 * 1024 * 1024 }, eval: { ttlMs: 86_400_000 } } }),
  });
  const sink = new ArraySink();
  let storeErrors = 0;
  const client = createAiClient({ policy, providers, sinks: [sink], ...(store && { cacheStore: store }), events: { onCacheError: () => void storeErrors++ } });
  const random = seededRandom(SEED);
  const samplers = LESSON.map(() => zipf(DISTINCT_ANSWERS, ZIPF_S, random));
  const answers = LESSON.map(answersFor);
  // Every learner's answers drawn up front, so both runs see the same learners.
  const plan = Array.from({ length: LEARNERS }, () => LESSON.map((_, i) => answers[i]![samplers[i]!()]!));
  const t0 = performance.now();
  if (cached) await client.tts.prefetch(LESSON.map((a) => a.prompt), {});
  let next = 0;
  let failedTurns = 0;
  async function learner(): Promise<void> {
    while (next < plan.length) {
      const mine = plan[next++]!;
      const sessionId = randomUUID();
      for (let i = 0; i < LESSON.length; i++) {
        const a = LESSON[i]!;
        try {
          await client.tts.synthesize({ text: a.prompt }, { sessionId });
          await runTurn({ client }, { sessionId, prompt: a.prompt, expectedAnswer: a.expectedAnswer, targetFormality: a.targetFormality, text: mine[i]! });
        } catch {
          failedTurns++;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, learner));
  const seconds = (performance.now() - t0) / 1000;
  await client.close();
  await set.close();
  await emu.close();
  const rows = sink.records as UsageRecord[];
  const of = (cap: string) => rows.filter((r) => r.providerType === cap);
  const micro = (rs: UsageRecord[]) => rs.reduce((s, r) => s + usdToMicro(r.estimatedCostUsd ?? 0), 0);
  const calls = (rs: UsageRecord[]) => rs.filter((r) => !r.cacheHit).length;
  const hits = (rs: UsageRecord[]) => rs.filter((r) => r.cacheHit).length;
  return {
    label,
    ttsMicro: micro(of('tts')),
    evalMicro: micro(of('eval')),
    ttsCalls: calls(of('tts')),
    evalCalls: calls(of('eval')),
    ttsHits: hits(of('tts')),
    evalHits: hits(of('eval')),
    ttsRows: of('tts').length,
    evalRows: of('eval').length,
    savedMicro: rows.reduce((s, r) => s + usdToMicro(r.savedCostUsd ?? 0), 0),
    seconds,
    failedTurns,
    storeErrors,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface MissLatency {
  store: string;
  p50Ms: number;
  p95Ms: number;
}

/**
 * Call latency (ms) of always-missing TTS calls (each text new) on an instant provider, for each
 * store and without a cache, in interleaved rounds of 100 calls so that the machine's load
 * (shared, 2 cores) falls on every store alike. MISS_CALLS per store after 200 warm-up calls.
 */
async function missLatencies(stores: { label: string; store: CacheStore | undefined }[]): Promise<MissLatency[]> {
  const run = randomUUID();
  const clients = stores.map(({ store }) =>
    createAiClient({ providers: { voice: fakeTts([{ ok: true }]) }, ...(store && { cacheStore: store }), policy: store ? { cache: { tts: { ttlMs: 600_000 }, storeTimeoutMs: 1_000 } } : {} }),
  );
  const lat: number[][] = stores.map(() => []);
  let n = 0;
  for (let round = 0; round < (MISS_CALLS + 200) / 100; round++) {
    for (const [i, client] of clients.entries()) {
      for (let j = 0; j < 100; j++) {
        const t = performance.now();
        await client.tts.synthesize({ text: `${run} 문장 ${n++}: 오늘은 날씨가 좋아요.` });
        if (round >= 2) lat[i]!.push(performance.now() - t); // the first 200 calls warm the JIT and the connections
      }
    }
  }
  await Promise.all(clients.map((c) => c.close()));
  return stores.map(({ label }, i) => {
    const sorted = lat[i]!.sort((a, b) => a - b);
    return { store: label, p50Ms: quantile(sorted, 0.5), p95Ms: quantile(sorted, 0.95) };
  });
}

async function main(): Promise<void> {
  console.log(`lesson: ${LEARNERS} learners x ${LESSON.length} activities, concurrency ${CONCURRENCY}`);
  const plain = await runLesson('no caches', false);
  const cached = await runLesson('TTS + eval caches (memory)', true);
  const runs = [plain, cached];
  let pool: pg.Pool | undefined;
  let schema: string | undefined;
  if (process.env.DATABASE_URL) {
    pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
    schema = `bench_cache_${Date.now()}`;
    await pool.query(`CREATE SCHEMA ${schema}`);
    await migrate({ client: pool, schema });
  }
  if (process.env.REDIS_URL) {
    const s = createRedisCacheStore({ url: process.env.REDIS_URL, prefix: `kt-bench:${randomUUID()}` });
    runs.push(await runLesson('TTS + eval caches (Redis)', true, s));
    await s.close();
  }
  if (pool) runs.push(await runLesson('TTS + eval caches (Postgres)', true, createPostgresCacheStore({ pool, schema: schema! })));
  const ratio = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
  const usd = (m: number) => `$${microToUsd(m).toFixed(6)}`;
  const lessonRows = runs.map((r) => [
    r.label,
    usd(r.ttsMicro),
    usd(r.evalMicro),
    usd(Math.round(r.ttsMicro / LEARNERS)),
    r.ttsCalls,
    r.evalCalls,
    ratio(r.ttsHits, r.ttsRows),
    ratio(r.evalHits, r.evalRows),
    usd(r.savedMicro),
    r.failedTurns,
    r.storeErrors,
    r.seconds.toFixed(1),
  ]);
  const lessonCols = ['run', 'TTS spend', 'eval spend', 'TTS spend per lesson', 'TTS provider calls', 'eval provider calls', 'TTS hit rate', 'eval hit rate', 'saved (usage rows)', 'failed turns', 'store errors', 'seconds'];
  printTable(lessonCols, lessonRows);

  const load1 = os.loadavg()[0] ?? 0;
  const stores: { label: string; store: CacheStore | undefined }[] = [
    { label: 'none (reference)', store: undefined },
    { label: 'memory', store: new MemoryCacheStore() },
  ];
  const redisStore = process.env.REDIS_URL ? createRedisCacheStore({ url: process.env.REDIS_URL, prefix: `kt-bench:${randomUUID()}` }) : undefined;
  if (redisStore) stores.push({ label: 'Redis', store: redisStore });
  if (pool) {
    await pool.query(`TRUNCATE ${schema}.ai_response_cache`);
    stores.push({ label: 'Postgres', store: createPostgresCacheStore({ pool, schema: schema! }) });
  }
  const misses = await missLatencies(stores);
  await redisStore?.close();
  if (pool) {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  }
  const ref = misses[0]!;
  const missRows = misses.map((m) => [m.store, m.p50Ms.toFixed(3), m.p95Ms.toFixed(3), m === ref ? '-' : (m.p95Ms - ref.p95Ms).toFixed(3), m === ref ? '1.00' : (m.p95Ms / ref.p95Ms).toFixed(2)]);
  const missCols = ['cache store', 'call p50 (ms)', 'call p95 (ms)', 'added by a miss, p95 (ms)', 'p95 vs no cache'];
  printTable(missCols, missRows);

  const ttsShare = cached.ttsMicro / plain.ttsMicro;
  writeBenchSection(
    'cache',
    [
      `Machine: ${machineLine()}; 1-minute load average ${load1.toFixed(2)} when the miss latencies were measured (the machine is shared). Command: \`pnpm --filter @korean-together/example-server bench:cache\`.`,
      '',
      `**The demo's lesson, ${LEARNERS} learners** (examples/server/bench/cache.bench.ts): the quickstart's five activities on the emulators, through the tutoring server's policy and providers; per activity the tutor speaks the task, grades the typed answer and speaks the reply. Answers per activity follow Zipf with s = ${ZIPF_S} over ${DISTINCT_ANSWERS} distinct answers (rank 1 the model answer, rank 2 the lesson's scripted answer, the rest variants of both; seeded). Cached runs: \`cache: { tts: { ttlMs: 86400000 }, eval: { ttlMs: 86400000 } }\` on each store (memory; Redis and Postgres when their servers are set), each from empty, the five task lines prefetched first (their cost included). Identical misses in flight are coalesced per process, so every store sees the same misses.`,
      '',
      markdownTable(lessonCols, lessonRows),
      '',
      `TTS spend with the caches: **${ratio(cached.ttsMicro, plain.ttsMicro)}** of the uncached spend (goal: at most 10%${ttsShare <= 0.1 ? ', met' : ', NOT met'}); eval spend ${ratio(cached.evalMicro, plain.evalMicro)}. Provider calls: TTS ${cached.ttsCalls} instead of ${plain.ttsCalls}, eval ${cached.evalCalls} instead of ${plain.evalCalls}.`,
      '',
      `**What a miss adds** (${MISS_CALLS} sequential TTS calls per store, every text new, on an instant provider, after 200 warm-up calls, in interleaved rounds of 100 per store): the call's latency with each store against the same calls without a cache (the reference, first row). The store's get is on the call's path; its set runs after the answer. Goals: memory under 1 ms p95, Redis and Postgres under 5 ms. Stores without a server in this run (REDIS_URL, DATABASE_URL unset) are not listed.`,
      '',
      markdownTable(missCols, missRows),
    ].join('\n'),
  );
}

await main();
