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
] as const;

/**
 * One parameterised statement for a whole batch: one array parameter per column, unnested into
 * rows. `ON CONFLICT DO NOTHING` without a conflict target makes a replayed row a no-op and
 * needs only INSERT privilege (a target such as `(id)` would also need SELECT on id).
 */
export function insertStatement(schema: string, table: string): string {
  const target = `${quoteIdentifier(schema, 'schema')}.${quoteIdentifier(table, 'table')}`;
  const cols = COLUMNS.map(([c]) => c).join(', ');
  const params = COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  return `INSERT INTO ${target} (${cols}) SELECT * FROM unnest(${params}) ON CONFLICT DO NOTHING`;
}

/** The statement's parameters for `rows`, column by column. */
export function insertParams(rows: readonly UsageRow[]): unknown[][] {
  const n = rows.length;
  const cols: unknown[][] = COLUMNS.map(() => new Array(n));
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    cols[0]![i] = r.id;
    cols[1]![i] = r.callId;
    cols[2]![i] = r.attempt;
    cols[3]![i] = r.sessionId;
    cols[4]![i] = r.eventId;
    cols[5]![i] = r.providerType;
    cols[6]![i] = r.providerName;
    cols[7]![i] = r.modelId;
    cols[8]![i] = r.tokensIn;
    cols[9]![i] = r.tokensOut;
    cols[10]![i] = r.audioDurationMs;
    cols[11]![i] = r.characters;
    cols[12]![i] = r.latencyMs;
    cols[13]![i] = r.success;
    cols[14]![i] = r.errorCode;
    cols[15]![i] = r.errorMessage;
    cols[16]![i] = r.estimatedCostUsd;
    cols[17]![i] = r.priceVersion;
    cols[18]![i] = new Date(r.createdAt).toISOString();
  }
  return cols;
}
