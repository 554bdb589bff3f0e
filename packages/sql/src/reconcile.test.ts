import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { insertEvent, insertUsage } from '../test/writers.js';
import { migrate } from './migrate.js';
import { reconcile } from './reconcile.js';

describe('reconcile', () => {
  let db: TestDatabase;
  let s: string;
  const window = { from: '2026-08-01', to: '2026-08-03' };
  beforeAll(async () => {
    db = await testDatabase({ label: 'reconcile' });
    s = `"${db.schema}"`;
    await migrate({ client: db.client, schema: db.schema });
    const session = randomUUID();
    await db.query(`INSERT INTO ${s}.sessions (id) VALUES ($1)`, [session]);
    const call = randomUUID();
    await insertUsage(db, db.schema, [
      { callId: call, attempt: 1, providerType: 'eval', providerName: 'gemini', latencyMs: 900, success: false, errorCode: 'timeout', cost: '0', at: '2026-08-01T10:00:00Z' },
      { callId: call, attempt: 2, providerType: 'eval', providerName: 'openai', latencyMs: 400, tokensIn: 10, tokensOut: 3, cost: '0.000020', at: '2026-08-01T10:00:01Z' },
      { callId: randomUUID(), providerType: 'stt', providerName: 'google', latencyMs: 700, audioDurationMs: 3000, at: '2026-08-02T23:00:00Z' },
    ]);
    await insertEvent(db, db.schema, { sessionId: session, provider: 'gemini', modelId: 'm', score: 80, passFail: true, latencyMs: 900, at: '2026-08-01T10:00:02Z' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('finds nothing to report when the writers kept the rollups', async () => {
    const r = await reconcile({ client: db.client, schema: db.schema, ...window });
    expect(r).toMatchObject({ ok: true, repaired: false, differences: [], from: '2026-08-01', to: '2026-08-03', checked: { usageRows: 3, evaluationEvents: 1 } });
    expect(r.checked.rollupRows).toBeGreaterThan(0);
  });

  it('reports a changed value, a missing and an extra rollup row, and rows written around the writers', async () => {
    await db.query(`UPDATE ${s}.ai_usage_daily SET cost_usd = cost_usd + 1 WHERE day = '2026-08-01' AND provider_name = 'openai'`);
    await db.query(`DELETE FROM ${s}.evaluation_hourly WHERE hour = '2026-08-01T10:00:00Z'`);
    await db.query(`INSERT INTO ${s}.ai_usage_daily (day, provider_type, provider_name, attempts, successful_attempts, distinct_calls, calls, calls_succeeded, latency_ms_sum, latency_ms_min, latency_ms_max, latency_histogram)
                    VALUES ('2026-08-02', 'tts', 'ghost', 1, 1, 1, 1, 1, 1, 1, 1, '{1}')`);
    // A row inserted by plain SQL, not through ai_usage_log_insert: the rollups never saw it.
    await db.query(`INSERT INTO ${s}.ai_usage_log (call_id, provider_type, provider_name, latency_ms, success, created_at) VALUES (gen_random_uuid(), 'stt', 'google', 10, true, '2026-08-02T23:30:00Z')`);

    const r = await reconcile({ client: db.client, schema: db.schema, ...window });
    expect(r.ok).toBe(false);
    const found = (table: string, column: string) => r.differences.filter((d) => d.table === table && d.column === column);
    expect(found('ai_usage_daily', 'cost_usd')).toEqual([{ table: 'ai_usage_daily', key: { day: '2026-08-01', provider_type: 'eval', provider_name: 'openai' }, column: 'cost_usd', rollup: '1.000020', raw: '0.000020' }]);
    expect(found('evaluation_hourly', '*row*')).toEqual([
      { table: 'evaluation_hourly', key: { hour: '2026-08-01T10:00:00Z', provider: 'gemini', model_id: 'm', primary_error_type: null }, column: '*row*', rollup: null, raw: 'present' },
    ]);
    // The extra row, seen per provider name and again in the per-type call counts.
    expect(found('ai_usage_daily', '*row*').map((d) => [d.key.provider_type, d.key.provider_name ?? '(type)', d.rollup, d.raw])).toEqual([
      ['tts', 'ghost', 'present', null],
      ['tts', '(type)', 'present', null],
    ]);
    expect(found('ai_usage_daily', 'attempts')).toEqual([
      { table: 'ai_usage_daily', key: { day: '2026-08-02', provider_type: 'stt', provider_name: 'google' }, column: 'attempts', rollup: '1', raw: '2' },
    ]);
  });

  it('repair rebuilds the window from the raw rows; the views then count the plain-SQL row too', async () => {
    const r = await reconcile({ client: db.client, schema: db.schema, ...window, repair: true });
    expect(r).toMatchObject({ repaired: true, ok: true });
    expect(r.differences.length).toBeGreaterThan(0);
    expect((await reconcile({ client: db.client, schema: db.schema, ...window })).differences).toEqual([]);
    const costs = await db.query(`SELECT provider_name, total_calls::int AS n, distinct_calls::int AS d FROM ${s}.v_daily_ai_costs WHERE date = '2026-08-02'`);
    expect(costs).toEqual([{ provider_name: 'google', n: 2, d: 2 }]);
  });

  it('checks its options', async () => {
    await expect(reconcile({ client: db.client, schema: db.schema, from: '2026-08-03', to: '2026-08-01' })).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(reconcile({ client: db.client, schema: db.schema, from: 'yesterday' })).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(reconcile({ client: db.client, schema: 'bad-name' })).rejects.toMatchObject({ code: 'invalid_identifier' });
    // Default window: yesterday and today.
    const r = await reconcile({ client: db.client, schema: db.schema, now: new Date('2026-08-02T05:00:00Z') });
    expect(r).toMatchObject({ from: '2026-08-01', to: '2026-08-03', ok: true });
  });
});
