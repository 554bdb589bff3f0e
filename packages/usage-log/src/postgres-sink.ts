import { createHash } from 'node:crypto';
import pg from 'pg';
import { AiError, type UsageSink } from '@korean-together/core';
import { safeProviderText } from '@korean-together/core/provider-kit';
import { BufferedSink } from './buffered-sink.js';
import type { InsertTarget } from './insert-target.js';
import { SINK_DEFAULTS, sinkSettings, type BufferedSinkOptions } from './sink-options.js';
import type { UsageSinkStats } from './sink-stats.js';
import { databaseIdentity } from './database-identity.js';
import { insertStatement } from './insert-statement.js';
import { UsageLogError } from './usage-log-error.js';
import type { UsageRow } from './usage-row.js';

/** The parts of a node-postgres Pool the sink uses. */
export interface PgPoolLike {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rowCount: number | null; rows?: unknown[] }>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
  options?: { host?: string; port?: number; database?: string; connectionString?: string };
}

export interface PostgresSinkOptions extends BufferedSinkOptions {
  /** A node-postgres Pool the host owns (left open by close()). Give this or `connectionString`. */
  pool?: PgPoolLike;
  /** postgres:// URL: the sink opens (and closes) its own small pool of `concurrency` connections. */
  connectionString?: string;
  /** Schema of the table. Default {@link SINK_DEFAULTS.schema}. */
  schema?: string;
  /** Table name. Default {@link SINK_DEFAULTS.table}. */
  table?: string;
  /** Own pool only: how long to wait for a connection before the database counts as unreachable, in milliseconds. Default {@link SINK_DEFAULTS.connectionTimeoutMillis}. */
  connectionTimeoutMillis?: number;
  /** Own pool only: a batch insert running longer than this (ms) counts as failed and its rows are spilled. Default {@link SINK_DEFAULTS.queryTimeoutMs}. */
  queryTimeoutMs?: number;
  /** Own pool only: `application_name` of the connections (shows in pg_stat_activity). Default {@link SINK_DEFAULTS.applicationName}. */
  applicationName?: string;
}

export type PostgresSink = UsageSink & {
  /** Counters; see UsageSinkStats. */
  stats(): UsageSinkStats;
};

/**
 * A usage sink for Postgres that never loses a row and never makes the caller wait: `write()`
 * queues in memory; batches go out as one statement (into `ai_usage_log`: the schema's
 * `ai_usage_log_insert`, which keeps the rollups too; into another table: `INSERT ... SELECT FROM
 * unnest(...) ON CONFLICT DO NOTHING`); while the database is unreachable or slow, rows go to
 * fsync'd JSONL spill files, replayed in order once it answers. Rows the database refuses are
 * isolated and quarantined.
 */
export function createPostgresSink(options: PostgresSinkOptions): PostgresSink {
  const schema = options.schema ?? SINK_DEFAULTS.schema;
  const table = options.table ?? SINK_DEFAULTS.table;
  const statement = insertStatement(schema, table);
  const { text } = statement;
  if (!options.pool && !options.connectionString) {
    throw new AiError('invalid_config', 'usage-log: createPostgresSink needs `pool` or `connectionString`', { retryable: false });
  }
  // Every option checked before a pool is opened.
  const { concurrency } = sinkSettings(options);
  const ownsPool = !options.pool;
  const pool: PgPoolLike =
    options.pool ??
    (new pg.Pool({
      connectionString: options.connectionString,
      max: concurrency,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? SINK_DEFAULTS.connectionTimeoutMillis,
      query_timeout: options.queryTimeoutMs ?? SINK_DEFAULTS.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: options.applicationName ?? SINK_DEFAULTS.applicationName,
    }) as unknown as PgPoolLike);
  // Without a listener, an idle connection killed by the server crashes the host process.
  const onPoolError = (err: Error) => {
    try {
      options.onError?.(new UsageLogError('unavailable', `usage-log: idle Postgres connection failed: ${safeProviderText(err)}`, { reason: 'pool_error', cause: err }));
    } catch {
      // never let a hook crash the pool
    }
  };
  pool.on('error', onPoolError);
  // A prepared statement per connection: parsed and planned once, not per batch.
  const name = `kt_usage_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  const target: InsertTarget = {
    id: `pg:${targetIdentity(options, pool)}:${schema}.${table}`,
    async insert(rows: readonly UsageRow[]) {
      const r = await pool.query({ name, text, values: statement.params(rows) });
      return statement.inserted({ count: r.rowCount, rows: r.rows });
    },
    async probe() {
      await pool.query({ name, text, values: statement.params([]) });
    },
    identify: () => databaseIdentity(async (q) => (await pool.query({ text: q })).rows, schema, table),
    async close() {
      pool.removeListener('error', onPoolError);
      if (ownsPool) {
        // Keep swallowing late errors from connections that are being torn down.
        pool.on('error', () => {});
        await pool.end();
      }
    },
  };
  return new BufferedSink(target, { ...options, concurrency });
}

// Which database the rows are for as configured, without credentials. What the database says it
// is (identify()) decides once known; this key matches writers that never reached it.
function targetIdentity(options: PostgresSinkOptions, pool: PgPoolLike): string {
  const cs = options.connectionString ?? pool.options?.connectionString;
  let key: string;
  if (cs) {
    try {
      const u = new URL(cs);
      key = `${u.hostname}:${u.port || '5432'}${u.pathname}?host=${u.searchParams.get('host') ?? ''}`;
    } catch {
      key = cs;
    }
  } else {
    const o = pool.options ?? {};
    key = `${o.host ?? process.env.PGHOST ?? 'localhost'}:${o.port ?? process.env.PGPORT ?? 5432}/${o.database ?? process.env.PGDATABASE ?? ''}`;
  }
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
