import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeShares, createAiClient, DEFAULT_CLOSE_TIMEOUT_MS, type BackgroundErrorEvent, type EvalProvider } from '@korean-together/core';
import { fakeStt } from '@korean-together/core/testing';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { BufferedSink } from '../src/buffered-sink.js';
import { createMemorySink, createPostgresSink, SINK_DEFAULTS, type UsageLogError } from '../src/index.js';
import type { InsertTarget } from '../src/insert-target.js';
import { SINK_LIMITS } from '../src/sink-options.js';
import { manualClock } from './manual-clock.js';
import { onDisk, spillSegments, tempDir, until } from './sink-helpers.js';

const goodEval = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };

/** An evaluator that answers at once: the calls succeed, each leaving one usage row to store. */
const instantEval: EvalProvider = {
  capability: 'eval',
  name: 'instant-eval',
  modelId: 'gemini-2.5-flash',
  evaluate: async () => ({ output: goodEval, tokensIn: 100, tokensOut: 20 }),
};

/** This sink instance's own spill directory (created at its first spill). */
const spillInstanceDir = (sink: unknown) => (sink as { spillInstanceDir: string }).spillInstanceDir;

/** Settles with 'settled', or with 'still pending' after `ms` (the bound the test allows, well past the documented deadlines). */
function within(p: Promise<unknown>, ms: number): Promise<'settled' | 'still pending'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'still pending'>((r) => {
      t = setTimeout(() => r('still pending'), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// The disk-full half needs a real ENOSPC: Linux's /dev/full fails every write with it. The spill
// writer creates its own files, so the test puts a symlink to /dev/full where this sink's first
// segment will be opened (its instance directory is known before the first spill): every append
// then really fails with ENOSPC from the kernel, with no injected file system.
describe.runIf(process.platform === 'linux' && existsSync('/dev/full'))('client.close() with the database down and the spill disk full', () => {
  it('client.close() and sink.close() finish within their deadlines; every row is counted as dropped and reported', async () => {
    // The database is down: a proxy port that refuses connections (nothing listens any more).
    const proxy = new TcpProxy('127.0.0.1', 1);
    await proxy.start();
    await proxy.cut('refuse');
    const spillDir = await tempDir('client-close');
    const sinkErrors: UsageLogError[] = [];
    const background: { where: string; error: unknown }[] = [];
    const flushTimeoutMs = 800;
    const closeTimeoutMs = 1000;
    const sink = createPostgresSink({
      connectionString: `postgresql://postgres@127.0.0.1:${proxy.port}/usage`,
      spillDir,
      flushTimeoutMs,
      closeTimeoutMs,
      flushIntervalMs: 20,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 50,
      connectionTimeoutMillis: 300,
      onError: (e) => sinkErrors.push(e),
    });
    const own = spillInstanceDir(sink);
    await mkdir(own, { recursive: true });
    await symlink('/dev/full', join(own, 'seg-000001.jsonl.open'));

    const client = createAiClient({
      policy: { capabilities: { eval: { chain: ['instant'] } } },
      providers: { instant: instantEval },
      sinks: [sink],
      events: { onBackgroundError: (e) => background.push(e) },
    });
    const calls = 30;
    for (let i = 0; i < calls; i++) await client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요' });
    // Let the sink find out: the database refuses, the spill file is full.
    const spillFailure = () => sinkErrors.find((e) => e.reason === 'spill_failed');
    for (let i = 0; i < 200 && !spillFailure(); i++) await new Promise((r) => setTimeout(r, 10));
    expect((spillFailure()?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC');

    // client.close() closes the sink (closeTimeoutMs) with no flush() first: the two never add up.
    const bound = 3 * closeTimeoutMs;
    expect(await within(client.close(), bound)).toBe('settled');
    expect(await within(sink.close(), closeTimeoutMs)).toBe('settled');
    await proxy.close();

    const st = sink.stats();
    expect(st).toMatchObject({ written: 0, spilled: 0, pending: 0, dropped: calls, databaseUp: false });
    // The sink's close finished inside the client's: nothing pending, no flush that gave up.
    expect(background).toEqual([]);
    // Reported with structured reasons, never silently: the rows lost.
    const dropped = sinkErrors.filter((e) => e.reason === 'rows_dropped');
    expect(dropped.reduce((n, e) => n + (e.rows ?? 0), 0)).toBe(calls);
    expect(sinkErrors.filter((e) => e.reason === 'database_unavailable')).toHaveLength(1);
    // The spill kept failing through many retries: reported once per failing streak, not per retry.
    expect(sinkErrors.filter((e) => e.reason === 'spill_failed')).toHaveLength(1);
  });

  it('flush() on its own rejects at flushTimeoutMs with the rows not yet durable; they stay queued', async () => {
    const proxy = new TcpProxy('127.0.0.1', 1);
    await proxy.start();
    await proxy.cut('refuse');
    const spillDir = await tempDir('flush-timeout');
    const sink = createPostgresSink({
      connectionString: `postgresql://postgres@127.0.0.1:${proxy.port}/usage`,
      spillDir,
      flushTimeoutMs: 300,
      closeTimeoutMs: 1000,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 50,
    });
    await mkdir(spillInstanceDir(sink), { recursive: true });
    await symlink('/dev/full', join(spillInstanceDir(sink), 'seg-000001.jsonl.open'));
    const s = streamId();
    for (let i = 0; i < 5; i++) sink.write(makeRecord(s, i));
    await expect(sink.flush()).rejects.toMatchObject({ name: 'UsageLogError', code: 'timeout', reason: 'flush_timeout', rows: 5 });
    expect(sink.stats()).toMatchObject({ pending: 5, dropped: 0 });
    await sink.close();
    expect(sink.stats()).toMatchObject({ pending: 0, dropped: 5 });
    await proxy.close();
  });
});

/** A database that stopped answering on a fake clock: inserts, probes and releasing the connections never settle. */
const hung: InsertTarget = { id: 'hung', insert: () => new Promise<number>(() => {}), probe: () => new Promise<void>(() => {}), close: () => new Promise<void>(() => {}) };

/** Lines of every spill segment under `spillDir`, and how many distinct ids they hold. */
async function spillLines(spillDir: string): Promise<{ lines: number; ids: Set<string> }> {
  let lines = 0;
  for (const f of await spillSegments(spillDir)) lines += (await readFile(f, 'utf8')).split('\n').filter(Boolean).length;
  return { lines, ids: (await onDisk(spillDir)).ids };
}

describe('the default deadlines of client.close() and the sink nest', () => {
  it('the sinks\' share of the client\'s default close holds the sink\'s default close with a second to spare', () => {
    const { sinksMs } = closeShares(DEFAULT_CLOSE_TIMEOUT_MS);
    expect(sinksMs - SINK_DEFAULTS.closeTimeoutMs).toBeGreaterThanOrEqual(1_000);
    // client.close() calls close() without a flush() first, so flushTimeoutMs never adds to it;
    // with closeSinks: false it calls flush() alone, which fits the same share.
    expect(sinksMs).toBeGreaterThan(SINK_DEFAULTS.closeTimeoutMs);
    // The drain deadline leaves the spill its reserve.
    expect(Math.min(SINK_LIMITS.closeSpillReserveMs, SINK_DEFAULTS.closeTimeoutMs / 5)).toBe(1_000);
  });

  it('on a fake clock, with defaults: a call holding close() to the calls\' share, then a hung database; the rows are spilled before client.close() ends, nothing pending', async () => {
    const t = manualClock(1_000_000);
    const spillDir = await tempDir('nest-clock');
    const sinkErrors: UsageLogError[] = [];
    const sink = new BufferedSink(hung, { spillDir, clock: t.clock, onError: (e) => sinkErrors.push(e) });
    const seen = createMemorySink();
    const background: BackgroundErrorEvent[] = [];
    const client = createAiClient({
      // An STT call that outlives the calls' share: a provider that never answers, long deadlines.
      policy: { capabilities: { eval: { chain: ['instant'] }, stt: { chain: ['stuck'], deadlineMs: 120_000, attemptTimeoutMs: 120_000 } } },
      providers: { instant: instantEval, stuck: fakeStt([{ hang: true }]) },
      sinks: [sink, seen],
      clock: t.clock,
      events: { onBackgroundError: (e) => background.push(e) },
    });
    for (let i = 0; i < 10; i++) await client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요' });
    // The flush tick sends the batch; the database never answers it.
    await t.advance(SINK_DEFAULTS.flushIntervalMs);
    const stuck = client.stt.transcribe({ audio: new Uint8Array(3200), encoding: 'LINEAR16', sampleRateHertz: 16_000 }).catch((e: unknown) => e);
    await t.advance(0);

    const startedAt = t.now;
    let closedAt: number | undefined;
    void client.close().then(() => (closedAt = t.now));
    const { callsMs, sinksMs } = closeShares(DEFAULT_CLOSE_TIMEOUT_MS);
    const spillReserveMs = Math.min(SINK_LIMITS.closeSpillReserveMs, SINK_DEFAULTS.closeTimeoutMs / 5);
    // The calls' share runs out: the STT call is cancelled (its attempt recorded), the sinks' close starts.
    await t.advance(callsMs);
    expect(await stuck).toMatchObject({ code: 'cancelled' });
    // The sink drains until its drain deadline, then spills what the database did not take.
    await t.advance(SINK_DEFAULTS.closeTimeoutMs - spillReserveMs);
    await until(() => sink.stats().spilled === 11, 'the rows in the spill file');
    expect(closedAt).toBeUndefined();
    // The sink's close deadline (its connections never let go): it resolves, and so does the client's.
    await t.advance(spillReserveMs);
    await until(() => closedAt !== undefined, 'client.close()');
    expect(closedAt! - startedAt).toBe(callsMs + SINK_DEFAULTS.closeTimeoutMs);
    expect(closedAt! - startedAt).toBeLessThanOrEqual(callsMs + sinksMs - 1_000);
    // Only the cancelled call was reported; no sink left pending at the client's deadline.
    expect(background).toMatchObject([{ where: 'close', pending: [{ stage: 'calls', count: 1 }] }]);
    expect(sink.stats()).toMatchObject({ written: 0, spilled: 11, pending: 0, dropped: 0 });
    const disk = await spillLines(spillDir);
    expect(disk.lines).toBe(11);
    expect([...disk.ids].sort()).toEqual(seen.records.map((r) => r.id).sort());
    expect(sinkErrors.filter((e) => e.reason === 'rows_dropped')).toEqual([]);
  });
});

describe.runIf(process.env.DATABASE_URL)('client.close() with defaults over a Postgres sink whose database hangs', () => {
  const db = useMigratedDatabase('client-close-hung', { tablePerTest: 'ai_usage_log' });

  it('resolves after the sink has put every row the database did not take in the spill file; none lost, nothing pending', async () => {
    const proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    const spillDir = await tempDir('client-close-hung');
    const sinkErrors: UsageLogError[] = [];
    const background: BackgroundErrorEvent[] = [];
    try {
      // Every timing option at its default.
      const sink = createPostgresSink({ connectionString: proxy.urlFor(db.connectionString!), schema: db.schema, table: db.table, spillDir, onError: (e) => sinkErrors.push(e) });
      const seen = createMemorySink();
      const client = createAiClient({
        policy: { capabilities: { eval: { chain: ['instant'] } } },
        providers: { instant: instantEval },
        sinks: [sink, seen],
        events: { onBackgroundError: (e) => background.push(e) },
      });
      const evaluate = () => client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요' });
      for (let i = 0; i < 20; i++) await evaluate();
      await until(() => sink.stats().written === 20, 'the first rows committed');

      // A network partition: the open connections stop answering, no reset; new ones are never answered.
      await proxy.cut('partition');
      for (let i = 0; i < 30; i++) await evaluate();
      // The next flush tick sends them on a connection that will never answer.
      await new Promise((r) => setTimeout(r, 2 * SINK_DEFAULTS.flushIntervalMs));
      expect(sink.stats()).toMatchObject({ written: 20, spilled: 0 });

      expect(await within(client.close(), DEFAULT_CLOSE_TIMEOUT_MS + 5_000)).toBe('settled');
      // Before client.close() returned, the sink had spilled the rows and finished its own close.
      const st = sink.stats();
      expect(st).toMatchObject({ written: 20, spilled: 30, pending: 0, dropped: 0, failed: 0 });
      expect(background.filter((e) => e.where === 'close')).toEqual([]);
      expect(background).toEqual([]);
      const disk = await spillLines(spillDir);
      expect(disk.lines).toBe(30);

      // Every row is in the table or in the spill directory, once.
      const inTable = new Set((await db.query<{ id: string }>(`SELECT id::text AS id FROM "${db.schema}"."${db.table}"`)).map((r) => r.id));
      expect(inTable.size).toBe(20);
      const all = seen.records.map((r) => r.id);
      expect(all).toHaveLength(50);
      expect(all.filter((id) => !inTable.has(id) && !disk.ids.has(id))).toEqual([]);
      expect(all.filter((id) => inTable.has(id) && disk.ids.has(id))).toEqual([]);
      expect(sinkErrors.filter((e) => e.reason === 'rows_dropped')).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
