import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

/**
 * A database for one test file (or one test): a fresh schema on the real Postgres server named
 * by DATABASE_URL, or an in-process PGlite when DATABASE_URL is unset. Schema names start with
 * `kt_<KT_TEST_RUN_ID>_`, so runs never see each other's rows and the global teardown can drop
 * whatever a crashed file left behind.
 */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** The schema created for this database (unquoted; always a safe lowercase identifier). */
  schema: string;
  /** The server's connection string (postgres only). Connections made with it start in `public`: qualify names or use `schema`. */
  connectionString?: string;
  /** A small pool on the real server (postgres only). */
  pool?: pg.Pool;
  /** The in-process database (pglite only). */
  pglite?: PGlite;
  /** Whichever of `pool` / `pglite` exists: what `migrate({ client })` and the sinks accept. */
  client: pg.Pool | PGlite;
  /**
   * A node-postgres-like pool on either backend, for code that checks out a connection per
   * operation: `pool` itself on the server; on PGlite, `pglitePool(pglite)` (one connection, so
   * checkouts take turns).
   */
  poolLike: PoolLike;
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops the schema and closes every connection this helper opened. */
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Suffix that makes the schema name easier to read in a server listing (lowercase letters, digits, underscore). */
  label?: string;
  /** Most connections the server pool opens (postgres only; PGlite is one connection). Default 4. */
  maxConnections?: number;
}

/** The part of a node-postgres PoolClient that code checking out connections uses. */
export interface PoolLikeClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  release(destroy?: boolean | Error): void;
}

/** The part of a node-postgres Pool that code checking out connections uses. */
export interface PoolLike {
  connect(): Promise<PoolLikeClient>;
}

/**
 * A node-postgres-like pool over one PGlite: `connect()` waits until no other client is checked
 * out, because PGlite is a single connection and two interleaved transactions would share it.
 * `query(text)` without values runs through the simple protocol like node-postgres (several
 * statements allowed; the rows are the last statement's); with values it is one prepared statement.
 */
export function pglitePool(db: PGlite): PoolLike {
  let turn: Promise<void> = Promise.resolve();
  return {
    async connect() {
      const previous = turn;
      let done!: () => void;
      turn = new Promise<void>((resolve) => (done = resolve));
      await previous;
      let released = false;
      return {
        async query(text: string, values?: unknown[]) {
          if (released) throw new Error('test-support/db.ts pglitePool: query on a released client');
          if (values === undefined || values.length === 0) {
            const results = await db.exec(text);
            return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
          }
          return { rows: (await db.query<Record<string, unknown>>(text, values)).rows };
        },
        release(destroy?: boolean | Error) {
          if (released) return;
          released = true;
          // node-postgres closes a destroyed connection, which ends its transaction; here the
          // one connection stays, so end the transaction before the next client gets it.
          if (destroy) void db.exec('ROLLBACK').catch(() => {}).finally(done);
          else done();
        },
      };
    },
  };
}

/** `kt_<run id>_`: every schema and role a test run creates starts with it. */
export function testRunPrefix(): string {
  const run = (process.env.KT_TEST_RUN_ID ?? 'local').toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `kt_${run}_`;
}

/** A fresh identifier under this run's prefix, for schemas and roles. */
export function uniqueName(label = 'db'): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 20);
  return `${testRunPrefix()}${clean}_${randomBytes(4).toString('hex')}`.slice(0, 63);
}

/** True when the tests run against the real server. */
export function hasServer(): boolean {
  return Boolean(process.env.DATABASE_URL);
}

export async function testDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const schema = uniqueName(options.label ?? 'db');
  const url = process.env.DATABASE_URL;
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, connectionTimeoutMillis: 10_000 });
    // A test that kills backends (pg_terminate_backend) must not crash the runner through this pool.
    pool.on('error', () => {});
    await pool.query(`CREATE SCHEMA "${schema}"`);
    let closed = false;
    return {
      kind: 'postgres',
      schema,
      connectionString: url,
      pool,
      client: pool,
      poolLike: pool,
      async query<T>(sql: string, params?: unknown[]) {
        return (await pool.query(sql, params)).rows as T[];
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await pool.end();
        }
      },
    };
  }
  const db = new PGlite();
  await db.waitReady;
  await db.exec(`CREATE SCHEMA "${schema}"`);
  let closed = false;
  return {
    kind: 'pglite',
    schema,
    pglite: db,
    client: db,
    poolLike: pglitePool(db),
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

/**
 * Drops every schema and role whose name starts with `prefix`. Used by the global teardown for
 * what a crashed or killed test file left on the server.
 */
export async function dropRunObjects(connectionString: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const like = `${prefix.replace(/_/g, '\\_')}%`;
    const schemas = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [like]);
    for (const { nspname } of schemas.rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    const roles = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [like]);
    for (const { rolname } of roles.rows) {
      await client.query(`DROP OWNED BY "${rolname}"`);
      await client.query(`DROP ROLE IF EXISTS "${rolname}"`);
    }
  } finally {
    await client.end();
  }
}
