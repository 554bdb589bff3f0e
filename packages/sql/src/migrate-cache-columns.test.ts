import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { insertUsage, usageArrays, usageInsertSql } from '../test/writers.js';
import { migrate, MIGRATIONS_TABLE } from './migrate.js';
import { migrationChecksum, migrations } from './migrations.js';
import { reconcile } from './reconcile.js';

// An install at migration 000003 (rows and rollups written by the 19-array writer, EXECUTE on it
// revoked from PUBLIC by the host) upgraded by 000004: the rows get the cache columns (no hit,
// NULLs), the privileges carry over to the new writer, and a writer of the previous version
// (19 arrays) still writes rows and rollups.

async function execScript(db: TestDatabase, sql: string): Promise<void> {
  if (db.pglite) await db.pglite.exec(sql);
  else await db.pool!.query(sql);
}

const at = '2026-06-01T09:00:00Z';
const acl = (db: TestDatabase, schema: string) =>
  db.query<{ acl: string | null; n: number }>(
    `SELECT (array_agg(p.proacl::text))[1] AS acl, count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = 'ai_usage_log_insert'`,
    [schema],
  );

describe('migration 000004 on an install at 000003', () => {
  let db: TestDatabase;
  let s: string;
  let aclBefore: string | null;

  beforeAll(async () => {
    db = await testDatabase({ label: 'cache_cols' });
    s = `"${db.schema}"`;
    await execScript(db, `CREATE SCHEMA IF NOT EXISTS ${s}`);
    await execScript(db, `CREATE TABLE ${s}.${MIGRATIONS_TABLE} (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    for (const m of migrations.slice(0, 3)) {
      await execScript(db, `SET search_path TO ${s}; ${m.sql}`);
      await db.query(`INSERT INTO ${s}.${MIGRATIONS_TABLE} (id, checksum) VALUES ($1, $2)`, [m.id, migrationChecksum(m.sql)]);
    }
    await execScript(db, 'RESET search_path');
    const [r] = await db.query<{ n: number }>(usageInsertSql(db.schema, true), usageArrays([{ callId: randomUUID(), providerType: 'tts', providerName: 'google', characters: 12, latencyMs: 300, cost: '0.000192', at }], true));
    expect(Number(r!.n)).toBe(1);
    await db.query(`REVOKE EXECUTE ON FUNCTION ${s}.ai_usage_log_insert FROM PUBLIC`);
    aclBefore = (await acl(db, db.schema))[0]!.acl;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('adds the columns, keeps the rows and the host\'s privileges, and a 19-array writer still works', async () => {
    const result = await migrate({ client: db.client, schema: db.schema });
    expect(result.applied).toEqual(migrations.slice(3).map((m) => m.id));
    expect(aclBefore).not.toBeNull();
    expect(await acl(db, db.schema)).toEqual([{ acl: aclBefore, n: 1 }]);

    const old = await db.query(`SELECT cache_hit, saved_cost_usd, tokens_cached_in FROM ${s}.ai_usage_log`);
    expect(old).toEqual([{ cache_hit: false, saved_cost_usd: null, tokens_cached_in: null }]);
    // The writer of the previous version: no cache columns, so no hit.
    const [legacy] = await db.query<{ n: number }>(usageInsertSql(db.schema, true), usageArrays([{ callId: randomUUID(), providerType: 'tts', providerName: 'google', characters: 12, latencyMs: 280, cost: '0.000192', at }], true));
    expect(Number(legacy!.n)).toBe(1);
    expect(await insertUsage(db, db.schema, [{ callId: randomUUID(), providerType: 'tts', providerName: 'google', characters: 12, latencyMs: 0, cost: '0', cacheHit: true, savedCost: '0.000192', at }])).toBe(1);
    // A CHECK the new columns carry refuses a negative saving (NOT VALID only spares the old rows a scan).
    await expect(insertUsage(db, db.schema, [{ callId: randomUUID(), providerType: 'tts', providerName: 'google', latencyMs: 0, cacheHit: true, savedCost: '-1', at }])).rejects.toMatchObject({ code: '23514' });

    const view = await db.query(
      `SELECT total_calls::int AS calls, cache_hits::int AS hits, cache_misses::int AS misses, total_saved_cost_usd::text AS saved, total_cost_usd::text AS cost
         FROM ${s}.v_daily_ai_costs WHERE date = '2026-06-01'`,
    );
    expect(view).toEqual([{ calls: 3, hits: 1, misses: 2, saved: '0.000192', cost: '0.000384' }]);
    expect((await reconcile({ client: db.client, schema: db.schema, from: '2026-06-01', to: '2026-06-02' })).differences).toEqual([]);
    expect((await migrate({ client: db.client, schema: db.schema })).applied).toEqual([]);
  });
});
