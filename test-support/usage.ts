import { randomBytes } from 'node:crypto';
import type { UsageRecord } from '@korean-together/core';

/**
 * Deterministic usage records for tests and benches: record `seq` of stream `stream` always has
 * the same id and cost, so a test can tell exactly which rows should be in the table and what
 * they cost, even across processes.
 */
export function streamId(): string {
  return randomBytes(4).toString('hex');
}

/** UUID of record `seq` in `stream` (8 hex chars). */
export function recordId(stream: string, seq: number): string {
  return `${stream}-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
}

/** Cost of record `seq`, in micro-dollars: 1..997, so sums are exact integers. */
export function costMicro(seq: number): number {
  return (seq % 997) + 1;
}

/** Exact sum of costs of records [from, to), as the decimal string Postgres prints for NUMERIC(…,6). */
export function costSumText(from: number, to: number): string {
  let micro = 0n;
  for (let i = from; i < to; i++) micro += BigInt(costMicro(i));
  const whole = micro / 1_000_000n;
  const frac = (micro % 1_000_000n).toString().padStart(6, '0');
  return `${whole}.${frac}`;
}

export function makeRecord(stream: string, seq: number, overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: recordId(stream, seq),
    callId: `${stream}-1111-4000-8000-${Math.floor(seq / 2).toString(16).padStart(12, '0')}`,
    attempt: (seq % 2) + 1,
    providerType: seq % 3 === 0 ? 'stt' : seq % 3 === 1 ? 'tts' : 'eval',
    providerName: 'gemini',
    modelId: 'gemini-2.5-flash',
    tokensIn: 120,
    tokensOut: 40,
    latencyMs: 25 + (seq % 50),
    success: seq % 10 !== 0,
    ...(seq % 10 === 0 && { errorCode: 'timeout', errorMessage: 'attempt timed out after 2000 ms' }),
    estimatedCostUsd: costMicro(seq) / 1_000_000,
    priceVersion: '2026-01',
    createdAt: new Date(Date.UTC(2026, 2, 1) + seq),
    ...overrides,
  };
}
