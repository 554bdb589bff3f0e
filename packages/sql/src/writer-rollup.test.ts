import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { usageArrays, usageInsertSql, type UsageInput } from '../test/writers.js';
import { migrate } from './migrate.js';
import { reconcile } from './reconcile.js';

// ai_usage_log_insert takes the batch's rollup as the writer computed it (p_rollup, migration
// 000006) only when it can prove it is what counting the rows would give; otherwise it counts.

/** One hourly group as a writer sends it: every row of `rows` in one group, each row its own call; `histogram` cumulative. */
function claimed(rows: readonly UsageInput[], histogram: number[], over: Record<string, unknown> = {}): string {
  const r = rows[0]!;
  const lat = rows.map((x) => x.latencyMs);
  const hour = new Date(Math.floor(Date.parse(r.at) / 3_600_000) * 3_600_000).toISOString();
  return JSON.stringify([
    {
      hour, provider_type: r.providerType, provider_name: r.providerName, model_id: null, success: true, error_code: null,
      attempts: rows.length, distinct_calls: rows.length, calls: rows.length, calls_succeeded: rows.length,
      tokens_in: rows.some((x) => x.tokensIn != null) ? rows.reduce((s, x) => s + (x.tokensIn ?? 0), 0) : null, tokens_out: null, audio_duration_ms: null, characters: null, cost_usd: null,
      latency_ms_sum: lat.reduce((a, b) => a + b, 0), latency_ms_min: Math.min(...lat), latency_ms_max: Math.max(...lat),
      latency_histogram: histogram,
      cache_hits: 0, tokens_cached_in: null, saved_cost_usd: null, ...over,
    },
  ]);
}

describe('the writer\'s own rollup of a batch', () => {
  let db: TestDatabase;
  let s: string;
  const insert = async (rows: UsageInput[], rollup: string) => {
    const sql = usageInsertSql(db.schema).replace(/\) AS n$/, ', $23::jsonb) AS n');
    const [r] = await db.query<{ n: number }>(sql, [...usageArrays(rows), rollup]);
    return Number(r!.n);
  };
  /** The histogram of the rows' latencies, as the schema computes it. */
  const histogram = async (rows: readonly UsageInput[]) =>
    (await db.query<{ h: string[] }>(`SELECT ${s}.ai_latency_histogram($1::int[]) AS h`, [rows.map((r) => r.latencyMs).sort((a, b) => a - b)]))[0]!.h.map(Number);
  beforeAll(async () => {
    db = await testDatabase({ label: 'writer_rollup' });
    s = `"${db.schema}"`;
    await migrate({ client: db.client, schema: db.schema });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is taken for a fully stored batch of new calls (a wrong one too: reconcile reports it, --repair fixes it)', async () => {
    const at = '2026-08-01T10:00:00Z';
    const rows: UsageInput[] = [1, 2, 3].map((i) => ({ callId: randomUUID(), providerType: 'eval', providerName: 'gemini', tokensIn: 100, latencyMs: 1_000_000 + i, at }));
    // Claims 999 input tokens: used as given, so the function did not count the rows itself.
    expect(await insert(rows, claimed(rows, await histogram(rows), { tokens_in: 999 }))).toBe(3);
    const [day] = await db.query<{ attempts: number; tokens_in: number }>(`SELECT attempts::int, tokens_in::int FROM ${s}.ai_usage_daily WHERE day = '2026-08-01'`);
    expect(day).toEqual({ attempts: 3, tokens_in: 999 });
    const report = await reconcile({ client: db.client, schema: db.schema, from: '2026-08-01', to: '2026-08-02', repair: true });
    expect(report.differences.map((d) => [d.table, d.column, d.rollup, d.raw])).toEqual([
      ['ai_usage_hourly', 'tokens_in', '999', '300'],
      ['ai_usage_daily', 'tokens_in', '999', '300'],
    ]);
    expect(report).toMatchObject({ repaired: true, ok: true });
  });

  it('is ignored when an earlier batch wrote a row of one of its calls, or when not every row was stored', async () => {
    const at = '2026-08-02T10:00:00Z';
    const call = randomUUID();
    const first: UsageInput = { id: randomUUID(), callId: call, attempt: 1, providerType: 'tts', providerName: 'google', latencyMs: 10, at };
    expect(await insert([first], claimed([first], await histogram([first])))).toBe(1);
    // The second attempt of the same call: as its writer sees it, a new call; the function knows better.
    const second: UsageInput = { callId: call, attempt: 2, providerType: 'tts', providerName: 'google', latencyMs: 12, at };
    expect(await insert([second], claimed([second], await histogram([second])))).toBe(1);
    // A replay of the first row beside a new one: one row stored, the claim (two) not used.
    const third: UsageInput = { callId: randomUUID(), providerType: 'tts', providerName: 'google', latencyMs: 14, at };
    expect(await insert([first, third], claimed([first, third], await histogram([first, third])))).toBe(1);
    const [day] = await db.query<{ attempts: number; calls: number; distinct: number }>(`SELECT attempts::int, calls::int, distinct_calls::int AS distinct FROM ${s}.ai_usage_daily WHERE day = '2026-08-02'`);
    expect(day).toEqual({ attempts: 3, calls: 2, distinct: 2 });
    expect((await reconcile({ client: db.client, schema: db.schema, from: '2026-08-02', to: '2026-08-03' })).differences).toEqual([]);
  });
});
