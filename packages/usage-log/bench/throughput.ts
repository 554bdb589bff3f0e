import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresSink } from '../src/index.js';
import { costSumText, makeRecord, streamId } from '../../../test-support/usage.js';
import { benchSchema, countRows, percentile } from './bench-db.js';

export interface ThroughputResult {
  sinkRowsPerSec: number;
  sinkRows: number;
  sinkSeconds: number;
  correct: boolean;
  perRow1RowsPerSec: number;
  perRow2RowsPerSec: number;
  writeP50Us: number;
  writeP99Us: number;
  writeP999Us: number;
  writeMaxUs: number;
  writeSamples: number;
}

/**
 * Sustained sink throughput: a producer keeps the sink fed (it writes whenever fewer than
 * `highWater` rows are pending, like a busy host whose calls never wait on the sink) for
 * `seconds`, then flushes. Every write() call is timed on the caller's side.
 */
export async function sinkThroughput(url: string, seconds: number): Promise<Pick<ThroughputResult, 'sinkRowsPerSec' | 'sinkRows' | 'sinkSeconds' | 'correct' | 'writeP50Us' | 'writeP99Us' | 'writeP999Us' | 'writeMaxUs' | 'writeSamples'>> {
  const db = await benchSchema(url);
  try {
    const sink = createPostgresSink({
      connectionString: url,
      schema: db.schema,
      spillDir: await mkdtemp(join(tmpdir(), 'kt-bench-')),
      ...(process.env.BENCH_BATCH && { batchSize: Number(process.env.BENCH_BATCH) }),
      ...(process.env.BENCH_CONC && { concurrency: Number(process.env.BENCH_CONC) }),
    });
    const s = streamId();
    // Records are made before timing: only write() itself is measured.
    const pre = Array.from({ length: 200_000 }, (_, i) => makeRecord(s, i));
    const samples = new Float64Array(4_000_000);
    let nSamples = 0;
    let seq = 0;
    const highWater = 20_000;
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < end) {
      if (sink.stats().pending >= highWater) {
        // Full: let the sink work instead of spinning on stats().
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      {
        for (let i = 0; i < 1000; i++) {
          const rec = seq < pre.length ? pre[seq]! : makeRecord(s, seq);
          const t0 = process.hrtime.bigint();
          sink.write(rec);
          const t1 = process.hrtime.bigint();
          if (nSamples < samples.length) samples[nSamples++] = Number(t1 - t0) / 1000;
          seq++;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
    await sink.flush();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    await sink.close();
    const st = sink.stats();
    const got = await countRows(db.pool, db.schema);
    const sorted = samples.subarray(0, nSamples).sort();
    return {
      sinkRows: seq,
      sinkSeconds: elapsed,
      sinkRowsPerSec: seq / elapsed,
      correct: got.n === seq && got.distinct === seq && got.cost === costSumText(0, seq) && st.dropped === 0,
      writeP50Us: percentile(sorted, 50),
      writeP99Us: percentile(sorted, 99),
      writeP999Us: percentile(sorted, 99.9),
      writeMaxUs: sorted[sorted.length - 1] ?? Number.NaN,
      writeSamples: nSamples,
    };
  } finally {
    await db.drop();
  }
}

/** The naive way: one `INSERT ... ON CONFLICT DO NOTHING` per row, awaited, on `workers` connections. */
export async function perRowThroughput(url: string, seconds: number, workers: number): Promise<number> {
  const db = await benchSchema(url);
  try {
    const s = streamId();
    let seq = 0;
    const end = Date.now() + seconds * 1000;
    const start = Date.now();
    const sql = `INSERT INTO "${db.schema}".ai_usage_log (id, call_id, attempt, provider_type, provider_name, model_id, tokens_in, tokens_out,
      latency_ms, success, error_code, error_message, estimated_cost_usd, price_version, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING`;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          while (Date.now() < end) {
            const r = makeRecord(s, seq++);
            await c.query({
              name: 'per_row',
              text: sql,
              values: [r.id, r.callId, r.attempt, r.providerType, r.providerName, r.modelId, r.tokensIn, r.tokensOut, r.latencyMs, r.success, r.errorCode ?? null, r.errorMessage ?? null, r.estimatedCostUsd, r.priceVersion, r.createdAt],
            });
          }
        } finally {
          await c.end();
        }
      }),
    );
    return seq / ((Date.now() - start) / 1000);
  } finally {
    await db.drop();
  }
}
