import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { insertEvent, insertUsage } from '../test/writers.js';
import { migrate } from './migrate.js';
import { ensurePartitions, listPartitions } from './partitions.js';
import { reconcile } from './reconcile.js';
import { applyRetention } from './retention.js';
import { SqlError } from './sql-error.js';

describe('partitions and retention', () => {
  let db: TestDatabase;
  let s: string;
  const now = new Date('2026-09-20T12:00:00Z');
  beforeAll(async () => {
    db = await testDatabase({ label: 'partitions' });
    s = `"${db.schema}"`;
    await migrate({ client: db.client, schema: db.schema });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('ensurePartitions opens yesterday to N days ahead, once, for both raw tables', async () => {
    const first = await ensurePartitions({ client: db.client, schema: db.schema, now, daysAhead: 3 });
    expect(first).toMatchObject({ from: '2026-09-19', to: '2026-09-24', created: 2 * 5 });
    expect((await ensurePartitions({ client: db.client, schema: db.schema, now, daysAhead: 3 })).created).toBe(0);
    const days = (await listPartitions({ client: db.client, schema: db.schema })).filter((p) => p.from >= '2026-09-19' && p.from < '2026-09-24');
    expect(days.map((p) => `${p.table} ${p.from} ${p.to}`)).toEqual(
      ['19', '20', '21', '22', '23'].flatMap((d) => [`ai_usage_log 2026-09-${d} 2026-09-${Number(d) + 1}`, `session_events 2026-09-${d} 2026-09-${Number(d) + 1}`]),
    );
    await expect(ensurePartitions({ client: db.client, schema: db.schema, daysAhead: -1 })).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(ensurePartitions({ client: db.client, schema: db.schema, from: '2026-02-30' })).rejects.toBeInstanceOf(SqlError);
  });

  it('retention drops raw partitions older than N days; the rollups and the views keep those days', async () => {
    const session = randomUUID();
    await db.query(`INSERT INTO ${s}.sessions (id) VALUES ($1)`, [session]);
    // One usage row and one evaluation on each of ten days up to "today" (2026-09-20).
    for (let d = 11; d <= 20; d++) {
      const at = `2026-09-${d}T06:00:00Z`;
      await insertUsage(db, db.schema, [{ callId: randomUUID(), providerType: 'eval', providerName: 'gemini', latencyMs: d, cost: '0.000100', at }]);
      await insertEvent(db, db.schema, { sessionId: session, provider: 'gemini', modelId: 'm', score: d, passFail: true, latencyMs: d, at });
    }
    const costsBefore = await db.query(`SELECT date::text, total_calls::int, total_cost_usd::text FROM ${s}.v_daily_ai_costs WHERE date BETWEEN '2026-09-11' AND '2026-09-20' ORDER BY 1`);
    const evalsBefore = await db.query(`SELECT date::text, total_evaluations::int, avg_score::text FROM ${s}.v_evaluation_stats WHERE date BETWEEN '2026-09-11' AND '2026-09-20' ORDER BY 1`);
    expect(costsBefore).toHaveLength(10);

    const dry = await applyRetention({ client: db.client, schema: db.schema, keepDays: 5, now, dryRun: true });
    expect(dry.cutoff).toBe('2026-09-16');
    expect(dry.dropped.filter((p) => p.from >= '2026-09-11').map((p) => p.from)).toEqual(['2026-09-11', '2026-09-11', '2026-09-12', '2026-09-12', '2026-09-13', '2026-09-13', '2026-09-14', '2026-09-14', '2026-09-15', '2026-09-15']);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.ai_usage_log WHERE created_at >= '2026-09-11'`))[0]!.n).toBe(10);

    const r = await applyRetention({ client: db.client, schema: db.schema, keepDays: 5, now, tables: ['ai_usage_log'] });
    expect(r.dropped.every((p) => p.table === 'ai_usage_log' && p.to <= '2026-09-16')).toBe(true);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.ai_usage_log WHERE created_at >= '2026-09-11'`))[0]!.n).toBe(5);
    // session_events was not asked for: all ten events are still there.
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.session_events WHERE created_at >= '2026-09-11'`))[0]!.n).toBe(10);
    await applyRetention({ client: db.client, schema: db.schema, keepDays: 5, now });
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.session_events WHERE created_at >= '2026-09-11'`))[0]!.n).toBe(5);
    const left = await listPartitions({ client: db.client, schema: db.schema });
    expect(left.every((p) => p.from >= '2026-09-16')).toBe(true);

    expect(await db.query(`SELECT date::text, total_calls::int, total_cost_usd::text FROM ${s}.v_daily_ai_costs WHERE date BETWEEN '2026-09-11' AND '2026-09-20' ORDER BY 1`)).toEqual(costsBefore);
    expect(await db.query(`SELECT date::text, total_evaluations::int, avg_score::text FROM ${s}.v_evaluation_stats WHERE date BETWEEN '2026-09-11' AND '2026-09-20' ORDER BY 1`)).toEqual(evalsBefore);

    // Reconcile compares only the days whose raw rows are still kept.
    const rec = await reconcile({ client: db.client, schema: db.schema, from: '2026-09-11', to: '2026-09-21' });
    expect(rec).toMatchObject({ rawFrom: '2026-09-16', ok: true, checked: { usageRows: 5, evaluationEvents: 5 } });

    // A late row for a dropped day is still written (its day gets a partition again), never lost.
    expect(await insertUsage(db, db.schema, [{ callId: randomUUID(), providerType: 'eval', providerName: 'gemini', latencyMs: 1, at: '2026-09-12T01:00:00Z' }])).toBe(1);
    await expect(applyRetention({ client: db.client, schema: db.schema, keepDays: 0 })).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(applyRetention({ client: db.client, schema: db.schema, keepDays: 3, tables: ['sessions' as never] })).rejects.toMatchObject({ code: 'invalid_option' });
  });
});

describe.runIf(process.env.DATABASE_URL)('retention on a busy table', () => {
  it('skips a partition whose lock is not granted in time, and drops it on the next run', async () => {
    const db = await testDatabase({ label: 'retention_lock' });
    try {
      await migrate({ client: db.client, schema: db.schema });
      await ensurePartitions({ client: db.client, schema: db.schema, from: '2026-01-01', now: new Date('2026-01-02T00:00:00Z'), daysAhead: 0 });
      const holder = await db.pool!.connect();
      try {
        // A long reader of the table: DETACH has to wait for it.
        await holder.query('BEGIN');
        await holder.query(`SELECT count(*) FROM "${db.schema}".ai_usage_log`);
        const r = await applyRetention({ connectionString: db.connectionString!, schema: db.schema, keepDays: 1, now: new Date('2026-01-10T00:00:00Z'), lockTimeoutMs: 50, tables: ['ai_usage_log'] });
        expect(r.dropped).toEqual([]);
        expect(r.skipped.map((p) => p.from)).toContain('2026-01-01');
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      const again = await applyRetention({ connectionString: db.connectionString!, schema: db.schema, keepDays: 1, now: new Date('2026-01-10T00:00:00Z'), tables: ['ai_usage_log'] });
      expect(again.dropped.map((p) => p.from)).toContain('2026-01-01');
      expect(again.skipped).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
