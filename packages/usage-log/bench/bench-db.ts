import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '@korean-together/sql';

/** A fresh migrated schema on the local server for one bench run; dropped by `drop()`. */
export async function benchSchema(url: string): Promise<{ schema: string; pool: pg.Pool; drop(): Promise<void> }> {
  const schema = `kt_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  await migrate({ connectionString: url, schema });
  return {
    schema,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

export async function serverReachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export async function countRows(pool: pg.Pool, schema: string, table = 'ai_usage_log'): Promise<{ n: number; distinct: number; cost: string | null }> {
  const r = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct, sum(estimated_cost_usd)::text AS cost FROM "${schema}"."${table}"`);
  return r.rows[0];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
