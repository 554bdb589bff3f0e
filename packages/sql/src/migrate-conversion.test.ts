import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { migrate, MIGRATIONS_TABLE } from './migrate.js';
import { migrationChecksum, migrations } from './migrations.js';
import { listPartitions } from './partitions.js';
import { reconcile } from './reconcile.js';

// An install from before partitioning (migrations 000001 and 000002, rows written by plain
// INSERTs, as the old sink did) is converted by 000003 without losing a row, and the views answer
// exactly what they answered before.

async function execScript(db: TestDatabase, sql: string): Promise<void> {
  if (db.pglite) await db.pglite.exec(sql);
  else await db.pool!.query(sql);
}

describe('migration 000003 on an existing install', () => {
  let db: TestDatabase;
  let s: string;
  const costsSql = () =>
    `SELECT date::text, provider_type, provider_name, total_calls::int, successful_calls::int, avg_latency_ms::text, total_tokens_in::text, total_tokens_out::text,
            total_cost_usd::text, total_audio_duration_ms::text, total_characters::text, distinct_calls::int
       FROM ${s}.v_daily_ai_costs ORDER BY 1, 2, 3`;
  const evalsSql = () =>
    `SELECT date::text, provider, model_id, primary_error_type, avg_score::text, total_evaluations::int, avg_latency_ms::text, pass_rate
       FROM ${s}.v_evaluation_stats ORDER BY 1, 2, 3, 4`;
  const fingerprint = async () =>
    db.query<{ n: number; ids: string; cost: string | null; ev: number; evids: string }>(
      `SELECT (SELECT count(*)::int FROM ${s}.ai_usage_log) AS n,
              (SELECT md5(string_agg(id::text || created_at::text || coalesce(estimated_cost_usd::text, '-'), ',' ORDER BY id)) FROM ${s}.ai_usage_log) AS ids,
              (SELECT sum(estimated_cost_usd)::text FROM ${s}.ai_usage_log) AS cost,
              (SELECT count(*)::int FROM ${s}.session_events) AS ev,
              (SELECT md5(string_agg(id::text || coalesce(user_input, '-') || coalesce(score::text, '-'), ',' ORDER BY id)) FROM ${s}.session_events) AS evids`,
    );
  let before: { costs: unknown[]; evals: unknown[]; print: unknown[] };

  beforeAll(async () => {
    db = await testDatabase({ label: 'convert' });
    s = `"${db.schema}"`;
    // The state an older version of this package left: 000001 and 000002 applied, by the same rules as migrate().
    await execScript(db, `SET search_path TO ${s}`);
    await execScript(db, `CREATE TABLE ${s}.${MIGRATIONS_TABLE} (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    for (const m of migrations.slice(0, 2)) {
      await execScript(db, `SET search_path TO ${s}; ${m.sql}`);
      await db.query(`INSERT INTO ${s}.${MIGRATIONS_TABLE} (id, checksum) VALUES ($1, $2)`, [m.id, migrationChecksum(m.sql)]);
    }
    await execScript(db, 'RESET search_path');
    const session = randomUUID();
    await db.query(`INSERT INTO ${s}.sessions (id) VALUES ($1)`, [session]);
    // Rows a year back (monthly partitions), last week, and today; a call across UTC midnight; unknown costs.
    const stamps = ['2025-01-15T10:00:00Z', '2025-01-31T23:59:59.5Z', '2025-02-01T00:00:00.2Z', new Date(Date.now() - 6 * 86_400_000).toISOString(), new Date().toISOString()];
    let i = 0;
    for (const at of stamps) {
      for (let k = 0; k < 40; k++, i++) {
        const call = k % 10 === 0 ? '99999999-0000-4000-8000-000000000001' : randomUUID();
        await db.query(
          `INSERT INTO ${s}.ai_usage_log (call_id, attempt, provider_type, provider_name, model_id, tokens_in, tokens_out, audio_duration_ms, characters, latency_ms, success, error_code, estimated_cost_usd, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::timestamptz + ($15 || ' ms')::interval)`,
          [call, 1 + (k % 3), ['stt', 'tts', 'eval'][k % 3], ['google', 'vits', 'gemini', 'openai'][k % 4], k % 5 ? 'm' : null, k % 3 === 2 ? 100 + k : null, k % 3 === 2 ? 7 : null,
            k % 3 === 0 ? 3000 : null, k % 3 === 1 ? 90 : null, 50 + ((k * 37) % 900), k % 7 !== 0, k % 7 === 0 ? 'timeout' : null, k % 6 === 0 ? null : '0.000123', at, k],
        );
        await db.query(
          `INSERT INTO ${s}.session_events (session_id, event_type, user_input, score, pass_fail, primary_error_type, provider, model_id, latency_ms, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'gemini', 'gemini-2.5-flash', $7, $8::timestamptz + ($9 || ' ms')::interval)`,
          [session, k % 4 ? 'evaluation' : 'user_input', `answer ${i}`, k % 4 ? (k * 13) % 101 : null, k % 4 ? k % 2 === 0 : null, k % 3 ? 'grammar' : null, k % 5 ? 100 + k : null, at, k],
        );
      }
    }
    before = { costs: await db.query(costsSql()), evals: await db.query(evalsSql()), print: await fingerprint() };
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps every row, partitions the tables, and the views answer as before', async () => {
    const r = await migrate({ client: db.client, schema: db.schema });
    expect(r.applied).toEqual(migrations.slice(2).map((m) => m.id));
    expect(await fingerprint()).toEqual(before.print);
    expect(await db.query(costsSql())).toEqual(before.costs);
    expect(await db.query(evalsSql())).toEqual(before.evals);
    const kinds = await db.query<{ relname: string; relkind: string }>(
      `SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname IN ('ai_usage_log', 'session_events', 'ai_usage_log_unpartitioned') ORDER BY 1`,
      [db.schema],
    );
    expect(kinds).toEqual([{ relname: 'ai_usage_log', relkind: 'p' }, { relname: 'session_events', relkind: 'p' }]);
    // History before last month went into monthly partitions, newer days into daily ones.
    const parts = await listPartitions({ client: db.client, schema: db.schema });
    expect(parts.filter((p) => p.table === 'ai_usage_log' && p.from < '2025-03-01').map((p) => `${p.name} ${p.from} ${p.to}`)).toEqual([
      'ai_usage_log_p202501 2025-01-01 2025-02-01',
      'ai_usage_log_p202502 2025-02-01 2025-03-01',
    ]);
    const rec = await reconcile({ client: db.client, schema: db.schema, from: '2025-01-01', to: new Date(Date.now() + 86_400_000) });
    expect(rec.differences).toEqual([]);
    expect(rec.checked.usageRows).toBe(200);
  });
});
