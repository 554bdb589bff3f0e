import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hasServer } from '../../../test-support/db.js';
import { plainArrayLiteral, textArrayLiteral } from './array-literal.js';

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

  it('of no values are empty arrays', async () => {
    const [row] = await db.query('SELECT cardinality($1::text[]) AS t, cardinality($2::int[]) AS i', [textArrayLiteral([]), plainArrayLiteral([])]);
    expect(row).toEqual({ t: 0, i: 0 });
  });
});
