// Only the sink's parts (sink-parts.ts): a minute. Prints the tables; with BENCH_WRITE=1 it also
// rewrites the `usage-log-sink-parts` section of docs/BENCHMARKS.md.
//
//   DATABASE_URL=... pnpm --filter @korean-together/sql bench:sink-parts
//   (BENCH_PARTS_BATCHES: database batches per statement, default 300)
import os from 'node:os';
import { writeBenchSection } from '../../../scripts/bench-report.js';
import { measureSinkParts, printSinkParts, sinkPartsMarkdown } from './sink-parts.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a Postgres server');
const load = os.loadavg()[0]!.toFixed(2);
const parts = await measureSinkParts(url);
printSinkParts(parts);
console.log(`load at start ${load}, now ${os.loadavg()[0]!.toFixed(2)}`);
if (process.env.BENCH_WRITE === '1') writeBenchSection('usage-log-sink-parts', sinkPartsMarkdown(parts, load));
