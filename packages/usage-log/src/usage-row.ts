import type { UsageRecord } from '@korean-together/core';
import { safeProviderText } from '@korean-together/core/provider-kit';

/**
 * A usage record after validation: every value fits its ai_usage_log column, so one bad record
 * can never fail a whole batch. This is also the spill-file line format (JSON, one per line):
 * cost is a decimal string (exact), createdAt epoch milliseconds. It has no field for learner
 * text, audio or secrets, and unknown fields of the input are never copied.
 */
export interface UsageRow {
  id: string;
  callId: string;
  attempt: number;
  sessionId: string | null;
  eventId: string | null;
  providerType: 'stt' | 'tts' | 'eval';
  providerName: string;
  modelId: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  audioDurationMs: number | null;
  characters: number | null;
  latencyMs: number;
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  /** USD with exactly 6 decimals, e.g. "0.000125"; null when unknown. */
  estimatedCostUsd: string | null;
  priceVersion: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  /**
   * Part of tokensIn served from the provider's prompt cache; null when not reported. This and
   * the next two fields came with migration 000004: a spill line written before them has none,
   * and replays as null / false / null.
   */
  tokensCachedIn?: number | null;
  /** The SDK's own cache answered (no provider call). */
  cacheHit?: boolean;
  /** For a cache hit, what the provider call would have cost: USD with exactly 6 decimals; null otherwise. */
  savedCostUsd?: string | null;
}

/** Longest error message stored (characters); longer ones are cut. Provider text is redacted first. */
export const MAX_ERROR_MESSAGE = 500;
const INT_MAX = 2_147_483_647;
// DECIMAL(12,6): at most 999,999.999999 USD in one row.
const MAX_COST_MICRO = 999_999_999_999;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^\d{1,6}(?:\.\d{1,6})?$/;
// Anything safeProviderText would change: secret-looking tokens, runs of or non-space whitespace, edges.
const NEEDS_SANITISING = /AIza|\b[spr]k-|bearer|[?&](?:key|api_key|apikey|token|access_token)=|\s\s|[^\S ]|^\s|\s$/i;

export type NormalizeResult = { ok: true; row: UsageRow; clamped: boolean } | { ok: false; reason: string };

/**
 * Validates one record for ai_usage_log. Rejects what cannot be stored truthfully (no UUID id or
 * callId, unknown providerType, no providerName, success not a boolean); clamps the rest and
 * says so: NaN / infinite counts become NULL, negative counts 0, fractions are rounded, counts
 * over the INT range the INT maximum, a negative / NaN / oversized cost NULL (unknown, never a
 * made-up 0), a session or event id that is not a UUID NULL, an invalid createdAt the current
 * time, long strings are cut to their column width.
 */
export function normalizeUsage(input: unknown, now?: number): NormalizeResult {
  if (typeof input !== 'object' || input === null) return { ok: false, reason: 'record is not an object' };
  const r = input as Record<string, unknown>;
  if (typeof r.id !== 'string' || !UUID.test(r.id)) return { ok: false, reason: 'id is not a UUID' };
  if (typeof r.callId !== 'string' || !UUID.test(r.callId)) return { ok: false, reason: 'callId is not a UUID' };
  const type = r.providerType;
  if (type !== 'stt' && type !== 'tts' && type !== 'eval') return { ok: false, reason: 'providerType is not stt, tts or eval' };
  if (typeof r.providerName !== 'string' || stripNul(r.providerName).length === 0) return { ok: false, reason: 'providerName is missing' };
  if (typeof r.success !== 'boolean') return { ok: false, reason: 'success is not a boolean' };

  const c = { clamped: false };
  let attempt = count(r.attempt, c);
  if (attempt === null || attempt < 1) {
    if (r.attempt !== undefined) c.clamped = true;
    attempt = 1;
  }
  let latencyMs = count(r.latencyMs, c);
  if (latencyMs === null) {
    c.clamped = true;
    latencyMs = 0;
  }
  const row: UsageRow = {
    id: r.id.toLowerCase(),
    callId: r.callId.toLowerCase(),
    attempt,
    sessionId: optionalUuid(r.sessionId, c),
    eventId: optionalUuid(r.eventId, c),
    providerType: type,
    providerName: cut(r.providerName, 50, c),
    modelId: optionalText(r.modelId, 100, c),
    tokensIn: count(r.tokensIn, c),
    tokensOut: count(r.tokensOut, c),
    audioDurationMs: count(r.audioDurationMs, c),
    characters: count(r.characters, c),
    latencyMs,
    success: r.success,
    errorCode: optionalText(r.errorCode, 50, c),
    errorMessage: errorText(r.errorMessage, c),
    estimatedCostUsd: cost(r.estimatedCostUsd, c),
    priceVersion: optionalText(r.priceVersion, 50, c),
    createdAt: timestamp(r.createdAt, now, c),
    tokensCachedIn: count(r.tokensCachedIn, c),
    cacheHit: flag(r.cacheHit, c),
    savedCostUsd: cost(r.savedCostUsd, c),
  };
  return { ok: true, row, clamped: c.clamped };
}

/** The record as ai_usage_log stores it, back in the core's shape (for tests and tools reading spill files). */
export function rowToRecord(row: UsageRow): UsageRecord {
  const rec: UsageRecord = {
    id: row.id,
    callId: row.callId,
    attempt: row.attempt,
    providerType: row.providerType,
    providerName: row.providerName,
    latencyMs: row.latencyMs,
    success: row.success,
    createdAt: new Date(row.createdAt),
  };
  if (row.sessionId !== null) rec.sessionId = row.sessionId;
  if (row.eventId !== null) rec.eventId = row.eventId;
  if (row.modelId !== null) rec.modelId = row.modelId;
  if (row.tokensIn !== null) rec.tokensIn = row.tokensIn;
  if (row.tokensOut !== null) rec.tokensOut = row.tokensOut;
  if (row.audioDurationMs !== null) rec.audioDurationMs = row.audioDurationMs;
  if (row.characters !== null) rec.characters = row.characters;
  if (row.errorCode !== null) rec.errorCode = row.errorCode;
  if (row.errorMessage !== null) rec.errorMessage = row.errorMessage;
  if (row.estimatedCostUsd !== null) rec.estimatedCostUsd = Number(row.estimatedCostUsd);
  if (row.priceVersion !== null) rec.priceVersion = row.priceVersion;
  if (row.tokensCachedIn != null) rec.tokensCachedIn = row.tokensCachedIn;
  if (row.cacheHit === true) rec.cacheHit = true;
  if (row.savedCostUsd != null) rec.savedCostUsd = Number(row.savedCostUsd);
  return rec;
}

/** A short, safe description of a rejected record for the quarantine file: known fields only, strings cut. */
export function describeRejected(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return { type: typeof input };
  const out: Record<string, unknown> = {};
  for (const key of ['id', 'callId', 'attempt', 'sessionId', 'eventId', 'providerType', 'providerName', 'modelId', 'latencyMs', 'success', 'errorCode', 'estimatedCostUsd', 'priceVersion', 'cacheHit', 'savedCostUsd', 'tokensCachedIn']) {
    const v = (input as Record<string, unknown>)[key];
    if (v === undefined) continue;
    out[key] = typeof v === 'string' ? safeProviderText(v.slice(0, 400), 100) : typeof v === 'number' || typeof v === 'boolean' || v === null ? v : typeof v;
  }
  return out;
}

function count(v: unknown, c: { clamped: boolean }): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    c.clamped = true;
    return null;
  }
  if (v < 0) {
    c.clamped = true;
    return 0;
  }
  if (v > INT_MAX) {
    c.clamped = true;
    return INT_MAX;
  }
  if (!Number.isInteger(v)) {
    c.clamped = true;
    return Math.round(v);
  }
  return v;
}

/** A flag that is absent (older records and spill lines) is false; anything but a boolean is false and clamped. */
function flag(v: unknown, c: { clamped: boolean }): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  c.clamped = true;
  return false;
}

function optionalUuid(v: unknown, c: { clamped: boolean }): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && UUID.test(v)) return v.toLowerCase();
  c.clamped = true;
  return null;
}

/** Postgres text cannot hold U+0000 (it refuses the whole row): it is removed, and the record counts as clamped. */
function stripNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
}

// Half of a surrogate pair with no other half: not text. Postgres refuses it in JSON (the
// sink's batch rollup carries names and codes), and UTF-8 cannot hold it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with NULs removed and lone surrogates replaced by U+FFFD. */
function wellFormed(raw: string): string {
  const s = stripNul(raw);
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

/** At most `max` UTF-16 units, never ending inside a surrogate pair. */
function cut(raw: string, max: number, c: { clamped: boolean }): string {
  const s = wellFormed(raw);
  if (s !== raw) c.clamped = true;
  if (s.length <= max) return s;
  c.clamped = true;
  const end = /[\uD800-\uDBFF]/.test(s[max - 1]!) ? max - 1 : max;
  return s.slice(0, end);
}

function optionalText(v: unknown, max: number, c: { clamped: boolean }): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    c.clamped = true;
    return null;
  }
  return cut(v, max, c);
}

function errorText(input: unknown, c: { clamped: boolean }): string | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'string') {
    c.clamped = true;
    return null;
  }
  const v = wellFormed(input.length > 4 * MAX_ERROR_MESSAGE ? input.slice(0, 4 * MAX_ERROR_MESSAGE) : input);
  if (v !== input) c.clamped = true;
  // Most messages are short and clean: one regex test instead of safeProviderText's five replaces.
  if (v.length <= MAX_ERROR_MESSAGE && !NEEDS_SANITISING.test(v)) return v;
  // The core already sanitises messages; redact again so nothing secret-looking is ever stored.
  const safe = wellFormed(safeProviderText(v, MAX_ERROR_MESSAGE));
  if (safe !== v) c.clamped = true;
  return safe;
}

function cost(v: unknown, c: { clamped: boolean }): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) {
      c.clamped = true;
      return null;
    }
    const micro = Math.round(v * 1_000_000);
    if (micro > MAX_COST_MICRO) {
      c.clamped = true;
      return null;
    }
    return microString(micro);
  }
  // A decimal string (spill files store cost this way, so it round-trips exactly).
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const [whole, frac = ''] = v.split('.');
    return `${whole}.${frac.padEnd(6, '0')}`;
  }
  c.clamped = true;
  return null;
}

function microString(micro: number): string {
  const whole = Math.floor(micro / 1_000_000);
  const frac = micro - whole * 1_000_000;
  return `${whole}.${String(frac).padStart(6, '0')}`;
}

function timestamp(v: unknown, now: number | undefined, c: { clamped: boolean }): number {
  let ms: number;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') ms = Date.parse(v);
  else ms = Number.NaN;
  // Postgres timestamptz covers far more, but a date outside years 1970-9999 is a bug upstream.
  if (!Number.isFinite(ms) || ms < 0 || ms > 253_402_300_799_999) {
    c.clamped = true;
    return now ?? Date.now();
  }
  return ms;
}
