import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hasServer } from '../../../test-support/db.js';
import { plainArrayLiteral, textArrayLiteral } from './array-literal.js';
import { batchRollup } from './batch-rollup.js';
import { insertParams } from './insert-statement.js';
import { normalizeUsage, type UsageRow } from './usage-row.js';

// Each literal is parsed by the server itself (and by PGlite), and must give back exactly the
// values: the sink's batches depend on it.
const backends: { name: string; query: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>; close: () => Promise<void> }[] = [];
const lite = new PGlite();
backends.push({ name: 'PGlite', query: async (sql, params) => (await lite.query<Record<string, unknown>>(sql, params)).rows, close: () => lite.close() });
if (hasServer()) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
  backends.push({ name: 'Postgres server', query: async (sql, params) => (await pool.query(sql, params)).rows, close: () => pool.end() });
}
afterAll(async () => {
  for (const b of backends) await b.close();
});

const awkward = ['', 'NULL', 'null', ' lead', 'trail ', 'a,b', '{x}', 'say "hi"', 'back\\slash', '\\"', 'tab\there', 'line\nbreak', '한국어 문장입니다', '😀', 'ends with \\'];

describe.each(backends.map((b) => [b.name, b] as const))('array literals on %s', (_name, db) => {
  it('give back every text value exactly, NULLs as NULL and the text "NULL" as text', async () => {
    const values = [...awkward, null, 'plain'];
    const rows = await db.query('SELECT v, v IS NULL AS missing FROM unnest($1::text[]) WITH ORDINALITY AS u (v, k) ORDER BY k', [textArrayLiteral(values)]);
    expect(rows.map((r) => r.v)).toEqual(values);
    expect(rows.map((r) => r.missing)).toEqual(values.map((v) => v === null));
  });

  it('give back numbers, booleans, UUIDs, timestamps and decimals in their columns', async () => {
    const at = new Date(Date.UTC(2026, 11, 1, 23, 59, 59, 999));
    const [row] = await db.query(
      'SELECT $1::int[] AS i, $2::bool[] AS b, $3::uuid[]::text[] AS u, $4::timestamptz[] AS t, $5::numeric[]::text[] AS n',
      [
        plainArrayLiteral([0, -1, 2147483647, null]),
        plainArrayLiteral([true, false, null]),
        plainArrayLiteral(['1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', null]),
        plainArrayLiteral([at.toISOString(), null]),
        plainArrayLiteral(['0.000125', '999999.999999', null]),
      ],
    );
    expect(row!.i).toEqual([0, -1, 2147483647, null]);
    expect(row!.b).toEqual([true, false, null]);
    expect(row!.u).toEqual(['1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', null]);
    expect((row!.t as (Date | null)[]).map((d) => (d === null ? null : new Date(d).getTime()))).toEqual([at.getTime(), null]);
    expect(row!.n).toEqual(['0.000125', '999999.999999', null]);
  });

  it("of a batch with awkward names parse whole, and so does the batch's rollup (a name cut inside an emoji, a lone surrogate)", async () => {
    const rows = [
      { providerName: `${'x'.repeat(49)}😀`, modelId: 'm\uD800', errorCode: 'a|b' },
      { providerName: 'a|b', modelId: 'c', errorCode: '{"}' },
      { providerName: 'a', modelId: 'b|c', errorCode: null },
    ].map((o, i) => {
      const n = normalizeUsage({ id: `00000000-0000-4000-8000-00000000000${i}`, callId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', providerType: 'eval', latencyMs: 5, success: o.errorCode === null, createdAt: Date.UTC(2026, 2, 1), ...o });
      if (!n.ok) throw new Error(n.reason);
      return n.row as UsageRow;
    });
    expect(rows[0]!.providerName).toBe('x'.repeat(49));
    expect(rows[0]!.modelId).toBe('m\uFFFD');
    const p = insertParams(rows);
    const [row] = await db.query('SELECT $1::text[] AS names, $2::text[] AS models, $3::text[] AS codes, jsonb_array_length($4::jsonb) AS groups', [p[6], p[7], p[14], batchRollup(rows)]);
    expect(row).toEqual({ names: rows.map((r) => r.providerName), models: rows.map((r) => r.modelId), codes: rows.map((r) => r.errorCode), groups: 3 });
  });

  it('of no values are empty arrays', async () => {
    const [row] = await db.query('SELECT cardinality($1::text[]) AS t, cardinality($2::int[]) AS i', [textArrayLiteral([]), plainArrayLiteral([])]);
    expect(row).toEqual({ t: 0, i: 0 });
  });
});
