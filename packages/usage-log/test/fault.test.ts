import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AiError } from '@korean-together/core';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { costSumText, makeRecord, streamId } from '../../../test-support/usage.js';
import { createPostgresSink } from '../src/postgres-sink.js';
import { sleep, spillSegments, tableStats, tempDir } from './sink-helpers.js';

/** Writes `perTick` records every `tickMs` until `stop()`; returns how many were emitted. */
function steadyStream(write: (seq: number) => void, perTick: number, tickMs: number) {
  let seq = 0;
  const t = setInterval(() => {
    for (let i = 0; i < perTick; i++) write(seq++);
  }, tickMs);
  return {
    get emitted() {
      return seq;
    },
    stop: () => {
      clearInterval(t);
      return seq;
    },
  };
}

// These faults need a real server: killed backends, a network path that goes away, a process
// that is killed. In each, every emitted row must end up in the table exactly once.
describe.runIf(process.env.DATABASE_URL)('Postgres sink under faults', () => {
  const db = useMigratedDatabase('fault');

  it('connections killed mid-flush (pg_terminate_backend): no row lost, none doubled', async () => {
    const table = await db.freshTable();
    const app = `kt-fault-${randomBytes(4).toString('hex')}`;
    const errors: AiError[] = [];
    const sink = createPostgresSink({
      connectionString: db.connectionString!,
      schema: db.schema,
      table,
      spillDir: await tempDir('kill'),
      applicationName: app,
      batchSize: 500,
      flushIntervalMs: 20,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 100,
      onError: (e) => errors.push(e),
    });
    const s = streamId();
    const stream = steadyStream((i) => sink.write(makeRecord(s, i)), 400, 5);
    let kills = 0;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const r = await db.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'`,
        [app],
      );
      kills += r.filter((x) => x.killed).length;
      await sleep(15);
    }
    const emitted = stream.stop();
    await sink.close();
    const st = sink.stats();
    if (process.env.KT_FAULT_DEBUG) console.log({ kills, emitted, ...st });
    expect(kills).toBeGreaterThan(0);
    expect(errors.some((e) => e.code === 'unavailable')).toBe(true);
    expect(st.dropped).toBe(0);
    expect(st.failed).toBe(0);
    expect(await tableStats(db, table)).toEqual({ n: emitted, distinct: emitted, cost: costSumText(0, emitted) });
  });

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`server unreachable for a while (${mode}) during a steady stream: memory bounded, rows spilled then replayed`, async () => {
      const table = await db.freshTable();
      const proxy = TcpProxy.forUrl(db.connectionString!);
      await proxy.start();
      const spillDir = await tempDir(`outage-${mode}`);
      const maxQueue = 2000;
      const batchSize = 250;
      const sink = createPostgresSink({
        connectionString: proxy.urlFor(db.connectionString!),
        schema: db.schema,
        table,
        spillDir,
        batchSize,
        maxQueue,
        flushIntervalMs: 20,
        connectionTimeoutMillis: 300,
        queryTimeoutMs: 500,
        retryInitialDelayMs: 50,
        retryMaxDelayMs: 200,
        segmentMaxRows: 1000,
      });
      const s = streamId();
      let maxPending = 0;
      const stream = steadyStream(
        (i) => {
          sink.write(makeRecord(s, i));
          if (i % 50 === 0) maxPending = Math.max(maxPending, sink.stats().pending);
        },
        50,
        10,
      );
      try {
        await sleep(500);
        await proxy.cut(mode);
        await sleep(1500);
        const during = sink.stats();
        expect(during.databaseUp).toBe(false);
        expect(during.spilled).toBeGreaterThan(0);
        expect((await spillSegments(spillDir)).length).toBeGreaterThan(0);
        await proxy.restore();
        await sleep(1000);
        const emitted = stream.stop();
        await sink.close();
        const st = sink.stats();
        if (process.env.KT_FAULT_DEBUG) console.log({ mode, maxPending, emitted, ...st });
        expect(st.replayed).toBeGreaterThan(0);
        expect(st.dropped).toBe(0);
        // Bounded by maxQueue plus what is in flight and what arrives before the next spill.
        expect(maxPending).toBeLessThanOrEqual(maxQueue + 3 * batchSize);
        expect(await tableStats(db, table)).toEqual({ n: emitted, distinct: emitted, cost: costSumText(0, emitted) });
        expect(await spillSegments(spillDir)).toEqual([]);
      } finally {
        stream.stop();
        await proxy.close();
      }
    });
  }

  it('SIGTERM of a writer under load with the server gone, then restart: the restarted writer replays everything', async () => {
    await db.query(`TRUNCATE "${db.schema}".ai_usage_log`);
    const proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    const spillDir = await tempDir('sigterm');
    const stream = streamId();
    try {
      // First writer: under load; the server becomes unreachable just before SIGTERM, so
      // close() has to put what is left into the spill file.
      const w1 = startWriter(proxy.urlFor(db.connectionString!), db.schema, spillDir, stream, 0);
      await w1.ready;
      await sleep(300);
      await proxy.cut('refuse');
      const r1 = await w1.stop();
      expect(r1.code).toBe(0);
      expect(r1.result.stats.dropped).toBe(0);
      expect(r1.result.stats.spilled).toBeGreaterThan(0);
      expect((await spillSegments(spillDir)).length).toBeGreaterThan(0);
      const before = await tableStats(db, 'ai_usage_log');
      expect(before.n).toBeLessThan(r1.result.emitted);

      // Restart: the server is back; the new process adopts the dead one's spill while under load itself.
      await proxy.restore();
      const w2 = startWriter(proxy.urlFor(db.connectionString!), db.schema, spillDir, stream, r1.result.next);
      await w2.ready;
      await sleep(500);
      const r2 = await w2.stop();
      expect(r2.code).toBe(0);
      expect(r2.result.stats.replayed).toBeGreaterThan(0);
      const emitted = r1.result.emitted + r2.result.emitted;
      if (process.env.KT_FAULT_DEBUG) console.log({ before, r1: r1.result, r2: r2.result });
      expect(await tableStats(db, 'ai_usage_log')).toEqual({ n: emitted, distinct: emitted, cost: costSumText(0, emitted) });
      expect(await spillSegments(spillDir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

interface WriterResult {
  emitted: number;
  next: number;
  stats: { written: number; spilled: number; replayed: number; dropped: number };
}

function startWriter(url: string, schema: string, spillDir: string, stream: string, startSeq: number) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/writer-child.ts', import.meta.url))], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, SCHEMA: schema, SPILL_DIR: spillDir, STREAM: stream, START_SEQ: String(startSeq) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`writer exited early (${code}): ${err.slice(0, 2000)}`)));
  });
  return {
    ready,
    async stop(): Promise<{ code: number; result: WriterResult }> {
      child.kill('SIGTERM');
      const code = await exited;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`writer printed no result (exit ${code}): ${err.slice(0, 2000)}`);
      return { code, result: JSON.parse(line) as WriterResult };
    },
  };
}

