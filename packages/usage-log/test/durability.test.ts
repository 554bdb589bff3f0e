import { mkdir, readdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AiError } from '@korean-together/core';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { BufferedSink } from '../src/buffered-sink.js';
import type { InsertTarget } from '../src/insert-target.js';
import { normalizeUsage } from '../src/usage-row.js';
import { onDisk, quarantined, sinkFor, sleep, spillSegments, tableStats, tempDir, until } from './sink-helpers.js';

type Internals = { target: { id: string }; spill: { adoptStale(): Promise<number>; ownDir: string } };
const internals = (sink: unknown) => sink as Internals;

/** A database that never answers (a blackholed network path): inserts and probes never settle. */
const blackholed: InsertTarget = { id: 'blackholed', insert: () => new Promise<number>(() => {}), probe: () => new Promise<void>(() => {}), close: async () => {} };

describe('database sink: no row lost or doubled at the edges', () => {
  // A fresh migrated schema for this file, and a fresh table (same shape) per test, so counts are exact.
  const db = useMigratedDatabase('durable', { tablePerTest: 'ai_usage_log' });

  it('records written while close() runs are never lost, and flush() during close() resolves only once they are durable', async () => {
    const spillDir = await tempDir('close-window');
    const sink = new BufferedSink(blackholed, { spillDir, closeTimeoutMs: 500, batchSize: 10 });
    const s = streamId();
    let seq = 0;
    for (; seq < 25; seq++) sink.write(makeRecord(s, seq));
    let done = false;
    const closing = sink.close().then(() => {
      done = true;
    });
    const flushes: Promise<number>[] = [];
    // Requests still finishing while the host shuts down keep writing.
    while (!done) {
      sink.write(makeRecord(s, seq++));
      if (seq % 50 === 0) {
        const upTo = seq;
        flushes.push(sink.flush().then(() => upTo));
      }
      await sleep(0);
    }
    await closing;
    const written = seq;
    const disk = await onDisk(spillDir);
    for (const upTo of await Promise.all(flushes)) expect(upTo).toBeLessThanOrEqual(written);
    const missing = Array.from({ length: written }, (_, i) => recordId(s, i)).filter((id) => !disk.ids.has(id));
    expect(missing).toEqual([]);
    expect(sink.stats()).toMatchObject({ spilled: written, dropped: 0, pending: 0 });
  });

  it('copies createdAt at write(): a caller reusing its Date changes nothing stored', async () => {
    const sink = sinkFor(db, { table: db.table, spillDir: await tempDir('date') });
    const rec = makeRecord(streamId(), 4);
    const at = rec.createdAt.getTime();
    sink.write(rec);
    rec.createdAt.setTime(0);
    await sink.close();
    const [row] = await db.query<{ ms: string }>(`SELECT (extract(epoch FROM created_at) * 1000)::bigint::text AS ms FROM "${db.schema}"."${db.table}"`);
    expect(Number(row!.ms)).toBe(at);
  });

  it('stores a row whose text holds NUL characters (removed, counted as clamped) instead of losing it', async () => {
    const errors: AiError[] = [];
    const spillDir = await tempDir('nul');
    const sink = sinkFor(db, { table: db.table, spillDir, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 5; i++) sink.write(makeRecord(s, i, i === 3 ? { errorCode: 'bad\u0000code', errorMessage: 'upstream sent \u0000\u0000 binary', modelId: 'm\u0000' } : {}));
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 5, failed: 0, dropped: 0, clamped: 1 });
    expect(errors).toEqual([]);
    const [row] = await db.query<{ error_code: string; error_message: string; model_id: string }>(
      `SELECT error_code, error_message, model_id FROM "${db.schema}"."${db.table}" WHERE id = $1`,
      [recordId(s, 3)],
    );
    expect(row).toEqual({ error_code: 'badcode', error_message: 'upstream sent binary', model_id: 'm' });
    expect(await quarantined(spillDir)).toEqual([]);
  });

  it('never adopts a directory without a valid owner file, however old', async () => {
    const spillDir = await tempDir('ownerless');
    const s = streamId();
    const line = `${JSON.stringify((normalizeUsage(makeRecord(s, 1)) as { row: unknown }).row)}\n`;
    const old = new Date(Date.now() - 3_600_000);
    for (const [name, owner] of [
      ['w-000000001-999991-aaaaaa', ''],
      ['w-000000002-999992-bbbbbb', '{"pid":999992,"hostn'],
      ['w-000000003-999993-cccccc', undefined],
    ] as const) {
      const d = join(spillDir, name);
      await mkdir(d);
      await writeFile(join(d, 'seg-000001.jsonl'), line);
      if (owner !== undefined) {
        await writeFile(join(d, 'owner.json'), owner);
        await utimes(join(d, 'owner.json'), old, old);
      }
      await utimes(d, old, old);
    }
    const sink = sinkFor(db, { table: db.table, spillDir });
    expect(await internals(sink).spill.adoptStale()).toBe(0);
    await sink.close();
    expect((await tableStats(db, db.table)).n).toBe(0);
    expect(await spillSegments(spillDir)).toHaveLength(3);
  });

  it('writes owner.json whole (no temporary file left) before the first segment', async () => {
    const spillDir = await tempDir('owner');
    const sink = sinkFor(db, { table: 'no_such_table', spillDir, retryInitialDelayMs: 60_000 });
    sink.write(makeRecord(streamId(), 1));
    await sink.flush();
    const dir = internals(sink).spill.ownDir;
    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('owner.json'))).toEqual(['owner.json']);
    expect(JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname(), targetId: internals(sink).target.id });
    await sink.close();
  });

  it('on the same host a live pid is never adopted, however old its heartbeat; a dead one is, open segment included', async () => {
    const spillDir = await tempDir('pid-first');
    const s = streamId();
    const line = (i: number) => `${JSON.stringify((normalizeUsage(makeRecord(s, i)) as { row: unknown }).row)}\n`;
    const live = join(spillDir, 'w-000000001-1-aaaaaa');
    const dead = join(spillDir, 'w-000000002-999997-bbbbbb');
    await mkdir(live);
    await mkdir(dead);
    await writeFile(join(live, 'seg-000001.jsonl'), line(1));
    // A writer that died mid-segment: its segment still carries the open name.
    await writeFile(join(dead, 'seg-000001.jsonl.open'), line(2));
    const sink = sinkFor(db, { table: db.table, spillDir });
    const targetId = internals(sink).target.id;
    const old = new Date(Date.now() - 3_600_000);
    // pid 1 is alive (its heartbeat an hour old: a paused writer); 999997 is gone.
    await writeFile(join(live, 'owner.json'), JSON.stringify({ pid: 1, hostname: hostname(), targetId, startedAt: '' }));
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 999_997, hostname: hostname(), targetId, startedAt: '' }));
    await utimes(join(live, 'owner.json'), old, old);
    await internals(sink).spill.adoptStale();
    await sink.close();
    expect(sink.stats()).toMatchObject({ replayed: 1, dropped: 0 });
    const rows = await db.query<{ id: string }>(`SELECT id FROM "${db.schema}"."${db.table}"`);
    expect(rows.map((r) => r.id)).toEqual([recordId(s, 2)]);
    expect(await readdir(live)).toContain('seg-000001.jsonl');
  });

  it('rejects a staleAfterMs shorter than six heartbeats with invalid_config', () => {
    expect(() => sinkFor(db, { table: db.table, staleAfterMs: 1000 })).toThrow(/staleAfterMs must be at least 6000/);
    expect(() => sinkFor(db, { table: db.table, staleAfterMs: 5999 })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });

  it('a writer whose open segment was taken (renamed, read, unlinked) copies it to a new segment: no row lost', async () => {
    const spillDir = await tempDir('taken');
    const sink = sinkFor(db, { table: 'no_such_table', spillDir, retryInitialDelayMs: 60_000, retryMaxDelayMs: 60_000 });
    const s = streamId();
    for (let i = 0; i < 10; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    const dir = internals(sink).spill.ownDir;
    const open = (await readdir(dir)).filter((f) => f.endsWith('.open'));
    expect(open).toHaveLength(1);
    // What an adopter that took this writer for dead does: close the segment by rename, read it, remove it.
    const closedName = join(dir, open[0]!.slice(0, -'.open'.length));
    await import('node:fs/promises').then((fs) => fs.rename(join(dir, open[0]!), closedName));
    const replayedByAdopter = (await readFile(closedName, 'utf8')).trim().split('\n').length;
    // The writer goes on appending between the adopter's read and its unlink.
    for (let i = 10; i < 20; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    await unlink(closedName);
    for (let i = 20; i < 30; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    expect(replayedByAdopter).toBe(10);
    const disk = await onDisk(spillDir);
    const missing = Array.from({ length: 30 }, (_, i) => recordId(s, i)).filter((id, i) => i >= 10 && !disk.ids.has(id));
    expect(missing).toEqual([]);
    expect(disk.torn).toBe(0);
    await sink.close();
  });

  it('a segment that cannot be read is retried with backoff, then set aside; the replay goes on behind it', async () => {
    const spillDir = await tempDir('unreadable');
    const errors: AiError[] = [];
    const s = streamId();
    const sink = sinkFor(db, { table: db.table, spillDir, retryInitialDelayMs: 5, retryMaxDelayMs: 20, flushIntervalMs: 10, onError: (e) => errors.push(e) });
    const targetId = internals(sink).target.id;
    const dead = join(spillDir, 'w-000000001-999996-abcdef');
    // A directory where a segment file should be: reading it fails (EISDIR), like EACCES or EIO would.
    await mkdir(join(dead, 'seg-000001.jsonl'), { recursive: true });
    await writeFile(join(dead, 'seg-000002.jsonl'), `${JSON.stringify((normalizeUsage(makeRecord(s, 1)) as { row: unknown }).row)}\n`);
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 999_996, hostname: hostname(), targetId, startedAt: '' }));
    await internals(sink).spill.adoptStale();
    await until(() => errors.some((e) => /set aside/.test(e.message)), 'the unreadable segment to be set aside');
    await until(() => sink.stats().replayed === 1, 'the segment behind it to be replayed');
    const about = errors.filter((e) => e.message.includes('seg-000001.jsonl'));
    expect(about.length).toBe(5);
    expect((await stat(join(spillDir, 'quarantine', 'segments', 'w-000000001-999996-abcdef-seg-000001.jsonl'))).isDirectory()).toBe(true);
    await sink.close();
    expect(sink.stats()).toMatchObject({ replayed: 1, dropped: 0, spillSegments: 0 });
    expect((await tableStats(db, db.table)).n).toBe(1);
  });

  it('close() does not return while a spill retry sleeps: those rows are spilled (or counted lost)', async () => {
    const spillDir = await tempDir('sleeping');
    // A file where the spill directory should be: the first spill attempt fails (ENOTDIR).
    const blocked = join(spillDir, 'root');
    await writeFile(blocked, '');
    const errors: AiError[] = [];
    const sink = sinkFor(db, { table: 'no_such_table', spillDir: blocked, closeTimeoutMs: 1000, retryInitialDelayMs: 60_000, retryMaxDelayMs: 60_000, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 10; i++) sink.write(makeRecord(s, i));
    await until(() => errors.some((e) => /cannot append to the spill file/.test(e.message)), 'a spill failure');
    // The disk comes back while the retry sleeps for a minute.
    await unlink(blocked);
    await sink.close();
    const st = sink.stats();
    expect(st.spilled + st.dropped).toBe(10);
    expect(st).toMatchObject({ spilled: 10, dropped: 0, pending: 0 });
    expect((await onDisk(blocked)).ids.size).toBe(10);
  });

  it('memory is capped when the database and the spill both fail; the rows held go to the database once it is back', async () => {
    const spillDir = await tempDir('cap');
    const blocked = join(spillDir, 'root');
    await writeFile(blocked, '');
    const errors: AiError[] = [];
    const pending = `${db.table}_pending`;
    const sink = sinkFor(db, { table: pending, spillDir: blocked, maxQueue: 100, batchSize: 50, flushIntervalMs: 10, retryInitialDelayMs: 10, retryMaxDelayMs: 40, onError: (e) => errors.push(e) });
    const s = streamId();
    let seq = 0;
    for (let burst = 0; burst < 20; burst++) {
      for (let i = 0; i < 100; i++) sink.write(makeRecord(s, seq++));
      await sleep(20);
    }
    const st = sink.stats();
    expect(st.dropped).toBeGreaterThan(0);
    expect(st.pending).toBeLessThanOrEqual(400);
    expect(st.pending + st.dropped).toBe(seq);
    expect(errors.some((e) => /usage row\(s\) lost/.test(e.message))).toBe(true);
    // The database comes back (the spill directory stays broken): what memory held is committed.
    await db.query(`CREATE TABLE "${db.schema}"."${pending}" (LIKE "${db.schema}".ai_usage_log INCLUDING ALL)`);
    await sink.flush();
    expect(sink.stats().pending).toBe(0);
    expect((await tableStats(db, pending)).n).toBe(st.pending);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: st.pending, dropped: st.dropped, spilled: 0 });
  });
});
