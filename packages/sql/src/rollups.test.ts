import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, uniqueName, type TestDatabase } from '../../../test-support/db.js';
import { insertEvent, insertUsage, usageArrays, usageInsertSql, uuidOf, type UsageInput } from '../test/writers.js';
import { migrate } from './migrate.js';
import { listPartitions } from './partitions.js';
import { reconcile } from './reconcile.js';

// The writers keep the rollups exactly: whatever the batching, a replayed or doubled row, a call
// whose attempts arrive in several batches or out of order, a batch the database refuses. The
// reference is the raw rows themselves (reconcile recomputes the rollups from them).

/** Calls of one day and the next: retries, fallbacks to another provider of the same type, a call across UTC midnight, a hedged call whose second attempt ended first. */
function scenario(prefix: string): UsageInput[][] {
  const rows: UsageInput[] = [];
  let n = 0;
  const id = () => uuidOf(prefix, ++n);
  for (let c = 0; c < 60; c++) {
    const call = uuidOf(`${prefix}c`, c);
    const base = Date.parse('2026-04-10T08:00:00Z') + c * 37_000;
    const at = (ms: number) => new Date(base + ms).toISOString();
    const kind = c % 6;
    if (kind === 0 && c % 12 === 6) {
      // Answered by the SDK's cache: no provider call, cost 0, the cost it saved.
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 1, cost: '0', cacheHit: true, savedCost: '0.000136', at: at(0) });
    } else if (kind === 0) {
      // Part of the prompt served from Gemini's prompt cache.
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', tokensIn: 120, tokensOut: 40, tokensCachedIn: c % 4 === 0 ? 64 : null, latencyMs: 900 + c, cost: '0.000136', at: at(0) });
    } else if (kind === 1) {
      // Retried twice on the same provider, then an answer.
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 3000, success: false, errorCode: 'timeout', cost: '0', at: at(0) });
      rows.push({ id: id(), callId: call, attempt: 2, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 2500, success: false, errorCode: 'unavailable', cost: '0', at: at(3500) });
      rows.push({ id: id(), callId: call, attempt: 3, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', tokensIn: 100, tokensOut: 30, latencyMs: 700, cost: '0.000105', at: at(7000) });
    } else if (kind === 2) {
      // Falls back from one provider to another of the same type.
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', latencyMs: 120, success: false, errorCode: 'rate_limited', cost: '0', at: at(0) });
      rows.push({ id: id(), callId: call, attempt: 2, providerType: 'eval', providerName: 'openai', modelId: 'gpt-4.1-mini', tokensIn: 200, tokensOut: 60, latencyMs: 1400, cost: '0.000176', at: at(200) });
    } else if (kind === 3) {
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'stt', providerName: 'google', modelId: 'latest_short', audioDurationMs: 4200, latencyMs: 640 + c, cost: null, at: at(0) });
    } else if (kind === 4) {
      // Hedged: the second attempt (another provider) ends first; the first is cancelled later.
      rows.push({ id: id(), callId: call, attempt: 2, providerType: 'tts', providerName: 'vits', characters: 80, latencyMs: 300, cost: '0.000001', at: at(2300) });
      if (c % 12 === 4) rows.push({ id: id(), callId: uuidOf(prefix, 5000 + c), attempt: 1, providerType: 'tts', providerName: 'google', characters: 80, latencyMs: 0, cost: '0', cacheHit: true, savedCost: '0.001280', at: at(2500) });
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'tts', providerName: 'google', characters: 80, latencyMs: 2400, success: false, errorCode: 'cancelled', cost: '0', at: at(2400) });
    } else {
      // Starts before UTC midnight, answered after it: the call counts on both days, as COUNT(DISTINCT) per day does.
      const night = Date.parse('2026-04-10T23:59:59Z') + c;
      rows.push({ id: id(), callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-pro', latencyMs: 5, success: false, errorCode: 'unavailable', cost: '0', at: new Date(night).toISOString() });
      rows.push({ id: id(), callId: call, attempt: 2, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-pro', tokensIn: 90, tokensOut: 20, latencyMs: 8, cost: '0.000300', at: new Date(night + 1500).toISOString() });
    }
  }
  // Batches of 7 rows in an order that spreads most calls' attempts over two batches.
  const order = rows.map((r, i) => ({ r, k: (i * 11) % rows.length })).sort((a, b) => a.k - b.k).map((x) => x.r);
  const batches: UsageInput[][] = [];
  for (let i = 0; i < order.length; i += 7) batches.push(order.slice(i, i + 7));
  return batches;
}

describe('rollups kept by the writers', () => {
  let db: TestDatabase;
  let s: string;
  beforeAll(async () => {
    db = await testDatabase({ label: 'rollups' });
    s = `"${db.schema}"`;
    await migrate({ client: db.client, schema: db.schema });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('equal the raw rows after replays, doubled writes, split and reordered calls and a refused batch', async () => {
    const batches = scenario('aaaa0001');
    const unique = batches.flat().length;
    // Second halves first: a call's later attempts reach the database before its first ones.
    const sendOrder = [...batches.slice(batches.length / 2), ...batches.slice(0, batches.length / 2)];
    let inserted = 0;
    for (const b of sendOrder) inserted += await insertUsage(db, db.schema, b);
    expect(inserted).toBe(unique);
    // Replays of whole batches (a spill replayed after a write that did commit) and doubled rows
    // inside one batch insert nothing and count nothing.
    expect(await insertUsage(db, db.schema, batches[3]!)).toBe(0);
    expect(await insertUsage(db, db.schema, [...batches[5]!, ...batches[5]!, ...batches[6]!.slice(0, 2)])).toBe(0);
    const mixed = [...batches[8]!.slice(0, 3), { id: randomUUID(), callId: randomUUID(), providerType: 'eval' as const, providerName: 'gemini', latencyMs: 10, at: '2026-04-10T12:00:00Z', cost: '0.000010' }];
    expect(await insertUsage(db, db.schema, [...mixed, mixed[3]!])).toBe(1);
    // A batch the database refuses (a negative latency breaks a CHECK) leaves neither raw rows nor rollups.
    const refused = [{ callId: randomUUID(), providerType: 'eval' as const, providerName: 'gemini', latencyMs: 5, at: '2026-04-10T12:00:00Z' }, { callId: randomUUID(), providerType: 'eval' as const, providerName: 'gemini', latencyMs: -1, at: '2026-04-10T12:00:00Z' }];
    await expect(insertUsage(db, db.schema, refused)).rejects.toMatchObject({ code: '23514' });

    const raw = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.ai_usage_log WHERE created_at >= '2026-04-10' AND created_at < '2026-04-12'`);
    expect(raw[0]!.n).toBe(unique + 1);
    const report = await reconcile({ client: db.client, schema: db.schema, from: '2026-04-10', to: '2026-04-12' });
    expect(report.differences).toEqual([]);
    expect(report).toMatchObject({ ok: true, checked: { usageRows: unique + 1 } });

    // And the numbers themselves. Per provider name: gemini had kinds 0, 1, 2 and 5 (10 calls each)
    // and the mixed batch's new call; openai the 10 fallbacks, which succeeded there.
    const day = await db.query<{ provider_name: string; distinct_calls: number; calls_succeeded: number }>(
      `SELECT provider_name, distinct_calls::int, calls_succeeded::int FROM ${s}.ai_usage_daily WHERE day = '2026-04-10' AND provider_type = 'eval' ORDER BY 1`,
    );
    expect(day).toEqual([
      { provider_name: 'gemini', distinct_calls: 41, calls_succeeded: 21 },
      { provider_name: 'openai', distinct_calls: 10, calls_succeeded: 10 },
    ]);
    // Per provider type a fallback counts once (on whichever provider's row was written first).
    const types = await db.query<{ provider_type: string; calls: number }>(
      `SELECT provider_type, sum(calls)::int AS calls FROM ${s}.ai_usage_daily WHERE day = '2026-04-10' GROUP BY 1 ORDER BY 1`,
    );
    expect(types).toEqual([
      { provider_type: 'eval', calls: 41 },
      { provider_type: 'stt', calls: 10 },
      { provider_type: 'tts', calls: 15 },
    ]);
    // Cache hits, misses, money saved and cached prompt tokens, as the view shows them: five eval
    // hits (0.000136 saved each) and five TTS hits (0.001280 each); 64 cached tokens on five calls.
    const cache = await db.query(
      `SELECT provider_type, provider_name, cache_hits::int AS hits, (total_calls - cache_hits = cache_misses) AS misses_add_up,
              total_saved_cost_usd::text AS saved, total_tokens_cached_in::int AS cached
         FROM ${s}.v_daily_ai_costs WHERE date = '2026-04-10' ORDER BY 1, 2`,
    );
    expect(cache).toEqual([
      { provider_type: 'eval', provider_name: 'gemini', hits: 5, misses_add_up: true, saved: '0.000680', cached: 320 },
      { provider_type: 'eval', provider_name: 'openai', hits: 0, misses_add_up: true, saved: null, cached: null },
      { provider_type: 'stt', provider_name: 'google', hits: 0, misses_add_up: true, saved: null, cached: null },
      { provider_type: 'tts', provider_name: 'google', hits: 5, misses_add_up: true, saved: '0.006400', cached: null },
      { provider_type: 'tts', provider_name: 'vits', hits: 0, misses_add_up: true, saved: null, cached: null },
    ]);
    // The calls that crossed midnight count on the next day too (their answer came then).
    const next = await db.query(`SELECT distinct_calls::int, calls::int, calls_succeeded::int FROM ${s}.ai_usage_daily WHERE day = '2026-04-11'`);
    expect(next).toEqual([{ distinct_calls: 10, calls: 10, calls_succeeded: 10 }]);
  });

  it('opens a partition for a day that has none instead of losing the row', async () => {
    const far = '2031-02-03T04:05:06Z';
    expect(await insertUsage(db, db.schema, [{ callId: randomUUID(), providerType: 'stt', providerName: 'whisper', latencyMs: 1, at: far }])).toBe(1);
    const parts = await listPartitions({ client: db.client, schema: db.schema });
    expect(parts.filter((p) => p.from === '2031-02-03').map((p) => p.table).sort()).toEqual(['ai_usage_log', 'session_events']);
    const r = await db.query<{ attempts: number }>(`SELECT attempts::int FROM ${s}.ai_usage_daily WHERE day = '2031-02-03'`);
    expect(r).toEqual([{ attempts: 1 }]);
  });

  it('counts evaluation events only, with NULL scores and latencies left out of their averages', async () => {
    const session = randomUUID();
    await db.query(`INSERT INTO ${s}.sessions (id) VALUES ($1)`, [session]);
    const at = '2026-05-05T10:00:00Z';
    await insertEvent(db, db.schema, { sessionId: session, provider: 'gemini', modelId: 'm', primaryErrorType: 'formality', score: 70, passFail: true, latencyMs: 100, at });
    await insertEvent(db, db.schema, { sessionId: session, provider: 'gemini', modelId: 'm', primaryErrorType: 'formality', score: null, passFail: null, latencyMs: null, at });
    await insertEvent(db, db.schema, { sessionId: session, eventType: 'user_input', at });
    // A second event with an id that exists (a retried write) is refused, whatever its time.
    const id = await insertEvent(db, db.schema, { sessionId: session, provider: 'gemini', modelId: 'm', score: 90, passFail: true, latencyMs: 100, at: '2026-05-06T10:00:00Z' });
    await expect(insertEvent(db, db.schema, { id, sessionId: session, provider: 'gemini', modelId: 'm', score: 90, passFail: true, latencyMs: 100 })).rejects.toMatchObject({ code: '23505' });
    // A refused event (no such session) changes nothing.
    await expect(insertEvent(db, db.schema, { sessionId: randomUUID(), provider: 'gemini', modelId: 'm', score: 10, at })).rejects.toMatchObject({ code: '23503' });
    const rows = await db.query(`SELECT avg_score::float8 AS avg_score, total_evaluations::int AS n, avg_latency_ms::float8 AS lat, pass_rate FROM ${s}.v_evaluation_stats WHERE date = '2026-05-05'`);
    expect(rows).toEqual([{ avg_score: 70, n: 2, lat: 100, pass_rate: 0.5 }]);
    expect((await reconcile({ client: db.client, schema: db.schema, from: '2026-05-05', to: '2026-05-06' })).ok).toBe(true);
  });

  it('reads p50, p95 and p99 from the histogram within 10% of percentile_cont over the raw rows', async () => {
    // Three shapes: a tight band, a long tail, and sub-10 ms values (exact).
    const shapes: Record<string, (i: number) => number> = {
      band: (i) => 400 + ((i * 7919) % 200),
      tail: (i) => Math.round(80 * Math.exp(((i * 104729) % 1000) / 170)),
      tiny: (i) => (i * 31) % 10,
    };
    for (const [name, f] of Object.entries(shapes)) {
      const rows: UsageInput[] = Array.from({ length: 1500 }, (_, i) => ({ callId: randomUUID(), providerType: 'tts', providerName: name, latencyMs: f(i), at: '2026-06-01T09:00:00Z' }));
      for (let i = 0; i < rows.length; i += 500) await insertUsage(db, db.schema, rows.slice(i, i + 500));
    }
    const got = await db.query<{ provider_name: string; p50_ms: number; p95_ms: number; p99_ms: number; e50: number; e95: number; e99: number }>(
      `SELECT l.provider_name, l.p50_ms, l.p95_ms, l.p99_ms, r.e50, r.e95, r.e99
         FROM ${s}.v_daily_ai_latency l
         JOIN (SELECT provider_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS e50,
                      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS e95, percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS e99
                 FROM ${s}.ai_usage_log WHERE created_at >= '2026-06-01' AND created_at < '2026-06-02' GROUP BY 1) r USING (provider_name)
        WHERE l.date = '2026-06-01' ORDER BY 1`,
    );
    expect(got.map((g) => g.provider_name)).toEqual(['band', 'tail', 'tiny']);
    for (const g of got) {
      for (const [est, exact] of [[g.p50_ms, g.e50], [g.p95_ms, g.e95], [g.p99_ms, g.e99]] as const) {
        expect(Math.abs(est - exact)).toBeLessThanOrEqual(g.provider_name === 'tiny' ? 1e-9 : 0.1 * exact);
      }
    }
  });
});

describe.runIf(process.env.DATABASE_URL)('rollups with concurrent writers', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabase({ label: 'rollups_race', maxConnections: 6 });
    await migrate({ client: db.client, schema: db.schema });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('counts each call once when its attempts are written by concurrent batches on other connections', async () => {
    // 4 connections, each sending batches that hold attempts of the same calls as the others' batches.
    const calls = Array.from({ length: 400 }, () => randomUUID());
    const rows: UsageInput[] = [];
    calls.forEach((call, c) => {
      for (let a = 1; a <= 4; a++) {
        rows.push({ callId: call, attempt: a, providerType: 'eval', providerName: a % 2 ? 'gemini' : 'openai', latencyMs: 100 * a, success: a === 4, errorCode: a === 4 ? null : 'timeout', cost: '0.000001', at: new Date(Date.parse('2026-07-01T10:00:00Z') + c * 10 + a).toISOString() });
      }
    });
    const lanes: UsageInput[][][] = [[], [], [], []];
    // Attempt a of every call goes to lane a-1, in batches of 50.
    for (let a = 0; a < 4; a++) {
      const mine = rows.filter((r) => r.attempt === a + 1);
      for (let i = 0; i < mine.length; i += 50) lanes[a]!.push(mine.slice(i, i + 50));
    }
    const pool = db.pool!;
    await Promise.all(
      lanes.map(async (batches) => {
        const client = await pool.connect();
        try {
          for (const b of batches) await client.query(usageInsertSql(db.schema), usageArrays(b));
        } finally {
          client.release();
        }
      }),
    );
    const report = await reconcile({ client: pool, schema: db.schema, from: '2026-07-01', to: '2026-07-02' });
    expect(report.differences).toEqual([]);
    const daily = await db.query<{ provider_name: string; distinct_calls: number; calls: number; calls_succeeded: number }>(
      `SELECT provider_name, distinct_calls::int, calls::int, calls_succeeded::int FROM "${db.schema}".ai_usage_daily WHERE day = '2026-07-01' ORDER BY 1`,
    );
    const total = daily.reduce((a, r) => ({ calls: a.calls + r.calls, ok: a.ok + r.calls_succeeded }), { calls: 0, ok: 0 });
    expect(daily.map((d) => [d.provider_name, d.distinct_calls])).toEqual([['gemini', 400], ['openai', 400]]);
    expect(total).toEqual({ calls: 400, ok: 400 });
  });

  it('a batch waits for an uncommitted batch of the same day and type before it counts calls', async () => {
    // Attempt 1 of a call is written in a transaction that has not committed yet; attempt 2 (another
    // provider of the same type) comes on another connection. Without the wait, attempt 2 would
    // not see attempt 1 and count the call a second time.
    const call = randomUUID();
    const at = (ms: number) => new Date(Date.parse('2026-07-03T10:00:00Z') + ms).toISOString();
    const a = await db.pool!.connect();
    const b = await db.pool!.connect();
    try {
      await a.query('BEGIN');
      await a.query(usageInsertSql(db.schema), usageArrays([{ callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', latencyMs: 10, success: false, at: at(0) }]));
      const { pid } = (await b.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
      const second = b.query(usageInsertSql(db.schema), usageArrays([{ callId: call, attempt: 2, providerType: 'eval', providerName: 'openai', latencyMs: 20, at: at(50) }]));
      // Wait (by state, not time) until the second batch is blocked on the lock the first one holds.
      for (;;) {
        const w = await db.query<{ wait: string | null }>(`SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1`, [pid]);
        if (w[0]?.wait === 'Lock') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await a.query('COMMIT');
      await second;
    } finally {
      a.release();
      b.release();
    }
    const calls = await db.query<{ calls: number; distinct: number }>(
      `SELECT sum(calls)::int AS calls, sum(distinct_calls)::int AS distinct FROM "${db.schema}".ai_usage_daily WHERE day = '2026-07-03'`,
    );
    expect(calls).toEqual([{ calls: 1, distinct: 2 }]);
    expect((await reconcile({ client: db.pool!, schema: db.schema, from: '2026-07-03', to: '2026-07-04' })).differences).toEqual([]);
  });

  it('a role with only USAGE and EXECUTE writes rows and rollups but cannot read either', async () => {
    const role = uniqueName('writer');
    await db.query(`CREATE ROLE "${role}" LOGIN`);
    try {
      await db.query(`GRANT USAGE ON SCHEMA "${db.schema}" TO "${role}"`);
      await db.query(`REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "${db.schema}" FROM PUBLIC`);
      await db.query(`GRANT EXECUTE ON FUNCTION "${db.schema}".ai_usage_log_insert TO "${role}"`);
      const url = new URL(db.connectionString!);
      url.username = role;
      url.password = '';
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        const r = await c.query(usageInsertSql(db.schema), usageArrays([{ callId: randomUUID(), providerType: 'stt', providerName: 'lp', latencyMs: 3, at: '2026-07-02T00:00:00Z' }]));
        expect(r.rows[0].n).toBe(1);
        await expect(c.query(`SELECT * FROM "${db.schema}".ai_usage_daily`)).rejects.toMatchObject({ code: '42501' });
        await expect(c.query(`SELECT * FROM "${db.schema}".ai_usage_log`)).rejects.toMatchObject({ code: '42501' });
      } finally {
        await c.end();
      }
      const d = await db.query<{ attempts: number }>(`SELECT attempts::int FROM "${db.schema}".ai_usage_daily WHERE provider_name = 'lp'`);
      expect(d).toEqual([{ attempts: 1 }]);
    } finally {
      await db.query(`DROP OWNED BY "${role}"`);
      await db.query(`DROP ROLE "${role}"`);
    }
  });
});
