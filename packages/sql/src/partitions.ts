import { quoteIdentifier } from './identifier.js';
import { withTransaction, type ConnectOptions, type Tx } from './sql-client.js';
import { addDays, dayRange, parseCount, parseDay, utcDay, type UtcDay } from './utc-day.js';

/** The raw tables partitioned by UTC day (migration 000003). */
export const PARTITIONED_TABLES = ['ai_usage_log', 'session_events'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** Days of partitions `ensurePartitions` and `migrate` create ahead of today by default. */
export const DEFAULT_DAYS_AHEAD = 7;

export interface PartitionOptions extends ConnectOptions {
  /** Schema holding the tables. Default `public`. */
  schema?: string;
}

export interface EnsurePartitionsOptions extends PartitionOptions {
  /** Create partitions up to this many UTC days after today. Default 7; 0 to 366. */
  daysAhead?: number;
  /** First day to cover (UTC, 'YYYY-MM-DD' or a Date). Default: yesterday. */
  from?: string | Date;
  /** The clock, for tests. Default: now. */
  now?: Date;
}

export interface EnsurePartitionsResult {
  schema: string;
  /** Partitions created by this call (0 when every day was covered already). */
  created: number;
  /** The days covered now: from (included) to (excluded). */
  from: UtcDay;
  to: UtcDay;
}

/**
 * Makes sure ai_usage_log and session_events have a partition for every UTC day from `from`
 * (default yesterday) to `daysAhead` days after today, creating the missing ones (each created
 * on its own, then attached: SHARE UPDATE EXCLUSIVE on the parent, so writers and readers go on).
 * Safe to run from several processes at once; a day already covered (daily or monthly) is left alone.
 */
export async function ensurePartitions(options: EnsurePartitionsOptions): Promise<EnsurePartitionsResult> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  const daysAhead = options.daysAhead === undefined ? DEFAULT_DAYS_AHEAD : parseCount(options.daysAhead, 'daysAhead', 0, 366);
  const today = utcDay(options.now ?? new Date());
  const from = options.from === undefined ? addDays(today, -1) : parseDay(options.from, 'from');
  const to = addDays(today, daysAhead + 1);
  const created = await withTransaction(options, (tx) => ensureDays(tx, qSchema, from < to ? dayRange(from, to) : []));
  return { schema, created, from, to };
}

/** Calls the schema's ai_partitions_ensure for `days`; returns how many partitions it created. */
export async function ensureDays(tx: Tx, qSchema: string, days: UtcDay[]): Promise<number> {
  if (days.length === 0) return 0;
  const [row] = await tx.query<{ made: number }>(`SELECT ${qSchema}.ai_partitions_ensure($1::date[]) AS made`, [days]);
  return Number(row?.made ?? 0);
}

export interface PartitionInfo {
  /** The partitioned table. */
  table: PartitionedTable;
  /** The partition's own table name. */
  name: string;
  /** First UTC day it holds. */
  from: UtcDay;
  /** First UTC day after it (a daily partition: from + 1; a monthly one: the 1st of the next month). */
  to: UtcDay;
  /** A detach that was interrupted (DETACH ... CONCURRENTLY) and still has to be finished. */
  detachPending: boolean;
}

/** Every range partition of ai_usage_log and session_events, oldest first. Changes nothing. */
export async function listPartitions(options: PartitionOptions): Promise<PartitionInfo[]> {
  const schema = options.schema ?? 'public';
  quoteIdentifier(schema, 'schema');
  return withTransaction(options, (tx) => readPartitions(tx, schema));
}

const BOUND = /FOR VALUES FROM \('(\d{4}-\d{2}-\d{2}) 00:00:00\+00'\) TO \('(\d{4}-\d{2}-\d{2}) 00:00:00\+00'\)/;

/** Reads the partitions inside a transaction (bounds printed in UTC, ISO style, whatever the session's settings). */
export async function readPartitions(tx: Tx, schema: string): Promise<PartitionInfo[]> {
  await tx.exec(`SET LOCAL TimeZone = 'UTC'`);
  await tx.exec(`SET LOCAL DateStyle = 'ISO'`);
  const rows = await tx.query<{ parent: string; name: string; bound: string | null; pending: boolean }>(
    `SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
            coalesce((to_jsonb(i) ->> 'inhdetachpending')::boolean, false) AS pending
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = $1 AND p.relname = ANY ($2::text[])`,
    [schema, [...PARTITIONED_TABLES]],
  );
  const out: PartitionInfo[] = [];
  for (const r of rows) {
    const m = r.bound ? BOUND.exec(r.bound) : null;
    // A DEFAULT partition, or bounds not on UTC midnights: not ours to manage.
    if (!m) continue;
    out.push({ table: r.parent as PartitionedTable, name: r.name, from: m[1]!, to: m[2]!, detachPending: r.pending });
  }
  return out.sort((a, b) => (a.from === b.from ? a.name.localeCompare(b.name) : a.from < b.from ? -1 : 1));
}

