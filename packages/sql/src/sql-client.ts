import pg from 'pg';
import { SqlError } from './sql-error.js';

/** What this package needs of one connection: node-postgres `Client` / `PoolClient` shape. */
export interface PgClientLike {
  query(text: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}
/** node-postgres `Pool` shape. */
export interface PgPoolLike extends PgClientLike {
  connect(): Promise<PgClientLike & { release(err?: Error | boolean): void }>;
  readonly totalCount: number;
}
/** PGlite shape (`@electric-sql/pglite`). */
export interface PgliteLike {
  query<T = any>(text: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
  transaction<T>(fn: (tx: PgliteTransactionLike) => Promise<T>): Promise<T>;
}
export interface PgliteTransactionLike {
  query<T = any>(text: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}
/** Anything `migrate({ client })` accepts: a node-postgres Pool, Client or PoolClient, or a PGlite instance. */
export type SqlClient = PgClientLike | PgPoolLike | PgliteLike;

/** One connection inside a transaction, the same for node-postgres and PGlite. */
export interface Tx {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(text: string): Promise<void>;
}

function isPglite(c: SqlClient): c is PgliteLike {
  return typeof (c as PgliteLike).transaction === 'function' && typeof (c as PgliteLike).exec === 'function';
}
function isPool(c: SqlClient): c is PgPoolLike {
  return typeof (c as PgPoolLike).connect === 'function' && typeof (c as PgPoolLike).totalCount === 'number';
}

/** Where to connect: a connection string (a client is opened and closed here) or a client the caller owns. */
export interface ConnectOptions {
  /** postgres:// URL; a dedicated connection is opened for the call and closed after. */
  connectionString?: string;
  /** A client the caller owns and keeps open: node-postgres Pool, Client or PoolClient, or PGlite. */
  client?: SqlClient;
}

/** Runs `fn` with one connection, outside any transaction. */
export async function withConnection<T>(options: ConnectOptions, fn: (tx: Tx, kind: 'pg' | 'pglite') => Promise<T>): Promise<T> {
  if (options.client) {
    const c = options.client;
    if (isPglite(c)) return fn(pgliteTx(c), 'pglite');
    if (isPool(c)) {
      const conn = await c.connect();
      try {
        return await fn(pgTx(conn), 'pg');
      } finally {
        conn.release();
      }
    }
    if (typeof (c as PgClientLike).query === 'function') return fn(pgTx(c as PgClientLike), 'pg');
    throw new SqlError('invalid_option', 'client must be a node-postgres Pool, Client or PoolClient, or a PGlite instance');
  }
  if (!options.connectionString) throw new SqlError('invalid_option', 'either connectionString or client is required');
  const client = new pg.Client({ connectionString: options.connectionString, connectionTimeoutMillis: 10_000 });
  // An error on an idle connection must not crash the host; the pending query rejects anyway.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(pgTx(client), 'pg');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(options: ConnectOptions, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (options.client && isPglite(options.client)) {
    // PGlite serialises its callers; its transaction() keeps others out until we are done.
    return options.client.transaction((t) => fn(pgliteTx(t)));
  }
  return withConnection(options, async (tx) => {
    await tx.exec('BEGIN');
    try {
      const result = await fn(tx);
      await tx.exec('COMMIT');
      return result;
    } catch (err) {
      await tx.exec('ROLLBACK').catch(() => {});
      throw err;
    }
  });
}

function pgTx(c: PgClientLike): Tx {
  return {
    async query<T>(text: string, params?: unknown[]) {
      return (await c.query(text, params)).rows as T[];
    },
    async exec(text: string) {
      await c.query(text);
    },
  };
}

function pgliteTx(c: PgliteTransactionLike): Tx {
  return {
    async query<T>(text: string, params?: unknown[]) {
      return (await c.query<T>(text, params)).rows;
    },
    async exec(text: string) {
      await c.exec(text);
    },
  };
}
