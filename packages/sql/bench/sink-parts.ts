// Where a usage batch's time goes, part by part, to explain the sink-ratio figure: the sink's own
// CPU per 1,000-row batch (validation, parameter encoding, the batch rollup) beside the
// hand-written insert's encoding, then the database's time for the writer function against the
// plain insert on one connection, batches interleaved and both given the same parameters.
//
// Run alone with `pnpm --filter @korean-together/sql bench:sink-parts` (sink-parts-run.ts); also
// part of `bench`.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { normalizeUsage } from '../../usage-log/src/index.js';
import { batchRollup } from '../../usage-log/src/batch-rollup.js';
import { insertParams, insertStatement } from '../../usage-log/src/insert-statement.js';
import type { UsageRow } from '../../usage-log/src/usage-row.js';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { machineLine, markdownTable, printTable } from '../../../scripts/bench-report.js';
import { migrate } from '../src/migrate.js';
import { handColumns, handInsertSql } from './sink-ratio.js';

// node-postgres's own parameter serialisation, which a plain JS array goes through.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds per call of `f`: the median of 15 rounds of 50 calls, after 100 to warm up. */
function perCall(f: () => unknown): number {
  for (let i = 0; i < 100; i++) f();
  const rounds: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t = performance.now();
    for (let i = 0; i < 50; i++) f();
    rounds.push((performance.now() - t) / 50);
  }
  return median(rounds);
}

export interface SinkParts {
  batches: number;
  /** The sink's CPU per 1,000-row batch, ms. */
  cpu: { validate: number; plain: number; literals: number; rollup: number };
  /** The database's time per batch, ms. */
  db: { hand: number; writer: number };
}

export async function measureSinkParts(url: string, batches = Number(process.env.BENCH_PARTS_BATCHES ?? 300)): Promise<SinkParts> {
  const start = Date.now() - 3_600_000;
  const batchOf = (stream: string, b: number) => Array.from({ length: 1000 }, (_, i) => makeRecord(stream, b * 1000 + i, { createdAt: new Date(start + b * 1000 + i) }));
  const validate = (recs: ReturnType<typeof batchOf>) => recs.map((r) => (normalizeUsage(r) as { row: UsageRow }).row);

  const recs = batchOf(streamId(), 0);
  const rows = validate(recs);
  const cpu = {
    validate: perCall(() => validate(recs)),
    plain: perCall(() => handColumns(rows).map(prepareValue)),
    literals: perCall(() => insertParams(rows).map(prepareValue)),
    rollup: perCall(() => batchRollup(rows)),
  };

  // The database: one connection, the two statements' batches interleaved so they share the noise.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const schemas = [`kt_bench_parts_${randomBytes(3).toString('hex')}`, `kt_bench_parts_${randomBytes(3).toString('hex')}`] as const;
  const db = { hand: 0, writer: 0 };
  try {
    for (const schema of schemas) await migrate({ client, schema });
    const writer = insertStatement(schemas[1], 'ai_usage_log');
    const hand = handInsertSql(schemas[0]);
    for (let b = 0; b < batches; b++) {
      const params = writer.params(validate(batchOf(streamId(), b)));
      const order = b % 2 === 0 ? (['hand', 'writer'] as const) : (['writer', 'hand'] as const);
      for (const which of order) {
        const t = performance.now();
        if (which === 'hand') await client.query({ name: 'hand', text: hand, values: params.slice(0, -1) });
        else await client.query({ name: 'writer', text: writer.text, values: params });
        db[which] += performance.now() - t;
      }
    }
  } finally {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  return { batches, cpu, db: { hand: db.hand / batches, writer: db.writer / batches } };
}

const f = (ms: number) => ms.toFixed(2);
const cpuTable = (p: SinkParts): [string[], (string | number)[][]] => [
  ['sink CPU per 1,000-row batch', 'ms'],
  [
    ['validating the records (normalizeUsage), sink only', f(p.cpu.validate)],
    ['parameters as plain JS arrays through node-postgres (the hand-written insert)', f(p.cpu.plain)],
    ["parameters as the sink's array literals (insertParams)", f(p.cpu.literals)],
    ['the batch rollup (batchRollup), sink only', f(p.cpu.rollup)],
  ],
];
const dbTable = (p: SinkParts): [string[], (string | number)[][]] => [
  [`database, one connection, ${p.batches} interleaved batches of 1,000`, 'ms per batch', 'speed vs hand'],
  [
    ['hand-written INSERT ... SELECT FROM unnest(...)', f(p.db.hand), '1.000x'],
    ["ai_usage_log_insert (rows, sink's rollup, checks, rollup upsert)", f(p.db.writer), `${(p.db.hand / p.db.writer).toFixed(3)}x`],
  ],
];

export function printSinkParts(p: SinkParts): void {
  printTable(...cpuTable(p));
  console.log('');
  printTable(...dbTable(p));
}

/** The parts' section of docs/BENCHMARKS.md (`usage-log-sink-parts`). */
export function sinkPartsMarkdown(p: SinkParts, load: string): string {
  return [
    "### Where a usage batch's time goes",
    '',
    `${machineLine()}; Postgres on the same machine; 1-minute load average ${load} when the run started. Command: \`pnpm --filter @korean-together/sql bench:sink-parts\` (also part of \`bench\`).`,
    '',
    "The sink's own CPU per 1,000-row batch (median of 15 rounds of 50 batches), beside the hand-written insert's parameter encoding:",
    '',
    markdownTable(...cpuTable(p)),
    '',
    `The database's time per batch on one connection, the two statements' batches interleaved and given the same array-literal parameters (the writer also its rollup), ${p.batches} batches each:`,
    '',
    markdownTable(...dbTable(p)),
  ].join('\n');
}
