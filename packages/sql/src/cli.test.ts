import { describe, expect, it } from 'vitest';
import { testDatabase } from '../../../test-support/db.js';
import { main } from './cli-main.js';
import { migrations } from './migrations.js';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const code = await main(args, (s) => (out += s), (s) => (err += s));
    return { code, out, err };
  } finally {
    process.env = saved;
  }
}

describe('korean-together-sql CLI', () => {
  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    expect((await run([])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('korean-together-sql <command>');
  });

  it('requires a database URL and rejects unknown flags', async () => {
    const r = await run(['migrate'], { DATABASE_URL: undefined });
    expect(r.code).toBe(2);
    expect(r.err).toContain('--database-url');
    expect((await run(['migrate', '--bogus'])).code).toBe(2);
  });

  it('reports a bad schema name without echoing the connection string', async () => {
    const url = 'postgresql://app:s3cret-password@127.0.0.1:1/none';
    const r = await run(['migrate', '--database-url', url, '--schema', 'bad-name']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('[invalid_identifier]');
    expect(r.err).not.toContain('s3cret-password');
  });
});

describe.runIf(process.env.DATABASE_URL)('korean-together-sql CLI on the server', () => {
  it('migrate, status, migrate again, unknown command', async () => {
    const db = await testDatabase({ label: 'cli' });
    try {
      const url = db.connectionString!;
      const before = await run(['status', '--database-url', url, '--schema', db.schema]);
      expect(before.code).toBe(1);
      expect(before.out).toContain(`pending  ${migrations[0]!.id}`);

      const first = await run(['migrate', '--database-url', url, '--schema', db.schema]);
      expect(first.code).toBe(0);
      expect(first.out).toContain(`applied to schema "${db.schema}": ${migrations.map((m) => m.id).join(', ')}`);

      const status = await run(['status', '--schema', db.schema], { DATABASE_URL: url });
      expect(status.code).toBe(0);
      expect(status.out).toMatch(new RegExp(`^applied  ${migrations[0]!.id}  \\d{4}-`, 'm'));

      const again = await run(['migrate', '--database-url', url, '--schema', db.schema]);
      expect(again.out).toContain('is up to date');

      const dump = await run(['dump', '--database-url', url, '--schema', db.schema]);
      expect(dump.out).toContain('CREATE TABLE ai_usage_log');

      expect((await run(['frobnicate', '--database-url', url])).code).toBe(2);
    } finally {
      await db.close();
    }
  });

  it('partitions ensure and list, retention, reconcile', async () => {
    const db = await testDatabase({ label: 'cli_parts' });
    try {
      const url = db.connectionString!;
      const base = ['--database-url', url, '--schema', db.schema];
      // The migration opens yesterday to a week ahead; two more days are two partitions per table.
      expect((await run(['migrate', ...base, '--days-ahead', '2'])).code).toBe(0);
      const ensure = await run(['partitions', 'ensure', ...base, '--days-ahead', '9']);
      expect(ensure.code).toBe(0);
      expect(ensure.out).toMatch(/4 partitions created/);
      const list = await run(['partitions', 'list', ...base]);
      expect(list.out.trim().split('\n')).toHaveLength(2 * 11);
      expect(list.out).toMatch(/^ai_usage_log +ai_usage_log_p\d{8} +\d{4}-\d{2}-\d{2} \.\. \d{4}-\d{2}-\d{2}$/m);
      await db.query(`SELECT "${db.schema}".ai_partitions_ensure(ARRAY['2020-01-01'::date])`);
      const dry = await run(['retention', ...base, '--keep-days', '30', '--dry-run']);
      expect(dry).toMatchObject({ code: 0 });
      expect(dry.out).toContain('would drop 2 partitions: ai_usage_log_p20200101, session_events_p20200101');
      expect((await run(['retention', ...base, '--keep-days', '30', '--table', 'session_events'])).out).toContain('dropped 1 partitions: session_events_p20200101');
      expect((await run(['retention', ...base])).code).toBe(2);
      const ok = await run(['reconcile', ...base, '--days', '3']);
      expect(ok).toMatchObject({ code: 0 });
      expect(ok.out).toContain('rollups match the raw rows');
      await db.query(`INSERT INTO "${db.schema}".ai_usage_log (call_id, provider_type, provider_name, latency_ms, success) VALUES (gen_random_uuid(), 'stt', 'x', 1, true)`);
      const bad = await run(['reconcile', ...base]);
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/differs +ai_usage_(hourly|daily)/);
      const fixed = await run(['reconcile', ...base, '--repair']);
      expect(fixed.code).toBe(0);
      expect(fixed.out).toContain('now matches');
      expect((await run(['reconcile', ...base, '--from', 'soon'])).err).toContain('[invalid_option]');
    } finally {
      await db.close();
    }
  });
});
