import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../test-support/db.js';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { costSumText, makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { quarantined, tableStats, tempDir } from '../test/sink-helpers.js';
import { createPostgresCacheStore } from './postgres-cache-store.js';
import { createPostgresSink } from './postgres-sink.js';
import type { UsageLogError } from './usage-log-error.js';

// Roles live on the server, not in PGlite.
describe.runIf(process.env.DATABASE_URL)('Postgres sink with a least-privilege role', () => {
  const db = useMigratedDatabase('lp');
  const role = uniqueName('writer');
  beforeAll(async () => {
    await db.query(`CREATE ROLE "${role}" LOGIN`);
    // Into ai_usage_log the sink calls ai_usage_log_insert (security definer; EXECUTE is PUBLIC's by
    // default): USAGE on the schema is all the role needs, no right on the table or the rollups.
    await db.query(`GRANT USAGE ON SCHEMA "${db.schema}" TO "${role}"`);
  });
  afterAll(async () => {
    // The role's grants go first (the schema may still be there: hooks run in reverse order), then the role.
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP OWNED BY "${role}"`).catch(() => {});
    await c.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await c.end();
  });

  /** DATABASE_URL, logged in as the small role. */
  const roleUrl = () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.username = role;
    url.password = '';
    return url.toString();
  };

  it('writes, deduplicates and replays into ai_usage_log (and its rollups) with only USAGE on the schema', async () => {
    const url = new URL(roleUrl());
    const spillDir = await tempDir('lp');
    const sink = createPostgresSink({ connectionString: url.toString(), schema: db.schema, spillDir });
    const s = streamId();
    for (let i = 0; i < 300; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    for (let i = 200; i < 400; i++) sink.write(makeRecord(s, i)); // 100 already there
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 500, duplicates: 100, failed: 0, spilled: 0, dropped: 0 });
    expect(await tableStats(db)).toEqual({ n: 400, distinct: 400, cost: costSumText(0, 400) });
    const [rollup] = await db.query<{ n: number; cost: string }>(`SELECT sum(attempts)::int AS n, sum(cost_usd)::text AS cost FROM "${db.schema}".ai_usage_daily`);
    expect(rollup).toEqual({ n: 400, cost: costSumText(0, 400) });
    // And the role really is that small: it cannot read the rows it wrote.
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    try {
      await expect(c.query(`SELECT estimated_cost_usd FROM "${db.schema}".ai_usage_log LIMIT 1`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });

  it('a row a row-level security policy refuses (42501) is quarantined; the other rows land and the sink stays up', async () => {
    await db.query(`CREATE TABLE "${db.schema}".usage_rls (LIKE "${db.schema}".ai_usage_log INCLUDING ALL)`);
    await db.query(`GRANT INSERT, SELECT (id) ON "${db.schema}".usage_rls TO "${role}"`);
    await db.query(`ALTER TABLE "${db.schema}".usage_rls ENABLE ROW LEVEL SECURITY`);
    await db.query(`CREATE POLICY no_restricted ON "${db.schema}".usage_rls FOR INSERT TO "${role}" WITH CHECK (provider_name <> 'restricted')`);
    const errors: UsageLogError[] = [];
    const spillDir = await tempDir('lp-rls');
    const sink = createPostgresSink({ connectionString: roleUrl(), schema: db.schema, table: 'usage_rls', spillDir, retryInitialDelayMs: 20, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 1100; i++) sink.write(makeRecord(s, i, i === 42 ? { providerName: 'restricted' } : {}));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 1099, failed: 1, spilled: 0, pending: 0, databaseUp: true });
    await sink.close();
    expect(errors.map((e) => [e.reason, e.sqlstate])).toEqual([['row_rejected', '42501']]);
    const q = await quarantined(spillDir);
    expect(q.map((e) => [e.sqlstate, (e.row as { id: string }).id])).toEqual([['42501', recordId(s, 42)]]);
    expect((await tableStats(db, 'usage_rls')).n).toBe(1099);
  });

  it('a column the role may not insert (42501 for every row) keeps the rows: spilled, not quarantined, replayed once granted', async () => {
    await db.query(`CREATE TABLE "${db.schema}".usage_cols (LIKE "${db.schema}".ai_usage_log INCLUDING ALL)`);
    // Every column but error_message: the statement itself is refused, whatever the rows.
    const cols = (await db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'usage_cols'`, [db.schema]))
      .map((r) => r.column_name)
      .filter((c) => c !== 'error_message');
    await db.query(`GRANT INSERT (${cols.map((c) => `"${c}"`).join(', ')}), SELECT (id) ON "${db.schema}".usage_cols TO "${role}"`);
    const errors: UsageLogError[] = [];
    const spillDir = await tempDir('lp-cols');
    const sink = createPostgresSink({ connectionString: roleUrl(), schema: db.schema, table: 'usage_cols', spillDir, retryInitialDelayMs: 20, retryMaxDelayMs: 50, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 300; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 0, failed: 0, spilled: 300, databaseUp: false });
    expect(errors.map((e) => [e.reason, e.sqlstate])).toEqual([['database_unavailable', '42501']]);
    await db.query(`GRANT INSERT (error_message) ON "${db.schema}".usage_cols TO "${role}"`);
    await sink.close();
    expect(sink.stats()).toMatchObject({ replayed: 300, failed: 0, dropped: 0 });
    expect(await tableStats(db, 'usage_cols')).toEqual({ n: 300, distinct: 300, cost: costSumText(0, 300) });
    expect(await quarantined(spillDir)).toEqual([]);
  });

  it('the cache store is refused (42501) until the role is granted SELECT, INSERT, UPDATE, DELETE on ai_response_cache; then every operation works', async () => {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: roleUrl(), max: 2 });
    try {
      const store = createPostgresCacheStore({ pool, schema: db.schema, maxBytes: 1_000, pruneIntervalMs: 1 });
      await expect(store.get('tts:a')).rejects.toMatchObject({ code: '42501' });
      await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${db.schema}".ai_response_cache TO "${role}"`);
      await store.set('tts:a', new Uint8Array([1, 2]), 60_000); // insert, evict, prune
      expect(await store.get('tts:a')).toEqual(new Uint8Array([1, 2])); // UPDATE ... RETURNING (maxBytes)
      expect(await store.prune()).toBe(0);
      await store.delete('tts:a');
      expect(await store.get('tts:a')).toBeUndefined();
      const plain = createPostgresCacheStore({ pool, schema: db.schema });
      await plain.set('eval:b', new Uint8Array([3]), 60_000);
      expect(await plain.get('eval:b')).toEqual(new Uint8Array([3])); // SELECT
    } finally {
      await pool.end();
    }
  });
});
