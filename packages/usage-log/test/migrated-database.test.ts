import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';

// The helper every database test of this package starts from: one migrated schema per file,
// one empty table per test.
describe('useMigratedDatabase', () => {
  const db = useMigratedDatabase('helper', { tablePerTest: 'ai_usage_log' });
  const seen: string[] = [];

  it('gives each test its own empty copy of the migrated table, in a schema with every migration applied', async () => {
    seen.push(db.table);
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}"."${db.table}"`)) as [{ n: number }];
    expect(n).toBe(0);
    await db.query(`INSERT INTO "${db.schema}"."${db.table}" (id, call_id, attempt, provider_type, provider_name, latency_ms, success) VALUES (gen_random_uuid(), gen_random_uuid(), 1, 'stt', 'x', 1, true)`);
    const tables = await db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1`, [db.schema]);
    expect(tables.map((r) => r.t)).toEqual(expect.arrayContaining(['ai_usage_log', 'session_events', 'sessions', 'ai_budget_totals', db.table]));
  });

  it('the next test gets another table, empty again; freshTable() makes more on demand', async () => {
    expect(seen).not.toContain(db.table);
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}"."${db.table}"`)) as [{ n: number }];
    expect(n).toBe(0);
    const extra = await db.freshTable('session_events');
    expect(extra).not.toBe(db.table);
    // Constraints come along (INCLUDING ALL): the score range check still refuses 101.
    await expect(db.query(`INSERT INTO "${db.schema}"."${extra}" (session_id, event_type, score) VALUES (gen_random_uuid(), 'x', 101)`)).rejects.toMatchObject({ code: '23514' });
    await expect(db.freshTable('no such; table')).rejects.toThrow(/plain table name/);
  });
});

describe('useMigratedDatabase outside its hooks', () => {
  const db = useMigratedDatabase('unused');
  it('says so instead of handing out a database that is not there', () => {
    expect(() => db.table).toThrow(/tablePerTest/);
  });
});
