import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { LATENCY_BUCKET_UPPERS_MS, latencyQuantile } from './latency-histogram.js';
import { migrate } from './migrate.js';

function histogram(latencies: number[]): number[] {
  return LATENCY_BUCKET_UPPERS_MS.map((u) => latencies.filter((l) => l <= u).length);
}

/** percentile_cont over the raw values, for reference. */
function percentileCont(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  return lo === pos ? v[lo]! : v[lo]! + (pos - lo) * (v[lo + 1]! - v[lo]!);
}

describe('latency histogram', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabase({ label: 'histogram' });
    await migrate({ client: db.client, schema: db.schema });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('has the buckets the database has, each at most 10% wider than its lower bound', async () => {
    const [r] = await db.query<{ u: number[] }>(`SELECT "${db.schema}".ai_latency_uppers() AS u`);
    expect(r!.u.map(Number)).toEqual([...LATENCY_BUCKET_UPPERS_MS]);
    for (let k = 1; k < LATENCY_BUCKET_UPPERS_MS.length - 1; k++) {
      const lower = LATENCY_BUCKET_UPPERS_MS[k - 1]! + 1;
      expect(LATENCY_BUCKET_UPPERS_MS[k]! - lower).toBeLessThanOrEqual(0.1 * lower);
    }
  });

  it('estimates like the database and within 10% of percentile_cont (exact below 10 ms)', async () => {
    const latencies = fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 700_000 })), { minLength: 1, maxLength: 300 });
    const samples = fc.sample(fc.tuple(latencies, fc.double({ min: 0, max: 1, noNaN: true })), { numRuns: 60, seed: 1313 });
    for (const [values, q] of samples) {
      const h = histogram(values);
      const min = Math.min(...values);
      const max = Math.max(...values);
      const ts = latencyQuantile(h, q, min, max)!;
      const [row] = await db.query<{ v: number }>(`SELECT "${db.schema}".ai_latency_quantile($1::bigint[], $2, $3, $4) AS v`, [h, q, min, max]);
      expect(ts).toBeCloseTo(Number(row!.v), 6);
      const exact = percentileCont(values, q);
      // Above 600,000 ms the estimate only lies between 600,000 ms and the maximum.
      if (exact < 600_000) expect(Math.abs(ts - exact)).toBeLessThanOrEqual(0.1 * exact + 1e-9);
      else expect(ts).toBeGreaterThanOrEqual(600_000 - 1e-9);
    }
  });

  it('is null for an empty histogram and clamps q', async () => {
    expect(latencyQuantile(LATENCY_BUCKET_UPPERS_MS.map(() => 0), 0.5)).toBeNull();
    const h = histogram([100, 200, 300]);
    expect(latencyQuantile(h, 2, 100, 300)).toBe(latencyQuantile(h, 1, 100, 300));
    const [row] = await db.query<{ v: number | null }>(`SELECT "${db.schema}".ai_latency_quantile($1::bigint[], 0.5) AS v`, [LATENCY_BUCKET_UPPERS_MS.map(() => 0)]);
    expect(row!.v).toBeNull();
  });
});
