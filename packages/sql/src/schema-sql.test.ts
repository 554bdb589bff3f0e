import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testDatabase } from '../../../test-support/db.js';
import { dumpSchema } from './dump-schema.js';
import { migrate } from './migrate.js';
import { renderSchemaSql } from './schema-sql.js';

const pkg = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

describe('schema.sql and the embedded migrations', () => {
  it('schema.sql is current (regenerate with `pnpm --filter @korean-together/sql schema:dump`)', async () => {
    expect(readFileSync(pkg('schema.sql'), 'utf8')).toBe(await renderSchemaSql());
  });

  it('src/migrations.generated.ts matches migrations/*.sql', () => {
    // Exits non-zero with a message when stale.
    execFileSync(process.execPath, [pkg('scripts/embed-migrations.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('a migrated test schema dumps the same as schema.sql, whatever the schema name', async () => {
    const db = await testDatabase({ label: 'dump' });
    try {
      await migrate({ client: db.client, schema: db.schema });
      const dump = await dumpSchema({ client: db.client, schema: db.schema });
      const body = readFileSync(pkg('schema.sql'), 'utf8').split('\n').filter((l, i) => i > 3 || !l.startsWith('--') && l !== '').join('\n');
      expect(dump).not.toContain(db.schema);
      // Postgres 15 prints view columns qualified with the table name, 16+ does not: compare
      // view bodies by their columns instead of their text.
      const withoutViewBodies = (t: string) => t.replace(/(CREATE VIEW \w+ AS)\n[\s\S]*?;\n/g, '$1 ...;\n').trim();
      expect(withoutViewBodies(dump)).toBe(withoutViewBodies(body));
      const cols = await db.query<{ table_name: string; cols: string }>(
        `SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS cols
           FROM information_schema.columns WHERE table_schema = $1 AND table_name LIKE 'v\\_%' GROUP BY table_name ORDER BY table_name`,
        [db.schema],
      );
      expect(cols).toEqual([
        {
          table_name: 'v_daily_ai_costs',
          cols: 'date date, provider_type character varying, provider_name character varying, total_calls bigint, successful_calls bigint, avg_latency_ms numeric, total_tokens_in bigint, total_tokens_out bigint, total_cost_usd numeric, total_audio_duration_ms bigint, total_characters bigint, distinct_calls bigint, cache_hits bigint, cache_misses bigint, total_saved_cost_usd numeric, total_tokens_cached_in bigint',
        },
        {
          table_name: 'v_daily_ai_latency',
          cols: 'date date, provider_type character varying, provider_name character varying, attempts bigint, successful_attempts bigint, latency_ms_min integer, latency_ms_max integer, p50_ms double precision, p95_ms double precision, p99_ms double precision, latency_histogram ARRAY',
        },
        {
          table_name: 'v_evaluation_stats',
          cols: 'date date, provider character varying, model_id character varying, primary_error_type character varying, avg_score numeric, total_evaluations bigint, avg_latency_ms numeric, pass_rate double precision',
        },
      ]);
    } finally {
      await db.close();
    }
  });
});
