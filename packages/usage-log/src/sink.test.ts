import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AiError } from '@korean-together/core';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { costSumText, makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { quarantined, sinkFor, spillSegments, tableStats, tempDir } from '../test/sink-helpers.js';
import type { UsageLogError } from './usage-log-error.js';
import { normalizeUsage } from './usage-row.js';

// The same tests drive createPostgresSink on the real server (DATABASE_URL) and
// createPgliteSink on PGlite: one engine, two targets.
describe('database sink', () => {
  // A fresh migrated schema for this file, and a fresh table (same shape) per test, so counts are exact.
  const db = useMigratedDatabase('sink', { tablePerTest: 'ai_usage_log' });

  it('write() is synchronous: it returns before any I/O, and flush() commits every row', async () => {
    const spillDir = await tempDir('sync');
    const sink = sinkFor(db, { table: db.table, spillDir, batchSize: 100 });
    const s = streamId();
    for (let i = 0; i < 1050; i++) sink.write(makeRecord(s, i));
    // Nothing could have been sent yet: we never yielded to the event loop.
    expect(sink.stats().pending).toBe(1050);
    expect(sink.stats().written).toBe(0);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 1050, pending: 0, spilled: 0, failed: 0, dropped: 0 });
    expect(await tableStats(db, db.table)).toEqual({ n: 1050, distinct: 1050, cost: costSumText(0, 1050) });
    await sink.close();
    expect(await spillSegments(spillDir)).toEqual([]);
  });

  it('stores every column as given', async () => {
    const sink = sinkFor(db, { table: db.table, spillDir: await tempDir('cols') });
    const s = streamId();
    const rec = makeRecord(s, 10, {
      sessionId: '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b',
      eventId: '3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c',
      audioDurationMs: 1500,
      characters: 42,
    });
    sink.write(rec);
    await sink.close();
    const [row] = await db.query<Record<string, unknown>>(
      `SELECT id, call_id, attempt, session_id, event_id, provider_type, provider_name, model_id, tokens_in, tokens_out, audio_duration_ms,
              characters, latency_ms, success, error_code, error_message, estimated_cost_usd::text AS cost, price_version, created_at
         FROM "${db.schema}"."${db.table}"`,
    );
    expect(row).toEqual({
      id: rec.id,
      call_id: rec.callId,
      attempt: 1,
      session_id: rec.sessionId,
      event_id: rec.eventId,
      provider_type: 'tts',
      provider_name: 'gemini',
      model_id: 'gemini-2.5-flash',
      tokens_in: 120,
      tokens_out: 40,
      audio_duration_ms: 1500,
      characters: 42,
      latency_ms: 35,
      success: false,
      error_code: 'timeout',
      error_message: 'attempt timed out after 2000 ms',
      cost: '0.000011',
      price_version: '2026-01',
      created_at: rec.createdAt,
    });
  });

  it('copies the record at write(): the caller changing its object afterwards changes nothing stored', async () => {
    const sink = sinkFor(db, { table: db.table, spillDir: await tempDir('copy') });
    const rec = makeRecord(streamId(), 3);
    sink.write(rec);
    rec.latencyMs = 99_999;
    rec.providerName = 'changed';
    await sink.close();
    const [row] = await db.query<{ latency_ms: number; provider_name: string }>(`SELECT latency_ms, provider_name FROM "${db.schema}"."${db.table}"`);
    expect(row).toEqual({ latency_ms: 28, provider_name: 'gemini' });
  });

  it('inserts a row written twice only once', async () => {
    const sink = sinkFor(db, { table: db.table, spillDir: await tempDir('dup') });
    const s = streamId();
    sink.write(makeRecord(s, 1));
    await sink.flush();
    sink.write(makeRecord(s, 1));
    sink.write(makeRecord(s, 2));
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 3, duplicates: 1 });
    expect((await tableStats(db, db.table)).n).toBe(2);
  });

  it('refuses or clamps bad records before they join a batch, counts them, and never poisons a batch', async () => {
    const spillDir = await tempDir('bad');
    const errors: AiError[] = [];
    const sink = sinkFor(db, { table: db.table, spillDir, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 10; i++) sink.write(makeRecord(s, i));
    sink.write(makeRecord(s, 10, { latencyMs: Number.NaN }));
    sink.write(makeRecord(s, 11, { tokensIn: -7, estimatedCostUsd: -1 }));
    sink.write(makeRecord(s, 12, { errorMessage: `token=sk-abcdefghijklmnop ${'e'.repeat(1_000_000)}` }));
    sink.write(makeRecord(s, 13, { id: undefined as unknown as string }));
    sink.write(makeRecord(s, 14, { providerType: 'video' as 'stt' }));
    sink.write(null as never);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 13, failed: 3, clamped: 3, dropped: 0 });
    expect((await tableStats(db, db.table)).n).toBe(13);
    const [clamped] = await db.query<{ latency_ms: number }>(`SELECT latency_ms FROM "${db.schema}"."${db.table}" WHERE id = $1`, [recordId(s, 10)]);
    expect(clamped!.latency_ms).toBe(0);
    const [neg] = await db.query<{ tokens_in: number; c: string | null }>(`SELECT tokens_in, estimated_cost_usd::text AS c FROM "${db.schema}"."${db.table}" WHERE id = $1`, [
      recordId(s, 11),
    ]);
    expect(neg).toEqual({ tokens_in: 0, c: null });
    const [long] = await db.query<{ m: string }>(`SELECT error_message AS m FROM "${db.schema}"."${db.table}" WHERE id = $1`, [recordId(s, 12)]);
    expect(long!.m.length).toBeLessThanOrEqual(501);
    expect(long!.m).not.toContain('sk-abcdefghijklmnop');
    const q = await quarantined(spillDir);
    expect(q.map((e) => [e.reason, e.detail]).sort()).toEqual([
      ['invalid_record', 'id is not a UUID'],
      ['invalid_record', 'providerType is not stt, tts or eval'],
      ['invalid_record', 'record is not an object'],
    ]);
    expect(errors.filter((e) => e.code === 'invalid_request')).toHaveLength(3);
  });

  it('isolates a row the database rejects by splitting the batch; the rest commit', async () => {
    // A host-side rule the sink cannot know about.
    await db.query(`ALTER TABLE "${db.schema}"."${db.table}" ADD CONSTRAINT no_poison CHECK (provider_name <> 'poison')`);
    const spillDir = await tempDir('poison');
    const sink = sinkFor(db, { table: db.table, spillDir, batchSize: 64 });
    const s = streamId();
    const poison = new Set([3, 64, 100]);
    for (let i = 0; i < 128; i++) sink.write(makeRecord(s, i, poison.has(i) ? { providerName: 'poison' } : {}));
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 125, failed: 3, spilled: 0, dropped: 0 });
    const stats = await tableStats(db, db.table);
    expect(stats.n).toBe(125);
    const q = await quarantined(spillDir);
    expect(q).toHaveLength(3);
    expect(q.every((e) => e.reason === 'rejected_by_database' && e.sqlstate === '23514' && e.constraint === 'no_poison')).toBe(true);
    expect(q.map((e) => (e.row as { id: string }).id).sort()).toEqual([...poison].map((i) => recordId(s, i)).sort());
  });

  it('a row a host trigger refuses with P0001 (outside classes 22/23) is quarantined once; the other rows land and the sink stays up', async () => {
    // A host rule the sink cannot know about, raising a plain exception (SQLSTATE P0001) for one provider.
    const fn = `"${db.schema}"."refuse_${db.table}"`;
    await db.query(
      `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.provider_name = 'blocked' THEN RAISE EXCEPTION 'provider is blocked here'; END IF; RETURN NEW; END $$`,
    );
    await db.query(`CREATE TRIGGER refuse_blocked BEFORE INSERT ON "${db.schema}"."${db.table}" FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    const spillDir = await tempDir('trigger');
    const errors: UsageLogError[] = [];
    const sink = sinkFor(db, { table: db.table, spillDir, retryInitialDelayMs: 20, retryMaxDelayMs: 50, onError: (e) => errors.push(e) });
    const s = streamId();
    const blocked = 737;
    for (let i = 0; i < 1100; i++) sink.write(makeRecord(s, i, i === blocked ? { providerName: 'blocked' } : {}));
    await sink.flush();
    // Everything else is committed by the time flush() resolves: nothing waits in the spill file.
    expect(sink.stats()).toMatchObject({ written: 1099, failed: 1, spilled: 0, pending: 0, spillSegments: 0, databaseUp: true });
    expect(await tableStats(db, db.table)).toMatchObject({ n: 1099, distinct: 1099 });
    expect(errors.map((e) => [e.reason, e.sqlstate])).toEqual([['row_rejected', 'P0001']]);
    const q = await quarantined(spillDir);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ reason: 'rejected_by_database', sqlstate: 'P0001' });
    expect((q[0]!.row as { id: string }).id).toBe(recordId(s, blocked));

    // The same row in a spill segment a dead writer left: replayed without stalling, quarantined again.
    const dead = join(spillDir, 'w-000000001-999995-abcdef');
    await mkdir(dead, { recursive: true });
    const replayed = [1100, 1101, blocked, 1102].map((i) => (normalizeUsage(makeRecord(s, i, i === blocked ? { providerName: 'blocked' } : {})) as { row: unknown }).row);
    await writeFile(join(dead, 'seg-000001.jsonl'), replayed.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), targetId: (sink as unknown as { target: { id: string } }).target.id, startedAt: '' }));
    await (sink as unknown as { spill: { adoptStale(): Promise<number> } }).spill.adoptStale();
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 1099, replayed: 3, failed: 2, spilled: 0, dropped: 0, spillSegments: 0, databaseUp: true });
    expect((await tableStats(db, db.table)).n).toBe(1102);
    expect(errors.map((e) => e.reason)).toEqual(['row_rejected', 'row_rejected']);
    expect(await spillSegments(spillDir)).toEqual([]);
  });

  it('spills while the table is unusable, then replays in order once it is back', async () => {
    const spillDir = await tempDir('outage');
    const errors: AiError[] = [];
    const sink = sinkFor(db, { table: db.table, spillDir, batchSize: 50, retryInitialDelayMs: 20, retryMaxDelayMs: 100, segmentMaxRows: 120, onError: (e) => errors.push(e) });
    const s = streamId();
    // The database answers but cannot take rows (a migration in progress, a revoked grant...).
    await db.query(`ALTER TABLE "${db.schema}"."${db.table}" RENAME TO "${db.table}_away"`);
    for (let i = 0; i < 500; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    const during = sink.stats();
    expect(during.databaseUp).toBe(false);
    expect(during.spilled).toBe(500);
    expect(during.pending).toBe(0);
    expect((await spillSegments(spillDir)).length).toBeGreaterThanOrEqual(4);
    expect(errors[0]?.code).toBe('unavailable');
    // Spill lines carry the row only: no secrets, no learner text.
    const first = (await readFile((await spillSegments(spillDir))[0]!, 'utf8')).split('\n')[0]!;
    expect(Object.keys(JSON.parse(first)).sort()).toEqual(
      ['attempt', 'audioDurationMs', 'callId', 'characters', 'createdAt', 'errorCode', 'errorMessage', 'estimatedCostUsd', 'eventId', 'id', 'latencyMs', 'modelId', 'priceVersion', 'providerName', 'providerType', 'sessionId', 'success', 'tokensIn', 'tokensOut', 'tokensCachedIn', 'cacheHit', 'savedCostUsd'].sort(),
    );

    await db.query(`ALTER TABLE "${db.schema}"."${db.table}_away" RENAME TO "${db.table}"`);
    for (let i = 500; i < 600; i++) sink.write(makeRecord(s, i));
    await sink.close();
    const st = sink.stats();
    expect(st.dropped).toBe(0);
    expect(st.replayed + st.written).toBe(600);
    expect(await tableStats(db, db.table)).toEqual({ n: 600, distinct: 600, cost: costSumText(0, 600) });
    expect(await spillSegments(spillDir)).toEqual([]);
  });

  it('adopts the spill of a writer that died, quarantines its torn last line, and replays the rest', async () => {
    const spillDir = await tempDir('adopt');
    const s = streamId();
    // What a process killed mid-append leaves: valid lines, then half a line.
    const dead = join(spillDir, 'w-000000001-999999-abcdef');
    await mkdir(dead, { recursive: true });
    const lines = [];
    for (let i = 0; i < 5; i++) {
      const r = makeRecord(s, i);
      lines.push(JSON.stringify({ ...r, estimatedCostUsd: (r.estimatedCostUsd as number).toFixed(6), createdAt: r.createdAt.getTime() }));
    }
    await writeFile(join(dead, 'seg-000001.jsonl'), `${lines.join('\n')}\n{"id":"${recordId(s, 5)}","callId":"tr`);
    const sink = sinkFor(db, { table: db.table, spillDir });
    // The adopting sink only takes spill files for the same target: copy its target id in.
    const targetId = (sink as unknown as { target: { id: string } }).target.id;
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), targetId, startedAt: new Date().toISOString() }));
    await (sink as unknown as { spill: { adoptStale(): Promise<number> } }).spill.adoptStale();
    await sink.close();
    expect(sink.stats()).toMatchObject({ replayed: 5, corrupt: 1, dropped: 0 });
    expect(await tableStats(db, db.table)).toEqual({ n: 5, distinct: 5, cost: costSumText(0, 5) });
    const q = await quarantined(spillDir);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ reason: 'corrupt_spill_line', segment: 'w-000000001-999999-abcdef/seg-000001.jsonl', line: 6 });
    expect(await spillSegments(spillDir)).toEqual([]);
  });

  it('never adopts a live writer nor one writing to another database', async () => {
    const spillDir = await tempDir('live');
    const s = streamId();
    const live = join(spillDir, 'w-000000001-1-aaaaaa');
    const other = join(spillDir, 'w-000000002-999998-bbbbbb');
    const line = JSON.stringify({ ...makeRecord(s, 1), estimatedCostUsd: '0.000002', createdAt: 1 });
    for (const d of [live, other]) {
      await mkdir(d, { recursive: true });
      await writeFile(join(d, 'seg-000001.jsonl'), `${line}\n`);
    }
    const sink = sinkFor(db, { table: db.table, spillDir });
    const targetId = (sink as unknown as { target: { id: string } }).target.id;
    // pid 1 is alive; 999998 is dead but wrote for another database.
    await writeFile(join(live, 'owner.json'), JSON.stringify({ pid: 1, hostname: hostname(), targetId, startedAt: '' }));
    await writeFile(join(other, 'owner.json'), JSON.stringify({ pid: 999_998, hostname: hostname(), targetId: 'pg:elsewhere', startedAt: '' }));
    expect(await (sink as unknown as { spill: { adoptStale(): Promise<number> } }).spill.adoptStale()).toBe(0);
    await sink.close();
    expect((await tableStats(db, db.table)).n).toBe(0);
    expect((await spillSegments(spillDir)).length).toBe(2);
  });

  it('a record written after close() goes to the spill file and the next sink replays it', async () => {
    const spillDir = await tempDir('late');
    const s = streamId();
    const sink = sinkFor(db, { table: db.table, spillDir });
    sink.write(makeRecord(s, 1));
    await sink.close();
    sink.write(makeRecord(s, 2));
    expect(sink.stats()).toMatchObject({ written: 1, spilled: 1, dropped: 0 });
    expect((await spillSegments(spillDir)).length).toBe(1);
    const next = sinkFor(db, { table: db.table, spillDir });
    await (next as unknown as { spill: { adoptStale(): Promise<number> } }).spill.adoptStale();
    await next.close();
    expect(next.stats().replayed).toBe(1);
    expect(await tableStats(db, db.table)).toEqual({ n: 2, distinct: 2, cost: costSumText(1, 3) });
  });

  it('rejects bad options with invalid_config', () => {
    expect(() => sinkFor(db, { table: 'x; drop' })).toThrow(/table must be/);
    expect(() => sinkFor(db, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
  });
});
