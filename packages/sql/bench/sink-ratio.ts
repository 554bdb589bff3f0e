// The usage sink with rollups (rows and rollups through ai_usage_log_insert) against a
// hand-written bulk insert of the same rows into the same table, alternating rounds in one run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresSink, normalizeUsage } from '../../usage-log/src/index.js';
import type { UsageRow } from '../../usage-log/src/usage-row.js';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { machineLine, markdownTable } from '../../../scripts/bench-report.js';
import { migrate } from '../src/migrate.js';
import { reconcile } from '../src/reconcile.js';

export interface SinkRatio {
  rows: number;
  rounds: number;
  batchSize: number;
  connections: number;
  perRound: { sink: number; hand: number }[];
  sinkMedian: number;
  handMedian: number;
  correct: boolean;
}

/**
 * The hand-written insert's parameters: one plain JS array per column, serialised by
 * node-postgres, as a developer would write it (the sink builds its own array literals, see
 * usage-log's array-literal.ts; this reference does not share that code).
 */
export function handColumns(rows: readonly UsageRow[]): unknown[][] {
  return [
    rows.map((r) => r.id), rows.map((r) => r.callId), rows.map((r) => r.attempt), rows.map((r) => r.sessionId), rows.map((r) => r.eventId),
    rows.map((r) => r.providerType), rows.map((r) => r.providerName), rows.map((r) => r.modelId), rows.map((r) => r.tokensIn),
    rows.map((r) => r.tokensOut), rows.map((r) => r.audioDurationMs), rows.map((r) => r.characters), rows.map((r) => r.latencyMs),
    rows.map((r) => r.success), rows.map((r) => r.errorCode), rows.map((r) => r.errorMessage), rows.map((r) => r.estimatedCostUsd),
    rows.map((r) => r.priceVersion), rows.map((r) => new Date(r.createdAt).toISOString()), rows.map((r) => r.tokensCachedIn ?? null),
    rows.map((r) => r.cacheHit === true), rows.map((r) => r.savedCostUsd ?? null),
  ];
}

/** The hand-written bulk insert into `schema`'s ai_usage_log: every column from `unnest`, ON CONFLICT DO NOTHING. */
export function handInsertSql(schema: string): string {
  const cols = 'id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in, tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, error_message, estimated_cost_usd, price_version, created_at, tokens_cached_in, cache_hit, saved_cost_usd';
  const types = ['uuid', 'uuid', 'int', 'uuid', 'uuid', 'text', 'text', 'text', 'int', 'int', 'int', 'int', 'int', 'bool', 'text', 'text', 'numeric', 'text', 'timestamptz', 'int', 'bool', 'numeric'];
  return `INSERT INTO "${schema}".ai_usage_log (${cols}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT DO NOTHING`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureSinkRatio(url: string, rows = Number(process.env.BENCH_SINK_ROWS ?? 200_000), rounds = Number(process.env.BENCH_SINK_ROUNDS ?? 3)): Promise<SinkRatio> {
  const schema = `kt_bench_sink_${randomBytes(3).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const batchSize = 1000;
  const connections = 2;
  const perRound: { sink: number; hand: number }[] = [];
  let correct = true;
  try {
    await migrate({ client: pool, schema });
    const handSql = handInsertSql(schema);
    const start = Date.now() - 3_600_000;
    const handStreams: string[] = [];
    for (let round = 0; round < rounds; round++) {
      // The same rows for both (the hand-written insert gets fresh ids), timestamps in the last hour.
      const sinkStream = streamId();
      const handStream = streamId();
      handStreams.push(handStream);
      const at = (i: number) => new Date(start + round * rows + i);
      const recs = Array.from({ length: rows }, (_, i) => makeRecord(sinkStream, i, { createdAt: at(i) }));
      const spillDir = await mkdtemp(join(tmpdir(), 'kt-bench-sink-'));
      const sink = createPostgresSink({ connectionString: url, schema, spillDir, batchSize, concurrency: connections, flushTimeoutMs: 120_000 });
      let t = performance.now();
      for (let i = 0; i < rows; i += 1000) {
        for (let k = i; k < Math.min(i + 1000, rows); k++) sink.write(recs[k]!);
        // A busy host that never waits: feed whenever fewer than 20,000 rows are pending.
        while (sink.stats().pending > 20_000) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setImmediate(r));
      }
      await sink.flush();
      const sinkRate = rows / ((performance.now() - t) / 1000);
      await sink.close();
      await rm(spillDir, { recursive: true, force: true });
      const handRows: UsageRow[] = Array.from({ length: rows }, (_, i) => (normalizeUsage(makeRecord(handStream, i, { createdAt: at(i) })) as { row: UsageRow }).row);
      t = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (next < rows) {
            const b = handRows.slice(next, next + batchSize);
            next += batchSize;
            await pool.query(handSql, handColumns(b));
          }
        }),
      );
      const handRate = rows / ((performance.now() - t) / 1000);
      perRound.push({ sink: sinkRate, hand: handRate });
      const st = sink.stats();
      const n = Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".ai_usage_log WHERE id::text LIKE $1`, [`${sinkStream}%`])).rows[0].n);
      correct &&= st.dropped === 0 && st.failed === 0 && n === rows;
    }
    // The hand-written rows bypassed the rollups: without them, the rollups equal the raw rows.
    await pool.query(`DELETE FROM "${schema}".ai_usage_log WHERE substr(id::text, 1, 8) = ANY ($1::text[])`, [handStreams]);
    const report = await reconcile({ client: pool, schema, from: new Date(start - 86_400_000), to: new Date(Date.now() + 86_400_000) });
    correct &&= report.ok;
    return { rows, rounds, batchSize, connections, perRound, sinkMedian: median(perRound.map((r) => r.sink)), handMedian: median(perRound.map((r) => r.hand)), correct };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

/** The ratio's section of docs/BENCHMARKS.md (`usage-log-sink-ratio`). */
export function sinkRatioMarkdown(sink: SinkRatio, load: string): string {
  const ratios = sink.perRound.map((r) => r.sink / r.hand);
  return [
    '### Usage sink with rollups against a hand-written bulk insert',
    '',
    `${machineLine()}; Postgres on the same machine; 1-minute load average ${load} when the run started (the machine is shared). Command: \`${sink.rounds === 3 ? '' : `BENCH_SINK_ROUNDS=${sink.rounds} `}pnpm --filter @korean-together/sql bench:sink-ratio\` (also part of \`bench\`).`,
    '',
    `${sink.rows.toLocaleString('en-US')} rows per round, batches of ${sink.batchSize}, ${sink.connections} connections each, into the same migrated \`ai_usage_log\`; the sink (\`createPostgresSink\`, rows and rollups through \`ai_usage_log_insert\`) and a hand-written \`INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING\` of the same rows (fresh ids; one plain JS array per column, serialised by node-postgres), ${sink.rounds} alternating rounds. The sink's time includes validating each record and computing each batch's rollup; the hand-written insert gets the rows already validated.`,
    '',
    markdownTable(['round', 'sink with rollups rows/s', 'hand-written bulk insert rows/s', 'ratio'], sink.perRound.map((r, i) => [i + 1, Math.round(r.sink).toLocaleString('en-US'), Math.round(r.hand).toLocaleString('en-US'), (r.sink / r.hand).toFixed(2)])),
    '',
    `Median: sink ${Math.round(sink.sinkMedian).toLocaleString('en-US')} rows/s, hand-written ${Math.round(sink.handMedian).toLocaleString('en-US')} rows/s: **${(sink.sinkMedian / sink.handMedian).toFixed(3)}x** (median of the per-round ratios ${median(ratios).toFixed(3)}x; goal >= 0.75x; three decimals so that a figure just under the goal is not rounded up to it). Every round: rows = distinct ids, rollups equal the raw rows (reconcile): ${sink.correct ? 'yes' : 'NO'}.`,
  ].join('\n');
}
