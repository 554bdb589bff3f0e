import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '@korean-together/sql';
import { testDatabase, uniqueName, type TestDatabase } from '../../../test-support/db.js';
import { costSumText, makeRecord, streamId } from '../../../test-support/usage.js';
import { createPostgresSink } from './postgres-sink.js';
import { tableStats, tempDir } from '../test/sink-helpers.js';

// Roles live on the server, not in PGlite.
describe.runIf(process.env.DATABASE_URL)('Postgres sink with a least-privilege role', () => {
  let db: TestDatabase;
  const role = uniqueName('writer');
  beforeAll(async () => {
    db = await testDatabase({ label: 'lp' });
    await migrate({ client: db.client, schema: db.schema });
    await db.query(`CREATE ROLE "${role}" LOGIN`);
    await db.query(`GRANT USAGE ON SCHEMA "${db.schema}" TO "${role}"`);
    await db.query(`GRANT INSERT, SELECT (id) ON "${db.schema}".ai_usage_log TO "${role}"`);
  });
  afterAll(async () => {
    // The schema goes first, taking the role's grants with it; then the role can be dropped.
    await db?.close();
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await c.end();
  });

  it('writes, deduplicates and replays with only USAGE, INSERT and SELECT(id)', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.username = role;
    url.password = '';
    const spillDir = await tempDir('lp');
    const sink = createPostgresSink({ connectionString: url.toString(), schema: db.schema, spillDir });
    const s = streamId();
    for (let i = 0; i < 300; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    for (let i = 200; i < 400; i++) sink.write(makeRecord(s, i)); // 100 already there
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 500, duplicates: 100, failed: 0, spilled: 0, dropped: 0 });
    expect(await tableStats(db)).toEqual({ n: 400, distinct: 400, cost: costSumText(0, 400) });
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
});
