// `pnpm --filter @korean-together/usage-log bench`: sink throughput into the local Postgres
// server versus one INSERT per row, write() latency on the caller's side, and memory through
// a database outage. Prints a table and rewrites the 'usage-log' section of docs/BENCHMARKS.md.
// Env: DATABASE_URL (default the local server), BENCH_SECONDS (throughput run, default 10),
// BENCH_OUTAGE_SECONDS (default 60), BENCH_RATE (rows/s during the outage run, default 5000),
// BENCH_BATCH and BENCH_CONC (batchSize and concurrency of the throughput run; sink defaults),
// BENCH_REPEAT (throughput runs, default 3; the median is reported).
import os from 'node:os';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';
import { mb, serverReachable } from './bench-db.js';
import { outageRun } from './outage.js';
import { perRowThroughput, sinkThroughput } from './throughput.js';

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const outageSeconds = Number(process.env.BENCH_OUTAGE_SECONDS ?? 60);
const rate = Number(process.env.BENCH_RATE ?? 5000);

if (!(await serverReachable(url))) {
  console.log(`usage-log bench: no Postgres server at ${new URL(url).host}; set DATABASE_URL. Nothing measured.`);
  process.exit(0);
}
if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for heap figures after a full GC)');

const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const load = os.loadavg()[0]!.toFixed(2);
const runs = [];
for (let i = 0; i < repeat; i++) {
  console.log(`sink throughput, run ${i + 1}/${repeat}, ${seconds} s ...`);
  runs.push(await sinkThroughput(url, seconds));
}
// The machine is shared: report the median run, and every run.
const sink = [...runs].sort((a, b) => a.sinkRowsPerSec - b.sinkRowsPerSec)[Math.floor(runs.length / 2)]!;
const allRuns = runs.map((r) => Math.round(r.sinkRowsPerSec).toLocaleString('en-US')).join(', ');
console.log('one INSERT per row, 1 and 2 connections ...');
const perRow1 = await perRowThroughput(url, Math.min(seconds, 5), 1);
const perRow2 = await perRowThroughput(url, Math.min(seconds, 5), 2);
console.log(`outage: ${rate} rows/s, database down for ${outageSeconds} s ...`);
const outage = await outageRun(url, { rate, beforeSeconds: 10, outageSeconds, maxDrainSeconds: 60 });

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const before = outage.samples.filter((s) => s.phase === 'before');
const during = outage.samples.filter((s) => s.phase === 'outage');
const maxOf = (xs: typeof before, k: 'heapUsed' | 'rss' | 'pending') => Math.max(...xs.map((x) => x[k]));
const minOf = (xs: typeof before, k: 'heapUsed' | 'rss') => Math.min(...xs.map((x) => x[k]));
const firstHalf = during.slice(0, Math.floor(during.length / 2));
const secondHalf = during.slice(Math.floor(during.length / 2));

const cols = ['measurement', 'result', 'goal'];
const rows: (string | number)[][] = [
  [
    `createPostgresSink, sustained (batch 1000, 2 connections, unnest + ON CONFLICT DO NOTHING), median of ${runs.length} runs of ${seconds} s`,
    `${fmt(sink.sinkRowsPerSec)} rows/s (runs: ${allRuns}; every run: all rows present once, cost sum exact: ${runs.every((r) => r.correct) ? 'yes' : 'NO'})`,
    '>= 60,000 rows/s',
  ],
  ['one INSERT ... ON CONFLICT DO NOTHING per row, awaited, 1 connection', `${fmt(perRow1)} rows/s`, ''],
  ['one INSERT per row, 2 connections', `${fmt(perRow2)} rows/s`, ''],
  ['sink speed-up over one INSERT per row (2 connections each)', `${fmt(sink.sinkRowsPerSec / perRow2, 1)} x`, ''],
  [`write() on the caller's side, steady ${fmt(rate)} rows/s through the outage run (${fmt(outage.emitted)} calls)`, `p50 ${outage.writeP50Us.toFixed(2)} us, p99 ${outage.writeP99Us.toFixed(2)} us, p99.9 ${outage.writeP999Us.toFixed(2)} us`, 'p99 < 2 us'],
  [`write() on the caller's side at full throughput (${fmt(sink.writeSamples)} calls, both cores busy with Postgres)`, `p50 ${sink.writeP50Us.toFixed(2)} us, p99 ${sink.writeP99Us.toFixed(2)} us, p99.9 ${sink.writeP999Us.toFixed(2)} us`, ''],
  [`heap used before the outage (${before.length} s, after full GC)`, `${mb(minOf(before, 'heapUsed'))}-${mb(maxOf(before, 'heapUsed'))} MB`, ''],
  [`heap used during a ${outageSeconds} s outage at ${fmt(rate)} rows/s: first half / second half max`, `${mb(maxOf(firstHalf, 'heapUsed'))} / ${mb(maxOf(secondHalf, 'heapUsed'))} MB`, 'flat'],
  ['RSS during the outage: first half / second half max', `${mb(maxOf(firstHalf, 'rss'))} / ${mb(maxOf(secondHalf, 'rss'))} MB`, 'flat'],
  ['rows in memory during the outage (max pending)', `${fmt(maxOf(during, 'pending'))} (maxQueue ${fmt(outage.maxQueue)})`, '<= maxQueue'],
  ['rows spilled / replayed', `${fmt(outage.spilled)} / ${fmt(outage.replayed)}`, ''],
  ['backlog drained after the database came back', Number.isNaN(outage.drainSeconds) ? 'not within 60 s' : `${fmt(outage.drainSeconds, 0)} s (while the stream went on)`, ''],
  ['outage run: rows emitted = count(*) = count(distinct id), cost sum exact', `${fmt(outage.emitted)} rows: ${outage.correct ? 'yes' : 'NO'}`, 'yes'],
];
console.log('');
printTable(cols, rows);

const heapLine = outage.samples.map((s) => `${s.second}:${s.phase[0]}:${mb(s.heapUsed)}`).join(' ');
writeBenchSection(
  'usage-log',
  `## usage-log: Postgres sink

${machineLine()}; Postgres on the same machine (${new URL(url).host}); 1-minute load average ${load} when the run started
(the machine is shared, so figures move between runs). Command: \`pnpm --filter @korean-together/usage-log bench\`
(throughput run ${seconds} s; outage run: 10 s up, ${outageSeconds} s down, then up until the spill is replayed).

${markdownTable(cols, rows)}

The outage is made by a TCP proxy between the sink and the server that refuses every connection.
Heap used per second after a full GC (second:phase b/o/a:MB): ${heapLine}

write() is timed one call at a time with \`process.hrtime.bigint()\` (about 0.04 us of each figure is the
timer itself). write() only copies the record into the queue; validation runs on the sink's own turn.
The throughput run feeds the sink whenever fewer than 20,000 rows are pending (a busy host that never
waits), so it measures what the database path sustains with the queue bounded; the one-INSERT-per-row
rows use the same columns and \`ON CONFLICT DO NOTHING\`, each statement awaited before the next.`,
);
console.log('\nwrote the usage-log section of docs/BENCHMARKS.md');
