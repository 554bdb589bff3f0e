import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '@korean-together/core';
import { applyRetention, migrate } from '@korean-together/sql';
import { createPgliteSink, createPostgresSink, ensureSession, writeSessionEvent } from '@korean-together/usage-log';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { cacheStats, callStats, dailyCosts, evaluationStats, latencyOverWindow, latencyPercentiles, type StatsDb } from './stats.js';

// The read models behind /v1/stats/* and the dashboard, on rows written the way the server
// writes them (the usage sink, writeSessionEvent): exact counts and costs, percentiles within the
// histogram's 10%, and answers that come from the rollups (they survive the raw rows' retention).

const DAY = 86_400_000;

describe('stats read models over the rollups', () => {
  let db: TestDatabase;
  let stats: StatsDb;
  const today = new Date(Math.floor(Date.now() / DAY) * DAY);
  const at = (dayOffset: number, ms: number) => new Date(today.getTime() + dayOffset * DAY + ms);
  let records: UsageRecord[];

  beforeAll(async () => {
    db = await testDatabase({ label: 'stats' });
    await migrate({ client: db.client, schema: db.schema });
    stats = { schema: db.schema, query: db.query.bind(db) as StatsDb['query'] };
    records = [];
    // Yesterday and today (from 01:00 UTC, so "today" is never tomorrow): eval calls with a retry
    // (gemini) and a fallback (openai), STT calls, unknown costs.
    for (const d of [-1, 0]) {
      for (let c = 0; c < 40; c++) {
        const callId = randomUUID();
        const base = 3_600_000 + c * 60_000;
        const rec = (attempt: number, o: Partial<UsageRecord>): UsageRecord => ({
          id: randomUUID(), callId, attempt, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 100, success: true,
          estimatedCostUsd: 0.000125, createdAt: at(d, base + attempt * 1000), ...o,
        });
        if (c % 4 === 0) {
          records.push(rec(1, { success: false, errorCode: 'timeout', latencyMs: 2000 + c, estimatedCostUsd: 0 }));
          records.push(rec(2, { providerName: 'openai', modelId: 'gpt-4.1-mini', latencyMs: 800 + c, tokensIn: 100, tokensOut: 20 }));
        } else if (c % 4 === 1) {
          records.push(rec(1, { success: false, errorCode: 'unavailable', latencyMs: 50, estimatedCostUsd: 0 }));
          records.push(rec(2, { latencyMs: 300 + 7 * c, tokensIn: 90, tokensOut: 30 }));
        } else {
          records.push(rec(1, { providerType: 'stt', providerName: 'google', modelId: 'latest_short', latencyMs: 400 + 13 * c, audioDurationMs: 2000 + c }));
        }
      }
    }
    const sink =
      db.kind === 'postgres'
        ? createPostgresSink({ connectionString: db.connectionString!, schema: db.schema, batchSize: 9 })
        : createPgliteSink({ db: db.pglite!, schema: db.schema, batchSize: 9 });
    for (const r of records) sink.write(r);
    await sink.close();
    const session = randomUUID();
    await ensureSession(db.client, { id: session }, { schema: db.schema });
    for (const [d, score, pass, err] of [[-1, 80, true, null], [-1, 40, false, 'grammar'], [0, 90, true, null], [0, 55, false, 'formality']] as const) {
      const evaluation = { score, passFail: pass, primaryErrorType: err, errors: [], suggestions: [], rationale: 'r', meta: { callId: randomUUID(), provider: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 700, costUsd: 0.0001, attempts: [] } };
      await writeSessionEvent(db.client, { sessionId: session, eventType: 'evaluation', evaluation: evaluation as never, createdAt: at(d, 7_200_000) }, { schema: db.schema });
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  const day = (d: number) => at(d, 0).toISOString().slice(0, 10);

  it('dailyCosts and callStats count attempts, distinct calls and answered calls exactly', async () => {
    const costs = await dailyCosts(stats, 2);
    expect(costs.map((r) => [r.date, r.providerType, r.providerName, r.totalCalls, r.successfulCalls, r.distinctCalls, r.totalCostUsd])).toEqual(
      [-1, 0].flatMap((d) => [
        [day(d), 'eval', 'gemini', 30, 10, 20, '0.001250'],
        [day(d), 'eval', 'openai', 10, 10, 10, '0.001250'],
        [day(d), 'stt', 'google', 20, 20, 20, '0.002500'],
      ]),
    );
    const calls = await callStats(stats, 2);
    // A fallback from gemini to openai is one eval call.
    expect(calls.map((r) => [r.date, r.providerType, r.calls, r.successfulCalls, r.attempts, r.successRate])).toEqual(
      [-1, 0].flatMap((d) => [
        [day(d), 'eval', 20, 20, 40, 1],
        [day(d), 'stt', 20, 20, 20, 1],
      ]),
    );
    expect((await dailyCosts(stats, 1)).every((r) => r.date === day(0))).toBe(true);
  });

  it('latency per day and over the window is within 10% of percentile_cont over the raw rows', async () => {
    const exact = await db.query<{ d: string | null; provider_name: string; p50: number; p95: number; p99: number; n: number; ok: number }>(
      `SELECT to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS d, provider_name, count(*)::int AS n, (count(*) FILTER (WHERE success))::int AS ok,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
         FROM "${db.schema}".ai_usage_log GROUP BY GROUPING SETS ((1, 2), (2)) ORDER BY 1 NULLS FIRST, 2`,
    );
    const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(0.1 * want);
    const perDay = await latencyPercentiles(stats, 2);
    expect(perDay).toHaveLength(6);
    for (const r of perDay) {
      const e = exact.find((x) => x.d === r.date && x.provider_name === r.providerName)!;
      expect([r.attempts, r.successfulAttempts]).toEqual([e.n, e.ok]);
      close(r.p50Ms, e.p50);
      close(r.p95Ms, e.p95);
      close(r.p99Ms, e.p99);
    }
    const window = await latencyOverWindow(stats, 2);
    expect(window.map((w) => w.providerName)).toEqual(['gemini', 'openai', 'google']);
    for (const w of window) {
      const e = exact.find((x) => x.d === null && x.provider_name === w.providerName)!;
      expect([w.attempts, w.successfulAttempts, w.successRate]).toEqual([e.n, e.ok, e.ok / e.n]);
      close(w.p50Ms, e.p50);
      close(w.p95Ms, e.p95);
      close(w.p99Ms, e.p99);
    }
  });

  it('evaluationStats reads the evaluation rollups', async () => {
    const rows = await evaluationStats(stats, 2);
    expect(rows.map((r) => [r.date, r.primaryErrorType, r.totalEvaluations, r.avgScore, r.passRate])).toEqual([
      [day(-1), null, 1, 80, 1],
      [day(-1), 'grammar', 1, 40, 0],
      [day(0), null, 1, 90, 1],
      [day(0), 'formality', 1, 55, 0],
    ]);
  });

  it('answers the same once retention has dropped the raw rows', async () => {
    const before = [await dailyCosts(stats, 2), await callStats(stats, 2), await latencyPercentiles(stats, 2), await latencyOverWindow(stats, 2), await evaluationStats(stats, 2)];
    const dropped = await applyRetention({ client: db.client, schema: db.schema, keepDays: 1, now: new Date(today.getTime() + 2 * DAY) });
    expect(dropped.dropped.length).toBeGreaterThanOrEqual(4);
    expect(await db.query(`SELECT 1 FROM "${db.schema}".ai_usage_log LIMIT 1`)).toEqual([]);
    expect([await dailyCosts(stats, 2), await callStats(stats, 2), await latencyPercentiles(stats, 2), await latencyOverWindow(stats, 2), await evaluationStats(stats, 2)]).toEqual(before);
  });
});

describe('cache stats over the rollups', () => {
  let db: TestDatabase;
  let stats: StatsDb;
  const today = new Date(Math.floor(Date.now() / DAY) * DAY);
  const at = (dayOffset: number, ms: number) => new Date(today.getTime() + dayOffset * DAY + ms);

  beforeAll(async () => {
    db = await testDatabase({ label: 'stats_cache' });
    await migrate({ client: db.client, schema: db.schema });
    stats = { schema: db.schema, query: db.query.bind(db) as StatsDb['query'] };
    // Yesterday 1 hit in 4 TTS attempts, today 3 in 4; each hit saved 0.000320; eval calls never hit, one had cached prompt tokens.
    const records: UsageRecord[] = [];
    for (const [d, hits] of [[-1, 1], [0, 3]] as const) {
      for (let i = 0; i < 4; i++) {
        const hit = i < hits;
        records.push({ id: randomUUID(), callId: randomUUID(), attempt: 1, providerType: 'tts', providerName: 'google-tts', characters: 20, latencyMs: hit ? 0 : 180, success: true, estimatedCostUsd: hit ? 0 : 0.00032, ...(hit && { cacheHit: true, savedCostUsd: 0.00032 }), createdAt: at(d, 3_600_000 + i * 1000) });
      }
      records.push({ id: randomUUID(), callId: randomUUID(), attempt: 1, providerType: 'eval', providerName: 'gemini', tokensIn: 1500, tokensCachedIn: 1024, latencyMs: 700, success: true, estimatedCostUsd: 0.0001, createdAt: at(d, 3_600_000) });
    }
    const sink = db.kind === 'postgres' ? createPostgresSink({ connectionString: db.connectionString!, schema: db.schema }) : createPgliteSink({ db: db.pglite!, schema: db.schema });
    for (const r of records) sink.write(r);
    await sink.close();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('cacheStats gives hits, misses, hit rate and money saved per day and capability; dailyCosts carries them per provider', async () => {
    const d = (o: number) => at(o, 0).toISOString().slice(0, 10);
    expect(await cacheStats(stats, 2)).toEqual([
      { date: d(-1), providerType: 'eval', hits: 0, misses: 1, hitRate: 0, savedCostUsd: '0.000000', costUsd: '0.000100' },
      { date: d(-1), providerType: 'tts', hits: 1, misses: 3, hitRate: 0.25, savedCostUsd: '0.000320', costUsd: '0.000960' },
      { date: d(0), providerType: 'eval', hits: 0, misses: 1, hitRate: 0, savedCostUsd: '0.000000', costUsd: '0.000100' },
      { date: d(0), providerType: 'tts', hits: 3, misses: 1, hitRate: 0.75, savedCostUsd: '0.000960', costUsd: '0.000320' },
    ]);
    const costs = await dailyCosts(stats, 1);
    expect(costs.map((r) => [r.providerType, r.cacheHits, r.cacheMisses, r.totalSavedCostUsd, r.totalTokensCachedIn])).toEqual([
      ['eval', 0, 1, null, 1024],
      ['tts', 3, 1, '0.000960', null],
    ]);
  });
});
