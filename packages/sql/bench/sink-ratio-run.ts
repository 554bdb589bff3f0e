// Only the sink-with-rollups vs hand-written bulk insert ratio (median of three alternating
// rounds), a few minutes instead of the full bench's quarter hour. Prints the rounds; with
// BENCH_WRITE=1 it also rewrites the `usage-log-sink-ratio` section of docs/BENCHMARKS.md.
//
//   DATABASE_URL=... pnpm --filter @korean-together/sql bench:sink-ratio
//   (BENCH_SINK_ROWS: rows per round, default 200000; BENCH_SINK_ROUNDS: rounds, default 3)
import os from 'node:os';
import { writeBenchSection } from '../../../scripts/bench-report.js';
import { measureSinkRatio, sinkRatioMarkdown } from './sink-ratio.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a Postgres server');
const load = os.loadavg()[0]!.toFixed(2);
const result = await measureSinkRatio(url);
for (const [i, r] of result.perRound.entries()) console.log(`round ${i + 1}: sink ${Math.round(r.sink)} rows/s, hand ${Math.round(r.hand)} rows/s, ${(r.sink / r.hand).toFixed(3)}x`);
console.log(`median ratio ${(result.sinkMedian / result.handMedian).toFixed(3)}x (medians of each side), correct: ${result.correct}, load at start ${load}, now ${os.loadavg()[0]!.toFixed(2)}`);
if (process.env.BENCH_WRITE === '1') writeBenchSection('usage-log-sink-ratio', sinkRatioMarkdown(result, load));
