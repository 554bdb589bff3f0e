// Daily or monthly partitions, and which indexes? The same batches (1000 rows, unnest + ON CONFLICT
// DO NOTHING, the writers' insert) into copies of ai_usage_log's columns: unpartitioned with the
// design note's indexes (as before migration 000003), 90 daily and 3 monthly partitions with the
// indexes kept, and daily partitions with the note's indexes too; then the audit look-up that
// cannot prune (one call's attempts, by call_id) and a time-range count that can. Scratch schema,
// dropped afterwards.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';

const COLS = `id uuid NOT NULL, call_id uuid NOT NULL, session_id uuid, event_id uuid, provider_type varchar(20) NOT NULL, provider_name varchar(50) NOT NULL,
  latency_ms int NOT NULL, success boolean NOT NULL, estimated_cost_usd numeric(12,6), created_at timestamptz NOT NULL`;

// The design note's indexes (provider_type, provider_name, created_at, success) plus session, event and call.
const NOTE_INDEXES = ['(provider_type)', '(provider_name)', '(created_at)', '(success)', '(session_id)', '(event_id)', '(call_id)'];
// What migration 000003 keeps.
const KEPT_INDEXES = ['(call_id, created_at)', '(session_id)', '(event_id)', 'USING brin (created_at)'];

export interface PartitionChoiceRow { layout: string; partitions: number; indexes: string; insertRowsPerSecond: number; callLookupMs: number; dayCountMs: number }

export async function measurePartitionChoice(url: string): Promise<PartitionChoiceRow[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  const schema = `kt_bench_parts_${randomBytes(3).toString('hex')}`;
  const day0 = Date.UTC(2026, 0, 1);
  const out: PartitionChoiceRow[] = [];
  try {
    await pool.query(`CREATE SCHEMA "${schema}"`);
    const layouts: [string, 'none' | 'daily' | 'monthly', number, 'note' | 'kept'][] = [
      ['unpartitioned_note', 'none', 0, 'note'],
      ['daily_kept', 'daily', 90, 'kept'],
      ['monthly_kept', 'monthly', 3, 'kept'],
      ['daily_note', 'daily', 90, 'note'],
    ];
    for (const [name, kind, parts, indexes] of layouts) {
      const t = `"${schema}".${name}`;
      await pool.query(`CREATE TABLE ${t} (${COLS}, PRIMARY KEY (id, created_at)) ${kind === 'none' ? '' : 'PARTITION BY RANGE (created_at)'}`);
      for (let p = 0; p < parts; p++) {
        const [from, to] = kind === 'daily' ? [new Date(day0 + p * 86_400_000), new Date(day0 + (p + 1) * 86_400_000)] : [new Date(Date.UTC(2026, p, 1)), new Date(Date.UTC(2026, p + 1, 1))];
        await pool.query(`CREATE TABLE "${schema}".${name}_${p} PARTITION OF ${t} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
      }
      for (const ix of indexes === 'note' ? NOTE_INDEXES : KEPT_INDEXES) await pool.query(`CREATE INDEX ON ${t} ${ix}`);
      // 600,000 rows spread over the 90 days, as 600 batches of 1000 (in time order, as writers send them).
      const sql = `INSERT INTO ${t} SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::int[], $8::bool[], $9::numeric[], $10::timestamptz[]) ON CONFLICT DO NOTHING`;
      let ms = 0;
      let probe = '';
      for (let b = 0; b < 600; b++) {
        const cols: unknown[][] = Array.from({ length: 10 }, () => []);
        for (let i = 0; i < 1000; i++) {
          const call = randomUUID();
          if (b === 300 && i === 0) probe = call;
          [randomUUID(), call, randomUUID(), randomUUID(), ['stt', 'tts', 'eval'][i % 3], 'gemini', 100 + i, i % 20 !== 0, '0.000100', new Date(day0 + ((b * 1000 + i) / 600_000) * 90 * 86_400_000).toISOString()].forEach((v, k) => cols[k]!.push(v));
        }
        const t0 = performance.now();
        await pool.query(sql, cols);
        ms += performance.now() - t0;
      }
      await pool.query(`ANALYZE ${t}`);
      const time = async (q: string, params: unknown[]) => {
        const runs: number[] = [];
        for (let i = 0; i < 7; i++) {
          const t0 = performance.now();
          await pool.query(q, params);
          runs.push(performance.now() - t0);
        }
        return runs.sort((a, b) => a - b)[3]!;
      };
      out.push({
        layout: kind === 'none' ? 'one table' : `${kind} partitions`,
        partitions: parts,
        indexes: indexes === 'note' ? `design note's (${NOTE_INDEXES.length} + key)` : `kept (${KEPT_INDEXES.length} + key)`,
        insertRowsPerSecond: Math.round(600_000 / (ms / 1000)),
        callLookupMs: await time(`SELECT * FROM ${t} WHERE call_id = $1`, [probe]),
        dayCountMs: await time(`SELECT count(*) FROM ${t} WHERE created_at >= $1 AND created_at < $2`, [new Date(day0 + 45 * 86_400_000).toISOString(), new Date(day0 + 46 * 86_400_000).toISOString()]),
      });
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL');
  console.table(await measurePartitionChoice(url));
}
