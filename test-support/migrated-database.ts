import { afterAll, beforeAll, beforeEach } from 'vitest';
import { migrate } from '@korean-together/sql';
import { testDatabase, type PoolLike, type TestDatabase, type TestDatabaseOptions } from './db.js';

export interface MigratedDatabaseOptions extends Omit<TestDatabaseOptions, 'label'> {
  /**
   * Before each test, create an empty copy of this migrated table (`LIKE ... INCLUDING ALL`:
   * columns, defaults, constraints, indexes) and expose its name as `table`. Tests that share
   * the file's schema then count rows exactly without cleaning up after each other.
   */
  tablePerTest?: string;
}

/**
 * The database of one test file (or describe block), migrated with every SDK migration. It is a
 * `TestDatabase` itself (usable from the first `beforeAll` on): pass it wherever one is wanted.
 */
export interface MigratedDatabase extends TestDatabase {
  /** The table `tablePerTest` made for the running test. */
  readonly table: string;
  /**
   * Creates an empty copy of the migrated table `like` (default `ai_usage_log`) and returns its
   * name: a table no other test touches, for the tests that want one more than `tablePerTest`.
   */
  freshTable(like?: string): Promise<string>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

/**
 * A fresh schema for the calling file or describe block, on the Postgres server named by
 * DATABASE_URL or on an in-process PGlite (see `testDatabase`), with the SDK's migrations
 * applied. Registers its own `beforeAll` / `afterAll` (and `beforeEach` with `tablePerTest`)
 * where it is called, so call it at the top of a file or inside `describe`, never in a test.
 */
export function useMigratedDatabase(label: string, options: MigratedDatabaseOptions = {}): MigratedDatabase {
  const { tablePerTest, ...dbOptions } = options;
  if (tablePerTest !== undefined && !IDENTIFIER.test(tablePerTest)) throw new Error(`useMigratedDatabase: tablePerTest must be a plain table name, got ${JSON.stringify(tablePerTest)}`);
  let current: TestDatabase | undefined;
  let table: string | undefined;
  let tables = 0;
  const db = (): TestDatabase => {
    if (!current) throw new Error(`useMigratedDatabase('${label}'): the database exists from its beforeAll to its afterAll; it was used outside them`);
    return current;
  };

  beforeAll(async () => {
    current = await testDatabase({ ...dbOptions, label });
    await migrate({ client: current.client, schema: current.schema });
  });
  afterAll(async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  });

  const handle: MigratedDatabase = {
    get kind() {
      return db().kind;
    },
    get schema() {
      return db().schema;
    },
    get connectionString() {
      return db().connectionString;
    },
    get pool() {
      return db().pool;
    },
    get pglite() {
      return db().pglite;
    },
    get client() {
      return db().client;
    },
    get poolLike(): PoolLike {
      return db().poolLike;
    },
    get table() {
      if (table === undefined) throw new Error(`useMigratedDatabase('${label}'): \`table\` needs the tablePerTest option`);
      return table;
    },
    query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
      return db().query<T>(sql, params);
    },
    close: () => db().close(),
    async freshTable(like = 'ai_usage_log') {
      if (!IDENTIFIER.test(like)) throw new Error(`useMigratedDatabase: freshTable needs a plain table name, got ${JSON.stringify(like)}`);
      const d = db();
      const name = `${like}_t${++tables}`;
      await d.query(`CREATE TABLE "${d.schema}"."${name}" (LIKE "${d.schema}"."${like}" INCLUDING ALL)`);
      return name;
    },
  };

  if (tablePerTest !== undefined) {
    beforeEach(async () => {
      table = await handle.freshTable(tablePerTest);
    });
  }
  return handle;
}
