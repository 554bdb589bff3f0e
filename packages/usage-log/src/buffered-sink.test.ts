import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { manualClock } from '../test/manual-clock.js';
import { sinkFor, tableStats, tempDir, until } from '../test/sink-helpers.js';
import { BufferedSink } from './buffered-sink.js';
import type { InsertTarget } from './insert-target.js';

/** A database that never answers: inserts and probes never settle. */
const blackholed: InsertTarget = { id: 'blackholed', insert: () => new Promise<number>(() => {}), probe: () => new Promise<void>(() => {}), close: async () => {} };

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

// The sink reads time and sets timers only through its clock (core's Clock): a test moves time.
describe('BufferedSink on an injected clock', () => {
  const db = useMigratedDatabase('sinkclock', { tablePerTest: 'ai_usage_log' });

  it('its flush tick and adoption scan run on the clock\u2019s background timers; a partial batch goes out when the clock says the interval passed', async () => {
    const t = manualClock(1_000_000);
    const sink = sinkFor(db, { table: db.table, spillDir: await tempDir('clock-tick'), clock: t.clock, flushIntervalMs: 250, adoptIntervalMs: 30_000 });
    // Nothing a sink runs by itself may keep the process alive.
    expect(t.pending()).toEqual([
      { at: 1_000_250, background: true },
      { at: 1_030_000, background: true },
    ]);
    const s = streamId();
    for (let i = 0; i < 5; i++) sink.write(makeRecord(s, i));
    await turns();
    // A partial batch waits for the tick, however long the event loop runs.
    expect(sink.stats()).toMatchObject({ written: 0, pending: 5 });
    await t.advance(250);
    await until(() => sink.stats().written === 5, 'the partial batch');
    expect((await tableStats(db, db.table)).n).toBe(5);
    const closing = sink.close();
    await t.advance(10_000);
    await closing;
    expect(t.pending()).toEqual([]);
  });

  it('flush() gives up at flushTimeoutMs on the clock (an ordinary timer: it is awaited), and close() drains until its drain deadline on the clock', async () => {
    const t = manualClock();
    const spillDir = await tempDir('clock-flush');
    const sink = new BufferedSink(blackholed, { spillDir, clock: t.clock, flushTimeoutMs: 1_000, closeTimeoutMs: 5_000 });
    const s = streamId();
    for (let i = 0; i < 3; i++) sink.write(makeRecord(s, i));
    let outcome: unknown;
    void sink.flush().then(
      () => (outcome = 'resolved'),
      (e: unknown) => (outcome = e),
    );
    await turns();
    expect(t.pending()).toContainEqual({ at: 1_000, background: false });
    await t.advance(999);
    expect(outcome).toBeUndefined();
    await t.advance(1);
    expect(outcome).toMatchObject({ name: 'UsageLogError', code: 'timeout', reason: 'flush_timeout', rows: 3 });
    let closed = false;
    void sink.close().then(() => (closed = true));
    // The drain deadline: closeTimeoutMs less the time kept back for the spill file (a fifth of it, at most 2 s).
    await t.advance(3_999);
    expect(closed).toBe(false);
    await t.advance(1);
    await until(() => closed, 'close()');
    // The insert never answered: close() put the rows in the spill file.
    expect(sink.stats()).toMatchObject({ written: 0, spilled: 3, dropped: 0, pending: 0 });
  });
});
