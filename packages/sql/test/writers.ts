import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '../../../test-support/db.js';

/** One usage row for ai_usage_log_insert, with test-friendly defaults. */
export interface UsageInput {
  id?: string;
  callId: string;
  attempt?: number;
  sessionId?: string | null;
  providerType: 'stt' | 'tts' | 'eval';
  providerName: string;
  modelId?: string | null;
  tokensIn?: number | null;
  tokensOut?: number | null;
  audioDurationMs?: number | null;
  characters?: number | null;
  latencyMs: number;
  success?: boolean;
  errorCode?: string | null;
  /** Decimal string, e.g. '0.000125'; null when unknown. */
  cost?: string | null;
  /** ISO timestamp. */
  at: string;
  tokensCachedIn?: number | null;
  cacheHit?: boolean;
  /** Decimal string; null when none. */
  savedCost?: string | null;
}

/** The 22 column arrays, in the order ai_usage_log_insert takes them (the usage sink's order); `legacy`: the first 19 only, as a writer of migration 000003's time sends them. */
export function usageArrays(rows: readonly UsageInput[], legacy = false): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 22 }, () => []);
  for (const r of rows) {
    const v = [
      r.id ?? randomUUID(), r.callId, r.attempt ?? 1, r.sessionId ?? null, null, r.providerType, r.providerName, r.modelId ?? null,
      r.tokensIn ?? null, r.tokensOut ?? null, r.audioDurationMs ?? null, r.characters ?? null, r.latencyMs, r.success ?? true,
      r.errorCode ?? null, null, r.cost === undefined ? null : r.cost, 'test', r.at,
      r.tokensCachedIn ?? null, r.cacheHit ?? false, r.savedCost ?? null,
    ];
    v.forEach((x, i) => cols[i]!.push(x));
  }
  return legacy ? cols.slice(0, 19) : cols;
}

const TYPES = ['uuid', 'uuid', 'int', 'uuid', 'uuid', 'text', 'text', 'text', 'int', 'int', 'int', 'int', 'int', 'boolean', 'text', 'text', 'numeric', 'text', 'timestamptz', 'int', 'boolean', 'numeric'];

/** The statement a writer sends: one call of ai_usage_log_insert with one array per column (`legacy`: the 19 of migration 000003). */
export function usageInsertSql(schema: string, legacy = false): string {
  return `SELECT "${schema}".ai_usage_log_insert(${TYPES.slice(0, legacy ? 19 : 22).map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) AS n`;
}

/** Writes a batch through ai_usage_log_insert, as a writer would; resolves to the rows inserted. */
export async function insertUsage(db: Pick<TestDatabase, 'query'>, schema: string, rows: readonly UsageInput[]): Promise<number> {
  const [r] = await db.query<{ n: number }>(usageInsertSql(schema), usageArrays(rows));
  return Number(r!.n);
}

export interface EventInput {
  id?: string;
  sessionId: string;
  eventType?: string;
  provider?: string | null;
  modelId?: string | null;
  primaryErrorType?: string | null;
  score?: number | null;
  passFail?: boolean | null;
  latencyMs?: number | null;
  at?: string | null;
}

/** Writes one session event through session_event_insert; resolves to its id. */
export async function insertEvent(db: Pick<TestDatabase, 'query'>, schema: string, e: EventInput): Promise<string> {
  const [r] = await db.query<{ id: string }>(
    `SELECT "${schema}".session_event_insert($1::uuid, $2::uuid, NULL, $3::text, NULL, NULL, $4::int, $5::boolean, $6::text, $7::text, $8::text, $9::int, NULL, NULL, $10::timestamptz) AS id`,
    [e.id ?? null, e.sessionId, e.eventType ?? 'evaluation', e.score ?? null, e.passFail ?? null, e.primaryErrorType ?? null, e.provider ?? null, e.modelId ?? null, e.latencyMs ?? null, e.at ?? null],
  );
  return String(r!.id);
}

/** A UUID whose last digits are `n`, so tests can name calls and rows. */
export function uuidOf(prefix: string, n: number): string {
  return `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}
