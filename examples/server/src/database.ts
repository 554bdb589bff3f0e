import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import pTimeout from 'p-timeout';
import { migrate } from '@korean-together/sql';
import { createPgliteSink, createPostgresSink, type PostgresSink, type QueryableLike } from '@korean-together/usage-log';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './config.js';
import { databaseStep } from './database-errors.js';

/** The server's database: app queries, the usage sink, and a reachability check for /ready. */
export interface Database {
  kind: 'postgres' | 'pglite';
  /** Schema holding the SDK's tables (unquoted, validated). */
  schema: string;
  /** What writeSessionEvent / ensureSession take. */
  queryable: QueryableLike;
  /** Runs one parameterised statement; a failure is an AiError (see databaseError), never the driver's message. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Where the AI client writes usage rows. Closed by `client.close()`. */
  sink: PostgresSink;
  /** Resolves when the database answers `SELECT 1` within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes what this module opened (the pool or the PGlite database); leaves a given client open. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A Postgres server; the server opens its own pool. */
  databaseUrl?: string;
  /** A pool or PGlite database the caller owns (tests). Takes precedence over `databaseUrl`. */
  client?: pg.Pool | PGlite;
  /** Default 'public'. */
  schema?: string;
  /** PGlite only: data directory; unset means in memory. */
  pgliteDataDir?: string;
  /** Postgres sink's spill directory. */
  spillDir?: string;
  /** Timeouts of the pool the server opens (`databaseUrl`); a given pool keeps its own. Default DEFAULT_DATABASE_TIMEOUTS. */
  timeouts?: Partial<DatabaseTimeouts>;
  /**
   * The usage sink's deadlines, in ms (both sinks): `flushTimeoutMs` bounds its `flush()`,
   * `closeTimeoutMs` its `close()`, by which rows the database did not take are in the spill
   * file. Default the sink's own (SINK_DEFAULTS: 5 s).
   */
  sinkTimeouts?: { flushTimeoutMs: number; closeTimeoutMs: number };
  /** Told about problems the sink handles itself (database down, rows spilled). */
  onSinkError?: (e: Error) => void;
}

/** Rejects (a TimeoutError, no `code`: /ready reports it as 'unreachable') when the ping gets no answer in time. */
function pingWithin(ping: Promise<unknown>, ms: number): Promise<unknown> {
  return pTimeout(ping, { milliseconds: ms, message: `database ping: no answer within ${ms} ms` });
}

/**
 * Opens the database, migrates it with the SDK's schema (idempotent, safe with several
 * instances starting at once) and creates the usage sink: the Postgres sink when there is a
 * server, the PGlite sink otherwise.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const schema = options.schema ?? 'public';
  const onError = options.onSinkError ?? (() => {});
  const given = options.client;
  if (given instanceof PGlite || (!given && !options.databaseUrl)) {
    const db = given instanceof PGlite ? given : new PGlite(options.pgliteDataDir);
    await db.waitReady;
    await migrate({ client: db, schema });
    return {
      kind: 'pglite',
      schema,
      queryable: db,
      async query<T>(sql: string, params?: unknown[]) {
        return databaseStep('reading', async () => (await db.query<T>(sql, params)).rows);
      },
      sink: createPgliteSink({ db, schema, onError, ...options.sinkTimeouts }),
      async ping(timeoutMs = 2_000) {
        await pingWithin(db.query('SELECT 1'), timeoutMs);
      },
      async close() {
        if (!given) await db.close();
      },
    };
  }
  const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts };
  const pool =
    (given as pg.Pool | undefined) ??
    new pg.Pool({
      connectionString: options.databaseUrl,
      max: 5,
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      // The server cancels a slow statement; the client stops waiting for one that gets no
      // answer at all (a partition drops packets without a reset, so the socket never errors).
      statement_timeout: timeouts.statementTimeoutMs,
      query_timeout: timeouts.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'korean-together-server',
    });
  // Without a listener, a server closing an idle connection would crash the process.
  const onPoolError = (e: Error) => onError(e);
  pool.on('error', onPoolError);
  if (given) {
    await migrate({ client: pool, schema });
  } else {
    // Migrations wait on an advisory lock while another instance migrates: a connection without
    // the statement timeout, but with a query timeout so a partition cannot hang start-up.
    const migrations = new pg.Pool({ connectionString: options.databaseUrl, max: 1, connectionTimeoutMillis: timeouts.connectTimeoutMs, query_timeout: 120_000 });
    migrations.on('error', onPoolError);
    try {
      await migrate({ client: migrations, schema });
    } finally {
      await migrations.end();
    }
  }
  const sinkOptions = {
    schema,
    onError,
    ...(options.spillDir && { spillDir: options.spillDir }),
    ...options.sinkTimeouts,
  };
  const sink = options.databaseUrl
    ? createPostgresSink({ connectionString: options.databaseUrl, connectionTimeoutMillis: timeouts.connectTimeoutMs, ...sinkOptions })
    : createPostgresSink({ pool, ...sinkOptions });
  return {
    kind: 'postgres',
    schema,
    queryable: pool,
    async query<T>(sql: string, params?: unknown[]) {
      return databaseStep('reading', async () => (await pool.query(sql, params)).rows as T[]);
    },
    sink,
    async ping(timeoutMs = 2_000) {
      await pingWithin(pool.query('SELECT 1'), timeoutMs);
    },
    async close() {
      pool.removeListener('error', onPoolError);
      if (!given) await pool.end();
    },
  };
}
