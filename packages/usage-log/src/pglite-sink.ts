import { randomUUID } from 'node:crypto';
import { BufferedSink } from './buffered-sink.js';
import type { InsertTarget } from './insert-target.js';
import { SINK_DEFAULTS, type BufferedSinkOptions } from './sink-options.js';
import { databaseIdentity } from './database-identity.js';
import { insertStatement } from './insert-statement.js';
import type { PostgresSink } from './postgres-sink.js';

/** The parts of a PGlite instance the sink uses. */
export interface PgliteDbLike {
  query(text: string, params?: unknown[]): Promise<{ affectedRows?: number; rows?: unknown[] }>;
  readonly dataDir?: string;
}

export interface PgliteSinkOptions extends BufferedSinkOptions {
  /** The PGlite database (the host opens and closes it). */
  db: PgliteDbLike;
  /** Schema of the table. Default {@link SINK_DEFAULTS.schema}. */
  schema?: string;
  /** Table name. Default {@link SINK_DEFAULTS.table}. */
  table?: string;
}

// One identity per database object, so every sink on the same PGlite shares its spill.
const ids = new WeakMap<PgliteDbLike, string>();

/**
 * The Postgres sink's engine over an in-process PGlite database: same batching, validation,
 * row isolation and spill (a spill only happens when PGlite itself fails, e.g. once closed).
 * For development, tests and single-process apps.
 */
export function createPgliteSink(options: PgliteSinkOptions): PostgresSink {
  const { db } = options;
  let dbId = ids.get(db);
  if (!dbId) {
    // An in-memory database dies with the process: its spill is never adopted by another one.
    dbId = db.dataDir && !db.dataDir.startsWith('memory://') ? db.dataDir : `memory-${randomUUID()}`;
    ids.set(db, dbId);
  }
  const schema = options.schema ?? SINK_DEFAULTS.schema;
  const table = options.table ?? SINK_DEFAULTS.table;
  const statement = insertStatement(schema, table);
  const { text } = statement;
  const target: InsertTarget = {
    id: `pglite:${dbId}:${schema}.${table}`,
    async insert(rows) {
      const r = await db.query(text, statement.params(rows));
      return statement.inserted({ count: r.affectedRows, rows: r.rows });
    },
    async probe() {
      await db.query(text, statement.params([]));
    },
    identify: async () => databaseIdentity(async (q) => (await db.query(q)).rows, schema, table),
    async close() {},
  };
  // PGlite runs one statement at a time anyway.
  return new BufferedSink(target, { ...options, concurrency: 1 });
}
