import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { insertEvent, insertUsage, type UsageInput } from '../test/writers.js';
import { migrate } from './migrate.js';

// Known rows in (through the writers), exact aggregates out of the views over the rollups. Timestamps sit on both sides of UTC midnight and the
// reading connection uses Asia/Seoul (UTC+9), so a view that grouped by the session's local
// day instead of the UTC day would put rows on the wrong date.
describe('analysis views', () => {
  let db: TestDatabase;
  let s: string;
  // Reads on one connection whose TimeZone is Asia/Seoul.
  let read: <T>(sql: string) => Promise<T[]>;
  let release: () => Promise<void>;

  beforeAll(async () => {
    db = await testDatabase({ label: 'views' });
    s = `"${db.schema}"`;
    await migrate({ client: db.client, schema: db.schema });
    const session = '11111111-1111-4111-8111-111111111111';
    await db.query(`INSERT INTO ${s}.sessions (id) VALUES ($1)`, [session]);
    // Through the writers (session_event_insert, ai_usage_log_insert), which keep the rollups the views read.
    const ev = (at: string, type: string, provider: string | null, model: string | null, err: string | null, score: number | null, pass: boolean | null, latency: number | null) =>
      insertEvent(db, db.schema, { sessionId: session, eventType: type, provider, modelId: model, primaryErrorType: err, score, passFail: pass, latencyMs: latency, at });
    await ev('2026-03-01T00:10:00Z', 'evaluation', 'gemini', 'gemini-2.5-flash', 'grammar', 80, true, 100);
    await ev('2026-03-01T12:00:00Z', 'evaluation', 'gemini', 'gemini-2.5-flash', 'grammar', 60, false, 200);
    await ev('2026-03-01T23:30:00Z', 'evaluation', 'gemini', 'gemini-2.5-flash', 'grammar', 91, true, 300);
    await ev('2026-03-02T00:30:00Z', 'evaluation', 'gemini', 'gemini-2.5-flash', 'grammar', 50, null, 400);
    await ev('2026-03-01T05:00:00Z', 'evaluation', 'gemini', 'gemini-2.5-flash', null, 100, true, 50);
    await ev('2026-03-01T06:00:00Z', 'user_input', null, null, null, null, null, null);

    const usage = (at: string, call: string, type: 'stt' | 'tts' | 'eval', name: string, o: { tin?: number; tout?: number; audio?: number; chars?: number; cost?: string | null; ok?: boolean; lat: number }): UsageInput => ({
      callId: call, providerType: type, providerName: name, tokensIn: o.tin ?? null, tokensOut: o.tout ?? null, audioDurationMs: o.audio ?? null,
      characters: o.chars ?? null, latencyMs: o.lat, success: o.ok ?? true, cost: o.cost ?? null, at,
    });
    const c1 = 'aaaaaaaa-0000-4000-8000-000000000001';
    const c2 = 'aaaaaaaa-0000-4000-8000-000000000002';
    const c3 = 'aaaaaaaa-0000-4000-8000-000000000003';
    const c4 = 'aaaaaaaa-0000-4000-8000-000000000004';
    // Two batches, as a sink would send them: c1's retry lands in the second one.
    await insertUsage(db, db.schema, [
      usage('2026-03-01T00:00:00Z', c1, 'eval', 'gemini', { ok: false, lat: 50, cost: '0' }),
      usage('2026-03-01T23:59:59.999Z', c2, 'eval', 'gemini', { tin: 10, tout: 5, lat: 30, cost: '0.000001' }),
      usage('2026-03-01T10:00:00Z', c3, 'stt', 'google', { audio: 3000, lat: 700, cost: null }),
    ]);
    await insertUsage(db, db.schema, [
      usage('2026-03-01T00:00:01Z', c1, 'eval', 'gemini', { tin: 100, tout: 50, lat: 100, cost: '0.000125' }),
      usage('2026-03-02T00:00:00Z', c4, 'tts', 'google', { chars: 1000, audio: 5000, lat: 250, cost: '0.016' }),
      usage('2026-03-02T01:00:00Z', c4, 'eval', 'gemini', { tin: 1, tout: 1, lat: 10, cost: '0.000002' }),
    ]);

    if (db.kind === 'postgres') {
      const conn = await db.pool!.connect();
      await conn.query(`SET TimeZone = 'Asia/Seoul'`);
      read = async <T>(sql: string) => (await conn.query(sql)).rows as T[];
      release = async () => conn.release(true);
    } else {
      await db.pglite!.exec(`SET TimeZone = 'Asia/Seoul'`);
      read = async <T>(sql: string) => (await db.pglite!.query<T>(sql)).rows;
      release = async () => {};
    }
  });
  afterAll(async () => {
    await release?.();
    await db?.close();
  });

  it('v_evaluation_stats groups evaluation events by UTC day, provider, model and error type', async () => {
    const rows = await read(
      `SELECT date::text AS date, provider, model_id, primary_error_type, avg_score::text AS avg_score, total_evaluations::int AS total,
              avg_latency_ms::float8 AS avg_latency_ms, pass_rate
         FROM ${s}.v_evaluation_stats ORDER BY date, primary_error_type NULLS LAST`,
    );
    expect(rows).toEqual([
      { date: '2026-03-01', provider: 'gemini', model_id: 'gemini-2.5-flash', primary_error_type: 'grammar', avg_score: '77.0000000000000000', total: 3, avg_latency_ms: 200, pass_rate: 2 / 3 },
      { date: '2026-03-01', provider: 'gemini', model_id: 'gemini-2.5-flash', primary_error_type: null, avg_score: '100.0000000000000000', total: 1, avg_latency_ms: 50, pass_rate: 1 },
      // pass_fail NULL counts as not passed, as in the design note.
      { date: '2026-03-02', provider: 'gemini', model_id: 'gemini-2.5-flash', primary_error_type: 'grammar', avg_score: '50.0000000000000000', total: 1, avg_latency_ms: 400, pass_rate: 0 },
    ]);
  });

  it('v_daily_ai_costs sums every attempt per UTC day exactly, newest day and dearest first', async () => {
    const rows = await read(
      `SELECT date::text AS date, provider_type, provider_name, total_calls::int AS calls, successful_calls::int AS ok,
              avg_latency_ms::float8 AS lat, total_tokens_in::int AS tin, total_tokens_out::int AS tout,
              total_cost_usd::text AS cost, total_audio_duration_ms::int AS audio, total_characters::int AS chars, distinct_calls::int AS distinct_calls
         FROM ${s}.v_daily_ai_costs`,
    );
    expect(rows).toEqual([
      { date: '2026-03-02', provider_type: 'tts', provider_name: 'google', calls: 1, ok: 1, lat: 250, tin: null, tout: null, cost: '0.016000', audio: 5000, chars: 1000, distinct_calls: 1 },
      { date: '2026-03-02', provider_type: 'eval', provider_name: 'gemini', calls: 1, ok: 1, lat: 10, tin: 1, tout: 1, cost: '0.000002', audio: null, chars: null, distinct_calls: 1 },
      { date: '2026-03-01', provider_type: 'eval', provider_name: 'gemini', calls: 3, ok: 2, lat: 60, tin: 110, tout: 55, cost: '0.000126', audio: null, chars: null, distinct_calls: 2 },
      // Unknown cost (NULL) sorts after every known one.
      { date: '2026-03-01', provider_type: 'stt', provider_name: 'google', calls: 1, ok: 1, lat: 700, tin: null, tout: null, cost: null, audio: 3000, chars: null, distinct_calls: 1 },
    ]);
  });

  it('keeps a usage row whose session and event do not exist (no foreign keys)', async () => {
    await insertUsage(db, db.schema, [{ callId: randomUUID(), sessionId: randomUUID(), providerType: 'eval', providerName: 'gemini', latencyMs: 1, at: new Date().toISOString() }]);
    const n = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.ai_usage_log WHERE session_id IS NOT NULL`);
    expect(n[0]!.n).toBe(1);
  });

  it('enforces the score range and the cost precision', async () => {
    await expect(
      db.query(`INSERT INTO ${s}.session_events (session_id, event_type, score) VALUES ('11111111-1111-4111-8111-111111111111', 'evaluation', 101)`),
    ).rejects.toMatchObject({ code: '23514' });
    await db.query(
      `INSERT INTO ${s}.ai_usage_log (id, call_id, provider_type, provider_name, latency_ms, success, estimated_cost_usd)
       VALUES ('bbbbbbbb-0000-4000-8000-000000000001', gen_random_uuid(), 'eval', 'x', 1, true, 123456.123456)`,
    );
    const r = await db.query<{ c: string }>(`SELECT estimated_cost_usd::text AS c FROM ${s}.ai_usage_log WHERE id = 'bbbbbbbb-0000-4000-8000-000000000001'`);
    expect(r[0]!.c).toBe('123456.123456');
  });
});
