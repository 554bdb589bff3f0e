// How long migration 000003 takes on an existing install, and what it locks: an unpartitioned
// schema (migrations 000001 and 000002) with N usage rows over 30 days (and N/3 session events)
// generated server-side, then migrate(). The schema is dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, MIGRATIONS_TABLE } from '../src/migrate.js';
import { migrationChecksum, migrations } from '../src/migrations.js';

export interface ConversionResult {
  usageRows: number;
  events: number;
  generateSeconds: number;
  migrateSeconds: number;
  tableMbBefore: number;
}

/** The old schema's rows: 3 capabilities, 6 providers, 5% failures, calls of 1-2 attempts, over `days` days. */
export async function fillOldSchema(pool: pg.Pool, schema: string, rows: number, days: number, offset = 0): Promise<void> {
  const chunk = 500_000;
  for (let from = offset; from < offset + rows; from += chunk) {
    const to = Math.min(from + chunk, offset + rows);
    await pool.query(
      `INSERT INTO "${schema}".ai_usage_log (id, call_id, attempt, session_id, provider_type, provider_name, model_id, tokens_in, tokens_out,
              audio_duration_ms, characters, latency_ms, success, error_code, estimated_cost_usd, price_version, created_at)
       SELECT gen_random_uuid(), md5('call' || (i / 2)::text)::uuid, 1 + i % 2, md5('session' || (i / 60)::text)::uuid,
              (ARRAY['stt','tts','eval'])[1 + i % 3], (ARRAY['google','google','gemini','whisper','vits','openai'])[1 + i % 6],
              (ARRAY['latest_short','ko-KR-Wavenet-A','gemini-2.5-flash','whisper-1','vits-ko','gpt-4.1-mini'])[1 + i % 6],
              CASE WHEN i % 3 = 2 THEN 300 + i % 200 END, CASE WHEN i % 3 = 2 THEN 80 + i % 50 END,
              CASE WHEN i % 3 = 0 THEN 2000 + i % 5000 END, CASE WHEN i % 3 = 1 THEN 20 + i % 100 END,
              (50 + 1500 * random() ^ 3)::int, i % 20 <> 0, CASE WHEN i % 20 = 0 THEN (ARRAY['timeout','unavailable','rate_limited'])[1 + i % 3] END,
              round((i % 1000) * 0.000001 + 0.000010, 6), 'bench',
              now() - make_interval(secs => (i::float8 / ${offset + rows}) * ${days} * 86400)
         FROM generate_series($1::int, $2::int - 1) AS i`,
      [from, to],
    );
  }
}

export async function fillOldEvents(pool: pg.Pool, schema: string, rows: number, days: number): Promise<void> {
  await pool.query(`INSERT INTO "${schema}".sessions (id) SELECT md5('session' || s::text)::uuid FROM generate_series(0, $1::int / 20) AS s ON CONFLICT DO NOTHING`, [rows]);
  await pool.query(
    `INSERT INTO "${schema}".session_events (session_id, event_type, user_input, score, pass_fail, primary_error_type, provider, model_id, latency_ms, created_at)
     SELECT md5('session' || (i / 20)::text)::uuid, CASE WHEN i % 3 = 0 THEN 'evaluation' ELSE 'user_input' END, 'answer ' || i,
            CASE WHEN i % 3 = 0 THEN i % 101 END, CASE WHEN i % 3 = 0 THEN i % 101 >= 60 END,
            CASE WHEN i % 3 = 0 THEN (ARRAY['grammar','vocabulary','pronunciation','formality', NULL])[1 + i % 5] END,
            'gemini', 'gemini-2.5-flash', 300 + i % 900, now() - make_interval(secs => (i::float8 / $1) * ${days} * 86400)
       FROM generate_series(0, $1::int - 1) AS i`,
    [rows],
  );
}

/** A schema as an install before partitioning left it: migrations 000001 and 000002 only. */
export async function createOldSchema(pool: pg.Pool, schema: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(`CREATE TABLE "${schema}".${MIGRATIONS_TABLE} (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    for (const m of migrations.slice(0, 2)) {
      await c.query(`SET search_path TO "${schema}"; ${m.sql}`);
      await c.query(`INSERT INTO "${schema}".${MIGRATIONS_TABLE} (id, checksum) VALUES ($1, $2)`, [m.id, migrationChecksum(m.sql)]);
    }
    await c.query('RESET search_path');
  } finally {
    c.release();
  }
}

export async function measureConversion(url: string, usageRows: number): Promise<ConversionResult> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const schema = `kt_bench_conv_${randomBytes(3).toString('hex')}`;
  try {
    await createOldSchema(pool, schema);
    const events = Math.round(usageRows / 3);
    let t = performance.now();
    await fillOldSchema(pool, schema, usageRows, 30);
    await fillOldEvents(pool, schema, events, 30);
    const generateSeconds = (performance.now() - t) / 1000;
    await pool.query(`ANALYZE "${schema}".ai_usage_log`);
    const { mb } = (await pool.query(`SELECT round(pg_total_relation_size('"${schema}".ai_usage_log') / 1048576.0) AS mb`)).rows[0] as { mb: string };
    t = performance.now();
    await migrate({ client: pool, schema });
    const migrateSeconds = (performance.now() - t) / 1000;
    return { usageRows, events, generateSeconds, migrateSeconds, tableMbBefore: Number(mb) };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL');
  const r = await measureConversion(url, Number(process.env.BENCH_ROWS ?? 3_000_000));
  console.log(JSON.stringify(r));
}
