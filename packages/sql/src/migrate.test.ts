import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { migrate, migrationStatus, MIGRATIONS_TABLE } from './migrate.js';
import { migrations, migrationChecksum } from './migrations.js';
import { SqlError } from './sql-error.js';

const ids = migrations.map((m) => m.id);

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabase({ label: 'migrate' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('ships numbered migrations in order', () => {
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/^\d{6}_[a-z0-9_]+$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('applies every migration, records checksums, and does nothing the second time', async () => {
    const before = await migrationStatus({ client: db.client, schema: db.schema });
    expect(before.migrations.every((m) => m.state === 'pending')).toBe(true);

    const first = await migrate({ client: db.client, schema: db.schema });
    expect(first.applied).toEqual(ids);
    expect(first.alreadyApplied).toEqual([]);

    const rows = await db.query<{ id: string; checksum: string }>(`SELECT id, checksum FROM "${db.schema}".${MIGRATIONS_TABLE} ORDER BY id`);
    expect(rows).toEqual(migrations.map((m) => ({ id: m.id, checksum: migrationChecksum(m.sql) })));

    // Tables and views, partitions left out (their set depends on the day).
    const tables = await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition ORDER BY c.relname COLLATE "C"`,
      [db.schema],
    );
    expect(tables.map((t) => t.relname)).toEqual([
      'activities',
      'ai_budget_reservations',
      'ai_budget_totals',
      'ai_response_cache',
      'ai_usage_daily',
      'ai_usage_hourly',
      'ai_usage_log',
      'evaluation_daily',
      'evaluation_hourly',
      'korean_together_migrations',
      'session_events',
      'sessions',
      'v_daily_ai_costs',
      'v_daily_ai_latency',
      'v_evaluation_stats',
    ]);
    // Partitions from yesterday to a week ahead, for both raw tables (the migration opened them).
    const parts = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relispartition AND c.relkind = 'r'`,
      [db.schema],
    );
    expect(parts[0]!.n).toBe(2 * 9);

    const second = await migrate({ client: db.client, schema: db.schema });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(ids);
    expect(second.partitionsCreated).toBe(0);
    // A run with a longer horizon opens only the days that are missing.
    const third = await migrate({ client: db.client, schema: db.schema, partitionDaysAhead: 10 });
    expect(third).toMatchObject({ applied: [], partitionsCreated: 2 * 3 });
    const after = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".${MIGRATIONS_TABLE}`);
    expect(after[0]!.n).toBe(ids.length);

    const status = await migrationStatus({ client: db.client, schema: db.schema });
    expect(status.migrations.map((m) => m.state)).toEqual(ids.map(() => 'applied'));
    expect(status.unknown).toEqual([]);
  });

  it('refuses to run when an applied migration was edited, and reports it in status', async () => {
    const target = ids[0]!;
    await db.query(`UPDATE "${db.schema}".${MIGRATIONS_TABLE} SET checksum = $1 WHERE id = $2`, ['0'.repeat(64), target]);
    await db.query(`INSERT INTO "${db.schema}".${MIGRATIONS_TABLE} (id, checksum) VALUES ('999999_from_the_future', 'x')`);
    const err = await migrate({ client: db.client, schema: db.schema }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).code).toBe('checksum_mismatch');
    expect((err as SqlError).migrationId).toBe(target);
    expect((err as SqlError).message).toContain(db.schema);

    const status = await migrationStatus({ client: db.client, schema: db.schema });
    expect(status.migrations[0]!.state).toBe('changed');
    expect(status.unknown).toEqual(['999999_from_the_future']);
  });

  it('rolls everything back when a migration fails', async () => {
    const schema = `${db.schema}_clash`;
    await db.query(`CREATE SCHEMA "${schema}"`);
    // A host table with the same name as ours and an incompatible shape.
    await db.query(`CREATE TABLE "${schema}".sessions (id TEXT PRIMARY KEY)`);
    try {
      const err = await migrate({ client: db.client, schema }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqlError);
      expect((err as SqlError).code).toBe('migration_failed');
      expect((err as SqlError).migrationId).toBe(ids[0]);
      expect((err as SqlError).message).toContain(`schema "${schema}"`);
      const left = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [schema]);
      expect(left[0]!.n).toBe(1); // only the host's own table: not even the migrations table remains
    } finally {
      await db.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  it('creates the schema when it does not exist', async () => {
    const schema = `${db.schema}_new`;
    try {
      const r = await migrate({ client: db.client, schema });
      expect(r.applied).toEqual(ids);
      const ns = await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
      expect(ns).toHaveLength(1);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('validates the schema name before touching the database', async () => {
    const err = await migrate({ client: db.client, schema: 'x"; DROP SCHEMA public; --' }).catch((e: unknown) => e);
    expect((err as SqlError).code).toBe('invalid_identifier');
    await expect(migrate({})).rejects.toMatchObject({ code: 'invalid_option' });
  });

  it('three concurrent runs apply each migration exactly once', async () => {
    const schema = `${db.schema}_race`;
    try {
      const runs =
        db.kind === 'postgres'
          ? // Three separate connections, as three processes starting at once would have.
            [0, 1, 2].map(() => migrate({ connectionString: db.connectionString!, schema }))
          : [0, 1, 2].map(() => migrate({ client: db.client, schema }));
      const results = await Promise.all(runs);
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, ids.length]);
      const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".${MIGRATIONS_TABLE}`);
      expect(rows[0]!.n).toBe(ids.length);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});

describe.runIf(process.env.DATABASE_URL)('migrate on the server', () => {
  it('works with a pg.Client the caller owns and leaves it usable', async () => {
    const db = await testDatabase({ label: 'client' });
    const client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
    try {
      const r = await migrate({ client, schema: db.schema });
      expect(r.applied).toEqual(ids);
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
      // SET LOCAL ended with the transaction: the caller's search_path is untouched.
      const sp = await client.query('SHOW search_path');
      expect(sp.rows[0].search_path).not.toContain(db.schema);
    } finally {
      await client.end();
      await db.close();
    }
  });
});
