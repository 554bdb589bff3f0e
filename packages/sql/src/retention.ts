import { quoteIdentifier } from './identifier.js';
import { PARTITIONED_TABLES, readPartitions, type PartitionInfo, type PartitionOptions, type PartitionedTable } from './partitions.js';
import { withTransaction } from './sql-client.js';
import { SqlError } from './sql-error.js';
import { addDays, parseCount, utcDay, type UtcDay } from './utc-day.js';

export interface RetentionOptions extends PartitionOptions {
  /** Keep the raw rows of the last `keepDays` UTC days (today included); drop partitions entirely older. 1 to 36500. */
  keepDays: number;
  /** Which raw tables. Default both: ai_usage_log and session_events. */
  tables?: readonly PartitionedTable[];
  /** List what would be dropped, drop nothing. */
  dryRun?: boolean;
  /** Longest wait for the table lock a detach needs, in milliseconds; then that partition is skipped (reported). Default 5000. */
  lockTimeoutMs?: number;
  /** The clock, for tests. Default: now. */
  now?: Date;
}

export interface RetentionResult {
  schema: string;
  /** Partitions whose last day is before this UTC day are dropped. */
  cutoff: UtcDay;
  /** Dropped (or, with dryRun, those that would be). */
  dropped: PartitionInfo[];
  /** Left for the next run because the table lock was not granted within lockTimeoutMs. */
  skipped: PartitionInfo[];
  dryRun: boolean;
}

/**
 * Detaches and drops the raw partitions of ai_usage_log and session_events that hold only days
 * older than `keepDays`. The rollups (ai_usage_hourly/daily, evaluation_hourly/daily) are not
 * touched: the views and the dashboard keep their history. One short transaction per partition:
 * DETACH PARTITION takes ACCESS EXCLUSIVE on the parent for the moment it runs, after waiting at
 * most `lockTimeoutMs` for statements already running on the table; a partition whose lock is not
 * granted in time is skipped and reported, and the next run drops it.
 */
export async function applyRetention(options: RetentionOptions): Promise<RetentionResult> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  const keepDays = parseCount(options.keepDays, 'keepDays', 1, 36_500);
  const lockTimeoutMs = options.lockTimeoutMs === undefined ? 5000 : parseCount(options.lockTimeoutMs, 'lockTimeoutMs', 1, 600_000);
  const tables = options.tables ?? PARTITIONED_TABLES;
  for (const t of tables) {
    if (!(PARTITIONED_TABLES as readonly string[]).includes(t)) throw new SqlError('invalid_option', `tables: ${JSON.stringify(t)} is not one of ${PARTITIONED_TABLES.join(', ')}`);
  }
  const cutoff = addDays(utcDay(options.now ?? new Date()), -(keepDays - 1));
  const all = await withTransaction(options, (tx) => readPartitions(tx, schema));
  const old = all.filter((p) => tables.includes(p.table) && p.to <= cutoff);
  const dropped: PartitionInfo[] = [];
  const skipped: PartitionInfo[] = [];
  if (options.dryRun) return { schema, cutoff, dropped: old, skipped, dryRun: true };
  for (const p of old) {
    try {
      await withTransaction(options, async (tx) => {
        await tx.exec(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
        const parent = `${qSchema}.${quoteIdentifier(p.table, 'table')}`;
        const part = `${qSchema}.${quoteIdentifier(p.name, 'partition')}`;
        await tx.exec(`ALTER TABLE ${parent} DETACH PARTITION ${part}${p.detachPending ? ' FINALIZE' : ''}`);
        await tx.exec(`DROP TABLE ${part}`);
      });
      dropped.push(p);
    } catch (err) {
      // 55P03 lock_not_available: someone held the table longer than we wait. Try again next run.
      if ((err as { code?: string }).code === '55P03') skipped.push(p);
      else throw err;
    }
  }
  return { schema, cutoff, dropped, skipped, dryRun: false };
}
