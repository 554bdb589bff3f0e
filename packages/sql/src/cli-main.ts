import { parseArgs } from 'node:util';
import { dumpSchema } from './dump-schema.js';
import { migrate, migrationStatus } from './migrate.js';
import { SqlError } from './sql-error.js';

const USAGE = `Usage: korean-together-sql <command> [--database-url URL] [--schema NAME]

Commands:
  migrate   apply pending migrations (one transaction, advisory lock; safe to run concurrently)
  status    list migrations as applied, pending or changed; exit code 1 when any is pending or changed
  dump      print the canonical schema dump (compare with the package's schema.sql)

Options:
  --database-url URL   postgres:// connection string (default: $DATABASE_URL)
  --schema NAME        schema to install into (default: public)
  -h, --help           show this help
`;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'database-url': { type: 'string' }, schema: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    (values.help ? out : err)(USAGE);
    return values.help ? 0 : 2;
  }
  const connectionString = values['database-url'] ?? process.env.DATABASE_URL;
  if (!connectionString) {
    err('korean-together-sql: --database-url (or DATABASE_URL) is required\n');
    return 2;
  }
  const options = { connectionString, ...(values.schema !== undefined && { schema: values.schema }) };
  try {
    if (command === 'migrate') {
      const r = await migrate(options);
      out(r.applied.length ? `applied to schema "${r.schema}": ${r.applied.join(', ')}\n` : `schema "${r.schema}" is up to date (${r.alreadyApplied.length} migrations applied)\n`);
      return 0;
    }
    if (command === 'status') {
      const s = await migrationStatus(options);
      for (const m of s.migrations) out(`${m.state.padEnd(8)} ${m.id}${m.appliedAt ? `  ${m.appliedAt.toISOString()}` : ''}\n`);
      for (const id of s.unknown) out(`unknown  ${id}  (applied by a newer version of @korean-together/sql)\n`);
      return s.migrations.every((m) => m.state === 'applied') ? 0 : 1;
    }
    if (command === 'dump') {
      out(await dumpSchema(options));
      return 0;
    }
    err(`korean-together-sql: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  } catch (e) {
    // Never echo the connection string: it may carry a password.
    const code = e instanceof SqlError ? ` [${e.code}]` : '';
    err(`korean-together-sql ${command} failed${code}: ${(e as Error).message}\n`);
    return 1;
  }
}
