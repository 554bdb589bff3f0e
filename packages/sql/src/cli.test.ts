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
});
