import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { costSumText, makeRecord, streamId } from '../../../test-support/usage.js';
import { createPostgresSink } from '../src/postgres-sink.js';
import type { UsageLogError } from '../src/usage-log-error.js';
import { normalizeUsage } from '../src/usage-row.js';
import { sinkFor, spillSegments, tableStats, tempDir, until } from './sink-helpers.js';

type Adopter = { identity: string | undefined; identityResolved: boolean; adopt(): void; adopting: Promise<void> | undefined };
/** The sink's target and the part of it that learns the database's identity and scans for dead writers. */
const internals = (sink: unknown) => {
  const s = sink as { target: { id: string }; adopter: Adopter };
  return {
    target: s.target,
    get identity() {
      return s.adopter.identity;
    },
    get identityResolved() {
      return s.adopter.identityResolved;
    },
    get adopting() {
      return s.adopter.adopting;
    },
    adopt: () => s.adopter.adopt(),
  };
};

/** A dead writer's directory (its pid is gone) holding one segment of `rows`, with the owner file given. */
async function deadWriter(spillDir: string, name: string, owner: Record<string, unknown>, rows: unknown[]): Promise<void> {
  const dir = join(spillDir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'seg-000001.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await writeFile(join(dir, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 4242, hostname: hostname(), startedAt: '', ...owner }));
}

const rowOf = (s: string, i: number) => (normalizeUsage(makeRecord(s, i)) as { row: unknown }).row;

// Which database a spill directory is for is what the database says it is (its system identifier
// and name), not how its address was spelled.
describe('spill directories are matched to the database they were written for', () => {
  // A fresh migrated schema for this file, and a fresh table (same shape) per test, so counts are exact.
  const db = useMigratedDatabase('identity', { tablePerTest: 'ai_usage_log' });

  it('learns what the database says it is and writes it to its owner file', async () => {
    const spillDir = await tempDir('identity-owner');
    const sink = sinkFor(db, { table: 'no_such_table', spillDir, retryInitialDelayMs: 60_000 });
    await until(() => internals(sink).identityResolved, 'the identity');
    const [sys] = await db.query<{ id: string; name: string }>('SELECT system_identifier::text AS id, current_database() AS name FROM pg_control_system()');
    expect(internals(sink).identity).toBe(`db:${sys!.id}/${encodeURIComponent(sys!.name)}:${db.schema}.no_such_table`);
    sink.write(makeRecord(streamId(), 1));
    await sink.flush();
    const dirs = (await readdir(spillDir)).filter((d) => d.startsWith('w-'));
    const owner = JSON.parse(await readFile(join(spillDir, dirs[0]!, 'owner.json'), 'utf8')) as Record<string, unknown>;
    // The configured key stays (writers of earlier versions match on it); the database's word is added.
    expect(owner).toMatchObject({ targetId: internals(sink).target.id, databaseId: internals(sink).identity });
    await sink.close();
  });

  it('replays a dead writer\u2019s segments written for the same database under another address', async () => {
    const spillDir = await tempDir('identity-same');
    const s = streamId();
    const sink = sinkFor(db, { table: db.table, spillDir });
    await until(() => internals(sink).identityResolved, 'the identity');
    // Another spelling of the address (a different configured key), the same database.
    await deadWriter(spillDir, 'w-000000001-999981-aaaaaa', { targetId: `pg:0123456789abcdef:${db.schema}.${db.table}`, databaseId: internals(sink).identity }, [rowOf(s, 0), rowOf(s, 1)]);
    internals(sink).adopt();
    await until(() => sink.stats().replayed === 2, 'the replay');
    await sink.close();
    expect(await tableStats(db, db.table)).toEqual({ n: 2, distinct: 2, cost: costSumText(0, 2) });
    expect(await spillSegments(spillDir)).toEqual([]);
  });

  it('reports a dead writer\u2019s directory for the same table in another database once, in stats() and onError, and leaves it alone', async () => {
    const spillDir = await tempDir('identity-foreign');
    const s = streamId();
    const errors: UsageLogError[] = [];
    const sink = sinkFor(db, { table: db.table, spillDir, onError: (e) => errors.push(e) });
    await until(() => internals(sink).identityResolved, 'the identity');
    const relation = `${db.schema}.${db.table}`;
    // Another database (its system identifier differs), same table.
    await deadWriter(spillDir, 'w-000000001-999982-bbbbbb', { targetId: `pg:1111111111111111:${relation}`, databaseId: `db:1234567890123456789/usage:${relation}` }, [rowOf(s, 0)]);
    // A writer of the same table at another address that never reached its database (or of an earlier version): which database is not known.
    await deadWriter(spillDir, 'w-000000002-999983-cccccc', { targetId: `pg:2222222222222222:${relation}` }, [rowOf(s, 1), rowOf(s, 2)]);
    // Another table's directory: another sink's business, not reported here.
    await deadWriter(spillDir, 'w-000000003-999984-dddddd', { targetId: `pg:3333333333333333:${db.schema}.other_table`, databaseId: `db:1/usage:${db.schema}.other_table` }, [rowOf(s, 3)]);
    internals(sink).adopt();
    await until(() => sink.stats().foreignSpillDirs === 2, 'the foreign directories');
    // Scanning again (every adoptIntervalMs, on recovery) reports nothing new.
    await internals(sink).adopting;
    internals(sink).adopt();
    await internals(sink).adopting;
    expect(sink.stats()).toMatchObject({ foreignSpillDirs: 2, foreignSpillSegments: 2, spillSegments: 0, replayed: 0 });
    const foreign = errors.filter((e) => e.reason === 'foreign_spill');
    expect(foreign.map((e) => e.spillDir).sort()).toEqual(['w-000000001-999982-bbbbbb', 'w-000000002-999983-cccccc']);
    expect(foreign.every((e) => e.code === 'unavailable' && e.retryable === false)).toBe(true);
    await sink.close();
    expect((await tableStats(db, db.table)).n).toBe(0);
    expect(await spillSegments(spillDir)).toHaveLength(3);
  });

  // Two addresses of one server need the server.
  it.runIf(Boolean(process.env.DATABASE_URL))('spilled while configured as 127.0.0.1 (before ever reaching the database), restarted as localhost: every row replays', async () => {
    const spillDir = await tempDir('identity-host');
    const proxy = TcpProxy.forUrl(process.env.DATABASE_URL!);
    await proxy.start();
    const s = streamId();
    try {
      // The first writer starts while the database is unreachable and its table is away (a migration, say).
      await proxy.cut('refuse');
      await db.query(`ALTER TABLE "${db.schema}"."${db.table}" RENAME TO "${db.table}_away"`);
      const first = createPostgresSink({
        connectionString: proxy.urlFor(process.env.DATABASE_URL!), // 127.0.0.1:<proxy port>
        schema: db.schema,
        table: db.table,
        spillDir,
        connectionTimeoutMillis: 500,
        retryInitialDelayMs: 60_000,
        retryMaxDelayMs: 60_000,
        adoptIntervalMs: 50,
      });
      for (let i = 0; i < 200; i++) first.write(makeRecord(s, i));
      await first.flush();
      expect(first.stats()).toMatchObject({ written: 0, spilled: 200, databaseUp: false });
      const ownerPath = join(spillDir, (await readdir(spillDir)).find((d) => d.startsWith('w-'))!, 'owner.json');
      expect(JSON.parse(await readFile(ownerPath, 'utf8'))).not.toHaveProperty('databaseId');
      // The server answers again (the table is still away): the writer asks it what it is and records that.
      await proxy.restore();
      await until(() => internals(first).identityResolved, 'the identity');
      await until(async () => (JSON.parse(await readFile(ownerPath, 'utf8')) as { databaseId?: string }).databaseId === internals(first).identity, 'the owner file to name the database');
      await first.close();
      expect(first.stats()).toMatchObject({ replayed: 0, dropped: 0 });
      await db.query(`ALTER TABLE "${db.schema}"."${db.table}_away" RENAME TO "${db.table}"`);

      // The restart reaches the same server under another name and port: another configured key, the same database.
      const url = new URL(process.env.DATABASE_URL!);
      url.hostname = 'localhost';
      const second = createPostgresSink({ connectionString: url.toString(), schema: db.schema, table: db.table, spillDir });
      expect(internals(second).target.id).not.toBe(internals(first).target.id);
      await until(() => second.stats().replayed === 200, 'the replay');
      await second.close();
      expect(second.stats()).toMatchObject({ replayed: 200, foreignSpillDirs: 0, dropped: 0 });
      expect(await tableStats(db, db.table)).toEqual({ n: 200, distinct: 200, cost: costSumText(0, 200) });
      expect(await spillSegments(spillDir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
