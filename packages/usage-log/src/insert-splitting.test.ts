import { describe, expect, it } from 'vitest';
import { useMigratedDatabase, type MigratedDatabase } from '../../../test-support/migrated-database.js';
import { makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { insertStatement } from './insert-statement.js';
import { insertSplitting, type SplitInsertTarget } from './insert-splitting.js';
import { normalizeUsage, type UsageRow } from './usage-row.js';

/** The sink's real statement on a real table; `afterCommit` runs after each statement that commits. */
function tableTarget(db: MigratedDatabase, table: string, afterCommit?: () => Promise<void>): SplitInsertTarget & { statements: number } {
  const statement = insertStatement(db.schema, table);
  const { text } = statement;
  const client = db.client as unknown as { query(text: string, values: unknown[]): Promise<{ rowCount?: number | null; affectedRows?: number; rows?: unknown[] }> };
  const t = {
    statements: 0,
    async insert(rows: readonly UsageRow[]) {
      t.statements++;
      const r = await client.query(text, statement.params(rows));
      await afterCommit?.();
      return statement.inserted({ count: r.rowCount ?? r.affectedRows, rows: r.rows });
    },
    async probe() {
      await client.query(text, statement.params([]));
    },
  };
  return t;
}

const rows = (s: string, n: number, poison: ReadonlySet<number> = new Set()) =>
  Array.from({ length: n }, (_, i) => (normalizeUsage(makeRecord(s, i, poison.has(i) ? { providerName: 'poison' } : {})) as { row: UsageRow }).row);

const count = async (db: MigratedDatabase, table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}"."${table}"`))[0]!.n;

describe('insertSplitting', () => {
  const db = useMigratedDatabase('split', { tablePerTest: 'ai_usage_log' });
  const poisonable = async () => {
    await db.query(`ALTER TABLE "${db.schema}"."${db.table}" ADD CONSTRAINT no_poison CHECK (provider_name <> 'poison')`);
  };

  it('commits a clean batch in one statement and counts rows the table already had as committed, not inserted', async () => {
    const s = streamId();
    const target = tableTarget(db, db.table);
    expect(await insertSplitting(rows(s, 10).slice(0, 4), target)).toEqual({ committed: 4, inserted: 4, rejected: [], remaining: [] });
    expect(await insertSplitting(rows(s, 10), target)).toEqual({ committed: 10, inserted: 6, rejected: [], remaining: [] });
    expect(target.statements).toBe(2);
    expect(await count(db, db.table)).toBe(10);
  });

  it('isolates the rows the database refuses; every other row commits', async () => {
    await poisonable();
    const s = streamId();
    const poison = new Set([3, 40, 63]);
    const out = await insertSplitting(rows(s, 64, poison), tableTarget(db, db.table));
    expect(out).toMatchObject({ committed: 61, inserted: 61, remaining: [] });
    expect(out.rejected.map((r) => r.row.id).sort()).toEqual([...poison].map((i) => recordId(s, i)).sort());
    expect(out.rejected.every((r) => (r.error as { code?: string }).code === '23514')).toBe(true);
    expect(await count(db, db.table)).toBe(61);
  });

  it('a table the statement cannot use refuses nothing: every row is remaining, with the error', async () => {
    const s = streamId();
    const out = await insertSplitting(rows(s, 20), tableTarget(db, 'no_such_table'));
    expect(out).toMatchObject({ committed: 0, inserted: 0, rejected: [], error: expect.objectContaining({ code: '42P01' }) });
    expect(out.remaining.map((r) => r.id)).toEqual(rows(s, 20).map((r) => r.id));
  });

  it('a table that breaks in the middle of a split gets no good row refused: the rest is remaining, in order', async () => {
    await poisonable();
    const s = streamId();
    const all = rows(s, 64, new Set([5]));
    let broken = false;
    // Right after the first part commits, the table goes away (a migration, a revoked grant...).
    const target = tableTarget(db, db.table, async () => {
      if (broken) return;
      broken = true;
      await db.query(`ALTER TABLE "${db.schema}"."${db.table}" RENAME TO "${db.table}_away"`);
    });
    const out = await insertSplitting(all, target);
    expect(out.rejected).toEqual([]);
    expect((out.error as { code?: string }).code).toBe('42P01');
    expect(out.committed).toBeGreaterThan(0);
    expect(out.committed + out.remaining.length).toBe(64);
    // What committed is a prefix of the batch; the rest is remaining, oldest first.
    expect(out.remaining.map((r) => r.id)).toEqual(all.slice(out.committed).map((r) => r.id));
    expect(await count(db, `${db.table}_away`)).toBe(out.committed);
  });

  it('stop() ends the work: nothing after it is counted, and every row not counted is remaining', async () => {
    await poisonable();
    const s = streamId();
    const all = rows(s, 32, new Set([31]));
    const target = tableTarget(db, db.table);
    // Statements: all 32 (refused), the first 16 (commit), the last 16 (refused): then stop.
    const out = await insertSplitting(all, target, () => target.statements >= 3);
    expect(out).toMatchObject({ committed: 16, inserted: 16, rejected: [] });
    expect(out.error).toBeUndefined();
    expect(out.remaining.map((r) => r.id)).toEqual(all.slice(16).map((r) => r.id));
    expect(await count(db, db.table)).toBe(16);
  });
});
