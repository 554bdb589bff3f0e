import { quoteIdentifier } from './identifier.js';
import { migrations as shipped, migrationChecksum, type Migration } from './migrations.js';
import { DEFAULT_DAYS_AHEAD, ensureDays } from './partitions.js';
import { withConnection, withTransaction, type ConnectOptions, type Tx } from './sql-client.js';
import { SqlError } from './sql-error.js';
import { addDays, dayRange, parseCount, utcDay } from './utc-day.js';

/** Table (inside the target schema) that records which migrations ran. */
export const MIGRATIONS_TABLE = 'korean_together_migrations';

// First key of the two-key advisory lock ('KT'); the second is hashtext(schema), so installs
// into different schemas do not wait on each other.
const LOCK_NAMESPACE = 0x4b54;

export interface MigrateOptions extends ConnectOptions {
  /** Schema to install into; created when missing. Default `public`. Letters, digits, underscore. */
  schema?: string;
  /**
   * After migrating, make sure the partitioned tables have partitions from yesterday to this many
   * UTC days ahead (see ensurePartitions). Default 7; 0 creates only yesterday's and today's.
   */
  partitionDaysAhead?: number;
}

export interface MigrateResult {
  /** The schema migrated. */
  schema: string;
  /** Ids applied by this run, in order; empty when the schema was already current. */
  applied: string[];
  /** Ids already applied before this run. */
  alreadyApplied: string[];
  /** Partitions this run created (for new days), 0 when every day was covered already. */
  partitionsCreated: number;
}

interface AppliedRow {
  id: string;
  checksum: string;
  applied_at: Date | string;
}

/**
 * Applies every pending migration to `schema`, in one transaction, under a transaction-level
 * advisory lock: concurrent runs wait for each other and the later ones find nothing to do.
 * Refuses (SqlError `checksum_mismatch`, nothing applied) when a migration recorded as applied
 * differs from the one shipped now.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  const daysAhead = options.partitionDaysAhead === undefined ? DEFAULT_DAYS_AHEAD : parseCount(options.partitionDaysAhead, 'partitionDaysAhead', 0, 366);
  const list = shipped;
  return withTransaction(options, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_NAMESPACE, schema]);
    // Look before CREATE SCHEMA IF NOT EXISTS: the statement needs CREATE on the database even
    // when the schema exists, which an app role installing into its own schema may lack.
    const exists = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.length === 0) await tx.exec(`CREATE SCHEMA ${qSchema}`);
    await tx.exec(`SET LOCAL search_path TO ${qSchema}`);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${qSchema}.${MIGRATIONS_TABLE} (
        id TEXT PRIMARY KEY,
        checksum TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    );
    const appliedRows = await tx.query<AppliedRow>(`SELECT id, checksum, applied_at FROM ${qSchema}.${MIGRATIONS_TABLE} ORDER BY id`);
    const applied = new Map(appliedRows.map((r) => [r.id, r.checksum]));
    checkChecksums(list, applied, schema);
    const pending = list.filter((m) => !applied.has(m.id));
    for (const m of pending) {
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new SqlError('migration_failed', `migration ${m.id} failed in schema "${schema}": ${(err as Error).message}`, {
          migrationId: m.id,
          cause: err,
        });
      }
      await tx.query(`INSERT INTO ${qSchema}.${MIGRATIONS_TABLE} (id, checksum) VALUES ($1, $2)`, [m.id, migrationChecksum(m.sql)]);
    }
    // Every start of a process opens the coming days ahead of the writers (they also open a day
    // on demand). Only once the partitioned tables exist: an older version may have stopped short.
    let partitionsCreated = 0;
    if (applied.has(PARTITIONS_MIGRATION) || pending.some((m) => m.id === PARTITIONS_MIGRATION)) {
      const [now] = await tx.query<{ today: string }>(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS today`);
      const today = now?.today ?? utcDay(new Date());
      partitionsCreated = await ensureDays(tx, qSchema, dayRange(addDays(today, -1), addDays(today, daysAhead + 1)));
    }
    return { schema, applied: pending.map((m) => m.id), alreadyApplied: list.filter((m) => applied.has(m.id)).map((m) => m.id), partitionsCreated };
  });
}

/** The migration that partitions the raw tables and adds the rollups. */
const PARTITIONS_MIGRATION = '000003_partitions_and_rollups';

function checkChecksums(list: readonly Migration[], applied: Map<string, string>, schema: string): void {
  for (const m of list) {
    const recorded = applied.get(m.id);
    if (recorded !== undefined && recorded !== migrationChecksum(m.sql)) {
      throw new SqlError(
        'checksum_mismatch',
        `migration ${m.id} was applied to schema "${schema}" with checksum ${recorded.slice(0, 12)}…, but the shipped file now has ${migrationChecksum(m.sql).slice(0, 12)}…: applied migrations must never be edited; add a new migration instead`,
        { migrationId: m.id },
      );
    }
  }
}

export type MigrationState = 'applied' | 'pending' | 'changed';

export interface MigrationStatus {
  schema: string;
  migrations: { id: string; state: MigrationState; appliedAt?: Date }[];
  /** Ids recorded in the database that this package version does not ship (applied by a newer version). */
  unknown: string[];
}

/** Reads which shipped migrations are applied, pending, or changed since they were applied. Changes nothing. */
export async function migrationStatus(options: MigrateOptions): Promise<MigrationStatus> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  return withConnection(options, async (tx: Tx) => {
    const exists = await tx.query('SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', [
      schema,
      MIGRATIONS_TABLE,
    ]);
    const rows = exists.length ? await tx.query<AppliedRow>(`SELECT id, checksum, applied_at FROM ${qSchema}.${MIGRATIONS_TABLE} ORDER BY id`) : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const known = new Set(shipped.map((m) => m.id));
    return {
      schema,
      migrations: shipped.map((m) => {
        const row = byId.get(m.id);
        if (!row) return { id: m.id, state: 'pending' as const };
        return {
          id: m.id,
          state: row.checksum === migrationChecksum(m.sql) ? ('applied' as const) : ('changed' as const),
          appliedAt: new Date(row.applied_at),
        };
      }),
      unknown: rows.filter((r) => !known.has(r.id)).map((r) => r.id),
    };
  });
}
