import { plainArrayLiteral, textArrayLiteral } from './array-literal.js';
import { batchRollup } from './batch-rollup.js';
import { quoteIdentifier } from './identifier.js';
import type { UsageRow } from './usage-row.js';

const COLUMNS = [
  ['id', 'uuid'],
  ['call_id', 'uuid'],
  ['attempt', 'int'],
  ['session_id', 'uuid'],
  ['event_id', 'uuid'],
  ['provider_type', 'text'],
  ['provider_name', 'text'],
  ['model_id', 'text'],
  ['tokens_in', 'int'],
  ['tokens_out', 'int'],
  ['audio_duration_ms', 'int'],
  ['characters', 'int'],
  ['latency_ms', 'int'],
  ['success', 'bool'],
  ['error_code', 'text'],
  ['error_message', 'text'],
  ['estimated_cost_usd', 'numeric'],
  ['price_version', 'text'],
  ['created_at', 'timestamptz'],
  // Migration 000004.
  ['tokens_cached_in', 'int'],
  ['cache_hit', 'bool'],
  ['saved_cost_usd', 'numeric'],
] as const;

/** The table whose rows the SDK's rollups count (migration 000003 of @korean-together/sql). */
export const ROLLUP_TABLE = 'ai_usage_log';

/** A batch insert statement and how to read, from its result, how many rows it stored. */
export interface InsertStatement {
  text: string;
  /** Whether it keeps the rollups (the SDK's own table) or is a plain INSERT (any other table). */
  rollups: boolean;
  /** The statement's parameters for `rows`. */
  params(rows: readonly UsageRow[]): unknown[];
  /** Rows stored, from the statement's result (`rowCount`/`affectedRows` and `rows`). */
  inserted(result: { count: number | null | undefined; rows?: readonly unknown[] | undefined }): number;
}

/**
 * One parameterised statement for a whole batch: one array parameter per column.
 *
 * Into the SDK's own `ai_usage_log` it calls the schema's `ai_usage_log_insert(...)`: that
 * function inserts with `ON CONFLICT DO NOTHING` and adds exactly the rows the INSERT stored to
 * the hourly and daily rollups in the same transaction (so a replayed or doubled row is counted
 * once, and distinct calls stay exact across batches), and opens the partition of a day that has
 * none first. It runs as its owner: the writer role needs only USAGE on the schema and EXECUTE.
 *
 * Into any other table (`table` option) it is a plain `INSERT ... SELECT FROM unnest(...) ON
 * CONFLICT DO NOTHING` of every column of `ai_usage_log` (migration 000004's tokens_cached_in,
 * cache_hit and saved_cost_usd included), without rollups; without a conflict target it needs only INSERT privilege
 * (a target such as `(id)` would also need SELECT on id).
 */
export function insertStatement(schema: string, table: string): InsertStatement {
  const qSchema = quoteIdentifier(schema, 'schema');
  const params = COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  if (table === ROLLUP_TABLE) {
    return {
      // The last parameter: the batch's rollup as the sink computes it (migration 000006), which the
      // function uses instead of counting the rows when it can prove it right.
      text: `SELECT ${qSchema}.ai_usage_log_insert(${params}, $${COLUMNS.length + 1}::jsonb) AS inserted`,
      rollups: true,
      params: (rows) => [...insertParams(rows), rows.length === 0 ? null : batchRollup(rows)],
      inserted: (r) => Number((r.rows?.[0] as { inserted?: unknown } | undefined)?.inserted ?? 0),
    };
  }
  const target = `${qSchema}.${quoteIdentifier(table, 'table')}`;
  const cols = COLUMNS.map(([c]) => c).join(', ');
  return {
    text: `INSERT INTO ${target} (${cols}) SELECT * FROM unnest(${params}) ON CONFLICT DO NOTHING`,
    rollups: false,
    params: insertParams,
    inserted: (r) => r.count ?? 0,
  };
}

/** The statement's parameters for `rows`, column by column, each as a Postgres array literal. */
export function insertParams(rows: readonly UsageRow[]): string[] {
  const col = <T extends string | number | boolean | null | undefined>(f: (r: UsageRow) => T) => {
    const out = new Array<T>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = f(rows[i]!);
    return out;
  };
  // UUIDs, numbers, booleans, ISO timestamps and decimal strings (as normalizeUsage writes them)
  // need no quoting; every text column is quoted.
  return [
    plainArrayLiteral(col((r) => r.id)),
    plainArrayLiteral(col((r) => r.callId)),
    plainArrayLiteral(col((r) => r.attempt)),
    plainArrayLiteral(col((r) => r.sessionId)),
    plainArrayLiteral(col((r) => r.eventId)),
    textArrayLiteral(col((r) => r.providerType)),
    textArrayLiteral(col((r) => r.providerName)),
    textArrayLiteral(col((r) => r.modelId)),
    plainArrayLiteral(col((r) => r.tokensIn)),
    plainArrayLiteral(col((r) => r.tokensOut)),
    plainArrayLiteral(col((r) => r.audioDurationMs)),
    plainArrayLiteral(col((r) => r.characters)),
    plainArrayLiteral(col((r) => r.latencyMs)),
    plainArrayLiteral(col((r) => r.success)),
    textArrayLiteral(col((r) => r.errorCode)),
    textArrayLiteral(col((r) => r.errorMessage)),
    plainArrayLiteral(col((r) => r.estimatedCostUsd)),
    textArrayLiteral(col((r) => r.priceVersion)),
    plainArrayLiteral(col((r) => new Date(r.createdAt).toISOString())),
    plainArrayLiteral(col((r) => r.tokensCachedIn ?? null)),
    plainArrayLiteral(col((r) => r.cacheHit === true)),
    plainArrayLiteral(col((r) => r.savedCostUsd ?? null)),
  ];
}
