import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresSink } from '../src/index.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { costSumText, makeRecord, streamId } from '../../../test-support/usage.js';
import { benchSchema, countRows, percentile, sleep } from './bench-db.js';

export interface OutageSample {
  second: number;
  phase: 'before' | 'outage' | 'after';
  heapUsed: number;
  rss: number;
  pending: number;
  spilled: number;
}

export interface OutageResult {
  ratePerSec: number;
  outageSeconds: number;
  maxQueue: number;
  samples: OutageSample[];
  emitted: number;
  spilled: number;
  replayed: number;
  drainSeconds: number;
  correct: boolean;
  writeP50Us: number;
  writeP99Us: number;
  writeP999Us: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * A steady stream of `rate` rows/s into the sink through a TCP proxy; the proxy refuses every
 * connection for `outageSeconds` (the database is down), then forwards again. Heap (after a
 * full GC when run with --expose-gc) and RSS are sampled every second; write() is timed on the
 * caller's side throughout.
 */
export async function outageRun(url: string, opts: { rate: number; beforeSeconds: number; outageSeconds: number; maxDrainSeconds: number }): Promise<OutageResult> {
  const db = await benchSchema(url);
  const proxy = TcpProxy.forUrl(url);
  await proxy.start();
  const maxQueue = 50_000;
  try {
    const sink = createPostgresSink({
      connectionString: proxy.urlFor(url),
      schema: db.schema,
      spillDir: await mkdtemp(join(tmpdir(), 'kt-bench-outage-')),
      maxQueue,
      connectionTimeoutMillis: 1000,
      retryMaxDelayMs: 1000,
    });
    const s = streamId();
    let seq = 0;
    const samplesUs = new Float64Array(opts.rate * (opts.beforeSeconds + opts.outageSeconds + opts.maxDrainSeconds + 5));
    let nUs = 0;
    const t0 = Date.now();
    // Paced by the clock, not by timer counts: `rate` rows per second on average.
    const pacer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) / 1000) * opts.rate);
      while (seq < due) {
        const rec = makeRecord(s, seq++);
        const a = process.hrtime.bigint();
        sink.write(rec);
        const b = process.hrtime.bigint();
        if (nUs < samplesUs.length) samplesUs[nUs++] = Number(b - a) / 1000;
      }
    }, 5);
    const samples: OutageSample[] = [];
    let second = 0;
    const sample = (phase: OutageSample['phase']) => {
      gc?.();
      const m = process.memoryUsage();
      const st = sink.stats();
      samples.push({ second: second++, phase, heapUsed: m.heapUsed, rss: m.rss, pending: st.pending, spilled: st.spilled });
    };
    for (let i = 0; i < opts.beforeSeconds; i++) {
      await sleep(1000);
      sample('before');
    }
    await proxy.cut('refuse');
    for (let i = 0; i < opts.outageSeconds; i++) {
      await sleep(1000);
      sample('outage');
    }
    await proxy.restore();
    const restoredAt = Date.now();
    let drainSeconds = Number.NaN;
    for (let i = 0; i < opts.maxDrainSeconds; i++) {
      await sleep(1000);
      sample('after');
      const st = sink.stats();
      if (st.databaseUp && st.spillSegments === 0 && st.pending < 2 * 1000) {
        drainSeconds = (Date.now() - restoredAt) / 1000;
        break;
      }
    }
    clearInterval(pacer);
    await sink.close();
    const st = sink.stats();
    const got = await countRows(db.pool, db.schema);
    const sorted = samplesUs.subarray(0, nUs).sort();
    return {
      ratePerSec: opts.rate,
      outageSeconds: opts.outageSeconds,
      maxQueue,
      samples,
      emitted: seq,
      spilled: st.spilled,
      replayed: st.replayed,
      drainSeconds,
      correct: got.n === seq && got.distinct === seq && got.cost === costSumText(0, seq) && st.dropped === 0,
      writeP50Us: percentile(sorted, 50),
      writeP99Us: percentile(sorted, 99),
      writeP999Us: percentile(sorted, 99.9),
    };
  } finally {
    await proxy.close();
    await db.drop();
  }
}
