// The usage log at scale: every stats query the example server and its dashboard make, timed
// over the raw tables as before migration 000003 and over the rollups after, at 1M and 10M rows
// spread over 90 days; the usage sink with rollups against a hand-written bulk insert of the same
// rows; what migration 000003 takes to convert 3M rows; daily vs monthly partitions and the
// indexes. Writes the `usage-log-at-scale` section of docs/BENCHMARKS.md.
//
//   pnpm --filter @korean-together/sql bench      (needs DATABASE_URL; about 25 minutes on 2 cores)
//   pnpm --filter @korean-together/sql bench:sink-ratio   (the sink ratio alone, a minute or two)
//   pnpm --filter @korean-together/sql bench:sink-parts   (where a batch's time goes, a minute)
//
// Every table lives in a scratch schema that is dropped afterwards.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';
import * as after from '../../../examples/server/src/stats.js';
import { migrate } from '../src/migrate.js';
import { measureConversion, createOldSchema } from './conversion.js';
import { measurePartitionChoice } from './partition-choice.js';
import * as before from './stats-before.js';
import { measureSinkParts, printSinkParts, sinkPartsMarkdown } from './sink-parts.js';
import { measureSinkRatio, sinkRatioMarkdown } from './sink-ratio.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000000,10000000').split(',').map(Number);
const DAYS = 90;

/** Row j of n, over the last 90 days in time order: 3 capabilities, 6 providers, 5% failures, 2 attempts per call. */
function generated(seed: string, from: number, to: number, n: number): string {
  return `SELECT gen_random_uuid() AS id, md5('${seed}' || (j / 2)::text)::uuid AS call_id, 1 + j % 2 AS attempt,
                 md5('${seed}s' || (j / 60)::text)::uuid AS session_id, NULL::uuid AS event_id,
                 (ARRAY['stt','tts','eval','eval','stt','tts'])[1 + (j / 2) % 6] AS provider_type,
                 (ARRAY['google','google','gemini','openai','whisper','vits'])[1 + (j / 2) % 6] AS provider_name,
                 (ARRAY['latest_short','ko-KR-Wavenet-A','gemini-2.5-flash','gpt-4.1-mini','whisper-1','vits-ko'])[1 + (j / 2) % 6] AS model_id,
                 CASE WHEN (j / 2) % 6 IN (2, 3) THEN 300 + j % 200 END AS tokens_in, CASE WHEN (j / 2) % 6 IN (2, 3) THEN 80 + j % 50 END AS tokens_out,
                 CASE WHEN (j / 2) % 6 IN (0, 4) THEN 2000 + j % 5000 END AS audio_duration_ms, CASE WHEN (j / 2) % 6 IN (1, 5) THEN 20 + j % 100 END AS characters,
                 (40 + 1500 * ((hashint4(j) & 1023) / 1023.0) ^ 3)::int AS latency_ms, j % 20 <> 0 AS success,
                 CASE WHEN j % 20 = 0 THEN (ARRAY['timeout','unavailable','rate_limited'])[1 + j % 3] END AS error_code, NULL::text AS error_message,
                 round((j % 1000) * 0.000001 + 0.000010, 6) AS estimated_cost_usd, 'bench'::text AS price_version,
                 date_trunc('day', now()) - interval '${DAYS - 1} days' + make_interval(secs => (j::float8 / ${n}) * ${DAYS} * 86400) AS created_at
            FROM generate_series(${from}, ${to - 1}) AS j`;
}

const COLS = 'id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in, tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, error_message, estimated_cost_usd, price_version, created_at';

async function fillBefore(pool: pg.Pool, schema: string, seed: string, n: number): Promise<void> {
  for (let from = 0; from < n; from += 500_000) {
    await pool.query(`INSERT INTO "${schema}".ai_usage_log (${COLS}) ${generated(seed, from, Math.min(from + 500_000, n), n)}`);
  }
  await pool.query(
    `INSERT INTO "${schema}".sessions (id) SELECT DISTINCT md5('${seed}s' || (j / 60)::text)::uuid FROM generate_series(0, ${n - 1}, 60) AS j ON CONFLICT DO NOTHING`,
  );
  await pool.query(`INSERT INTO "${schema}".session_events (session_id, event_type, score, pass_fail, primary_error_type, provider, model_id, latency_ms, created_at) ${events(seed, n)}`);
}

/** One evaluation event per 30 usage rows. */
function events(seed: string, n: number): string {
  return `SELECT md5('${seed}s' || (j / 60)::text)::uuid, 'evaluation', j % 101, j % 101 >= 60,
                 (ARRAY['grammar','vocabulary','pronunciation','formality', NULL])[1 + j % 5], 'gemini', 'gemini-2.5-flash', 300 + j % 900,
                 date_trunc('day', now()) - interval '${DAYS - 1} days' + make_interval(secs => (j::float8 / ${n}) * ${DAYS} * 86400)
            FROM generate_series(0, ${n - 1}, 30) AS j`;
}

// Through the writers (ai_usage_log_insert, session_event_insert), so the rollups are the ones the sink would keep.
async function fillAfter(pool: pg.Pool, schema: string, seed: string, n: number): Promise<void> {
  const chunk = 20_000;
  const agg = COLS.split(', ').map((c) => `array_agg(${c}${c === 'estimated_cost_usd' ? '' : ''})`).join(', ');
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < n) {
        const from = next;
        next += chunk;
        await pool.query(`SELECT "${schema}".ai_usage_log_insert(${agg}) FROM (${generated(seed, from, Math.min(from + chunk, n), n)}) AS g`);
      }
    }),
  );
  await pool.query(`INSERT INTO "${schema}".sessions (id) SELECT DISTINCT md5('${seed}s' || (j / 60)::text)::uuid FROM generate_series(0, ${n - 1}, 60) AS j ON CONFLICT DO NOTHING`);
  await pool.query(
    `SELECT "${schema}".session_event_insert(NULL, e.s, NULL, e.t, NULL, NULL, e.score, e.pass, e.err, e.p, e.m, e.lat, NULL, NULL, e.at)
       FROM (${events(seed, n)}) AS e (s, t, score, pass, err, p, m, lat, at)`,
  );
}

interface Timing { query: string; days: number; ms: number }

async function timeQueries(db: before.StatsDb, impl: typeof before | typeof after, runs: number): Promise<Timing[]> {
  const out: Timing[] = [];
  const queries: [string, (d: number) => Promise<unknown>][] = [
    ['costs (v_daily_ai_costs)', (d) => impl.dailyCosts(db as never, d)],
    ['evaluations (v_evaluation_stats)', (d) => impl.evaluationStats(db as never, d)],
    ['latency per day', (d) => impl.latencyPercentiles(db as never, d)],
    ['latency over the window', (d) => impl.latencyOverWindow(db as never, d)],
    ['calls per day', (d) => impl.callStats(db as never, d)],
  ];
  for (const days of [30, 1]) {
    for (const [name, q] of queries) {
      await q(days);
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await q(days);
        ms.push(performance.now() - t);
      }
      out.push({ query: name, days, ms: ms.sort((a, b) => a - b)[Math.floor(runs / 2)]! });
    }
  }
  return out;
}

async function explain(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<string> {
  const r = await pool.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${sql}`, params);
  return r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n');
}

async function measureStats(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const hex = randomBytes(3).toString('hex');
  const sBefore = `kt_bench_before_${hex}`;
  const sAfter = `kt_bench_after_${hex}`;
  const rows: (string | number)[][] = [];
  const sizes: (string | number)[][] = [];
  const explains: Record<string, string> = {};
  try {
    await createOldSchema(pool, sBefore);
    await migrate({ client: pool, schema: sAfter });
    const dbBefore: before.StatsDb = { schema: sBefore, query: async (q, p) => (await pool.query(q, p)).rows as never };
    const dbAfter: before.StatsDb = { schema: sAfter, query: async (q, p) => (await pool.query(q, p)).rows as never };
    let have = 0;
    const timings: Record<number, { b: Timing[]; a: Timing[] }> = {};
    for (const size of SIZES) {
      const seed = `${hex}${size}`;
      let t = performance.now();
      await fillBefore(pool, sBefore, seed, size - have);
      const fillBeforeS = (performance.now() - t) / 1000;
      t = performance.now();
      await fillAfter(pool, sAfter, seed, size - have);
      const fillAfterS = (performance.now() - t) / 1000;
      have = size;
      // What autovacuum does between a host's batches: the rollup rows were updated once per batch
      // (once per event for the evaluation rollups) and keep their dead versions until vacuumed.
      for (const s of [sBefore, sAfter]) await pool.query(`VACUUM ANALYZE "${s}".ai_usage_log, "${s}".session_events`);
      await pool.query(`VACUUM ANALYZE "${sAfter}".ai_usage_hourly, "${sAfter}".ai_usage_daily, "${sAfter}".evaluation_hourly, "${sAfter}".evaluation_daily`);
      // A table with its indexes (a partitioned one: its partitions, each with its indexes).
      const mb = async (s: string, rel: string) => Number((await pool.query(`SELECT round(sum(pg_total_relation_size(c.oid)) / 1048576.0) AS mb FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND (c.relname = $2 OR (c.relispartition AND c.relname LIKE $2 || '\\_p%'))`, [s, rel])).rows[0].mb);
      const rollupRows = Number((await pool.query(`SELECT (SELECT count(*) FROM "${sAfter}".ai_usage_hourly) + (SELECT count(*) FROM "${sAfter}".ai_usage_daily) AS n`)).rows[0].n);
      const perDay = Number((await pool.query(`SELECT round(avg(pg_total_relation_size(c.oid)) / 1048576.0, 1) AS mb FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname LIKE 'ai\\_usage\\_log\\_p%' AND c.relispartition AND c.relkind = 'r'
         AND EXISTS (SELECT 1 FROM "${sAfter}".ai_usage_daily d WHERE 'ai_usage_log_p' || to_char(d.day, 'YYYYMMDD') = c.relname)`, [sAfter])).rows[0].mb);
      sizes.push([size.toLocaleString('en-US'), Math.round(size / DAYS).toLocaleString('en-US'), fillBeforeS.toFixed(0), fillAfterS.toFixed(0), await mb(sBefore, 'ai_usage_log'), await mb(sAfter, 'ai_usage_log'), perDay, rollupRows.toLocaleString('en-US'), await mb(sAfter, 'ai_usage_hourly') + await mb(sAfter, 'ai_usage_daily')]);
      timings[size] = { b: await timeQueries(dbBefore, before, 3), a: await timeQueries(dbAfter, after, 7) };
      if (size === SIZES[SIZES.length - 1]) {
        const day = `((now() AT TIME ZONE 'UTC')::date - 30)`;
        explains.beforeCosts = await explain(pool, `SELECT * FROM "${sBefore}".v_daily_ai_costs WHERE date > ${day}`);
        explains.afterCosts = await explain(pool, `SELECT * FROM "${sAfter}".v_daily_ai_costs WHERE date > ${day}`);
        explains.afterLatencyWindow = await explain(pool, `SELECT provider_type, provider_name, "${sAfter}".ai_latency_quantile("${sAfter}".ai_latency_histogram_sum(latency_histogram), 0.95) FROM "${sAfter}".ai_usage_daily WHERE day > ${day} GROUP BY 1, 2`);
        // The writers' look-up of a batch's calls (as inside ai_usage_log_insert): the (call_id, created_at) index, one day's partition.
        const calls = (await pool.query(`SELECT array_agg(call_id) AS c FROM (SELECT call_id FROM "${sAfter}".ai_usage_log WHERE created_at >= date_trunc('day', now()) - interval '1 day' LIMIT 1000) x`)).rows[0].c;
        // With the function's plan settings (SET clauses of ai_usage_log_insert) and its generic plan.
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await c.query(`SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_nestloop = off`);
          await c.query(`PREPARE kt_lookup(uuid[]) AS SELECT call_id, provider_name, success FROM "${sAfter}".ai_usage_log WHERE call_id = ANY ($1) AND created_at >= date_trunc('day', now()) - interval '1 day' AND created_at < date_trunc('day', now())`);
          const r = await c.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE kt_lookup('${`{${(calls as string[]).join(',')}}`}')`);
          explains.writerLookup = r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n');
          await c.query('DEALLOCATE kt_lookup');
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      }
    }
    const names = timings[SIZES[0]!]!.a.map((t) => [t.query, t.days] as const);
    for (const [q, d] of names) {
      const cell = (size: number, side: 'a' | 'b') => timings[size]![side].find((t) => t.query === q && t.days === d)!.ms;
      rows.push([q, d, ...SIZES.flatMap((size) => [cell(size, 'b').toFixed(0), cell(size, 'a').toFixed(1)])]);
    }
  } finally {
    for (const s of [sBefore, sAfter]) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  }
  return { rows, sizes, explains };
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    writeBenchSection('usage-log-at-scale', '## The usage log at scale: rollups and partitions\n\nNot measured: set DATABASE_URL to a Postgres server.');
    return;
  }
  const load = os.loadavg()[0]!.toFixed(2);
  console.log('partition layout and indexes...');
  const layout = await measurePartitionChoice(url);
  console.log('conversion of 3M rows...');
  const conversion = await measureConversion(url, Number(process.env.BENCH_CONVERT_ROWS ?? 3_000_000));
  console.log('sink with rollups vs hand-written bulk insert...');
  const sink = await measureSinkRatio(url);
  console.log('where a usage batch\'s time goes...');
  const parts = await measureSinkParts(url);
  console.log('stats queries before and after...');
  const stats = await measureStats(url);

  const sizeLabel = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n.toLocaleString('en-US'));
  const statCols = ['stats query (as src/stats.ts runs it)', 'days', ...SIZES.flatMap((n) => [`before, ${sizeLabel(n)} rows ms`, `after, ${sizeLabel(n)} rows ms`])];
  printTable(statCols, stats.rows);
  const sizeCols = ['rows (90 days)', 'rows per day', 'fill before s', 'fill after (through the writers) s', 'ai_usage_log before MB', 'ai_usage_log after MB', 'one day\'s partition MB (with indexes)', 'rollup rows (hourly + daily)', 'rollups MB'];
  printTable(sizeCols, stats.sizes);
  const layoutCols = ['layout', 'partitions', 'indexes', 'insert rows/s (batches of 1000)', 'one call by call_id ms', 'count of one day ms'];
  const layoutRows = layout.map((l) => [l.layout, l.partitions, l.indexes, l.insertRowsPerSecond.toLocaleString('en-US'), l.callLookupMs.toFixed(2), l.dayCountMs.toFixed(2)]);
  printTable(layoutCols, layoutRows);
  console.log(sink);
  printSinkParts(parts);
  console.log(conversion);

  const md = [
    '## The usage log at scale: rollups and partitions',
    '',
    `${machineLine()}; Postgres on the same machine; 1-minute load average ${load} when the run started (the machine is shared). Command: \`pnpm --filter @korean-together/sql bench\`.`,
    '',
    '### Stats queries: raw tables before, rollups after',
    '',
    `Synthetic usage rows in time order over the last ${DAYS} days (3 capabilities, 6 providers, 5% failures, 2 attempts per call) and one evaluation event per 30 rows, in scratch schemas: **before** is an install as migrations 000001-000002 left it (one table, the design note's indexes, views over the raw rows), filled with \`INSERT ... SELECT generate_series\`, queried by \`examples/server/src/stats.ts\` as it was before the rollups; **after** is migration 000003 (daily partitions, rollups), filled through the writers (\`ai_usage_log_insert\` on 20,000 generated rows at a time, \`session_event_insert\` per event), queried by today's \`src/stats.ts\`. The second size adds rows to the first; both schemas are vacuumed and analysed after each fill (as autovacuum would between a host's batches). Median of 3 runs before, 7 after, each after one warm-up run.`,
    '',
    markdownTable(statCols, stats.rows),
    '',
    markdownTable(sizeCols, stats.sizes),
    '',
    // Its own section inside this one, so `bench:sink-ratio` can re-measure it alone.
    '<!-- bench:usage-log-sink-ratio -->',
    sinkRatioMarkdown(sink, load),
    '<!-- /bench:usage-log-sink-ratio -->',
    '',
    '<!-- bench:usage-log-sink-parts -->',
    sinkPartsMarkdown(parts, load),
    '<!-- /bench:usage-log-sink-parts -->',
    '',
    '### Converting an existing install (migration 000003)',
    '',
    `${conversion.usageRows.toLocaleString('en-US')} usage rows over 30 days and ${conversion.events.toLocaleString('en-US')} session events in an unpartitioned install (${conversion.tableMbBefore} MB of ai_usage_log with its indexes; filling it took ${conversion.generateSeconds.toFixed(0)} s): \`migrate()\` took **${conversion.migrateSeconds.toFixed(0)} s**, holding ACCESS EXCLUSIVE on ai_usage_log and session_events throughout (copy, indexes, rollups).`,
    '',
    '### Partition layout and indexes',
    '',
    '600,000 rows over 90 days in 600 batches of 1000 (`unnest`, `ON CONFLICT DO NOTHING`), then a look-up that cannot prune and one that can (median of 7).',
    '',
    markdownTable(layoutCols, layoutRows),
    '',
    '### Query plans at the largest size',
    '',
    'Costs view, before (the view\'s date expression cannot use an index: every row is read):',
    '',
    '```',
    stats.explains.beforeCosts ?? '',
    '```',
    '',
    'Costs view, after (a range of the daily rollup\'s key):',
    '',
    '```',
    stats.explains.afterCosts ?? '',
    '```',
    '',
    'Latency over a 30-day window, after (the daily histograms added up):',
    '',
    '```',
    stats.explains.afterLatencyWindow ?? '',
    '```',
    '',
    'The writers\' look-up of a batch\'s calls in one day (as `ai_usage_log_insert` runs it, 1000 calls):',
    '',
    '```',
    stats.explains.writerLookup ?? '',
    '```',
  ].join('\n');
  writeBenchSection('usage-log-at-scale', md);
}

await main();
