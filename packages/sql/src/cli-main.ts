import { parseArgs } from 'node:util';
import { dumpSchema } from './dump-schema.js';
import { migrate, migrationStatus } from './migrate.js';
import { ensurePartitions, listPartitions, type PartitionedTable } from './partitions.js';
import { reconcile } from './reconcile.js';
import { applyRetention } from './retention.js';
import { SqlError } from './sql-error.js';

const USAGE = `Usage: korean-together-sql <command> [--database-url URL] [--schema NAME] [options]

Commands:
  migrate                  apply pending migrations (one transaction, advisory lock; safe to run concurrently),
                           then open partitions up to --days-ahead days ahead
  status                   list migrations as applied, pending or changed; exit code 1 when any is pending or changed
  dump                     print the canonical schema dump (compare with the package's schema.sql)
  partitions ensure        create the missing daily partitions from yesterday to --days-ahead days ahead
  partitions list          list the partitions of ai_usage_log and session_events with their UTC days
  retention --keep-days N  detach and drop the raw partitions entirely older than N days (today included in the N);
                           the rollups and the views keep their history. --dry-run lists them only
  reconcile                recompute the rollups of a window from the raw rows and list every difference;
                           exit code 1 when something differs. --repair rebuilds a window that differs

Options:
  --database-url URL   postgres:// connection string (default: $DATABASE_URL)
  --schema NAME        schema to install into (default: public)
  --days-ahead N       migrate, partitions ensure: days of partitions after today (default 7)
  --keep-days N        retention: UTC days of raw rows to keep
  --table NAME         retention: only ai_usage_log or only session_events (default both)
  --dry-run            retention: drop nothing
  --from DAY           reconcile: first UTC day, YYYY-MM-DD (default: --days before --to)
  --to DAY             reconcile: first UTC day after the window (default: tomorrow)
  --days N             reconcile: window length when --from is not given (default 2)
  --repair             reconcile: rebuild the window's rollups from the raw rows when they differ
  -h, --help           show this help
`;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        'days-ahead': { type: 'string' },
        'keep-days': { type: 'string' },
        table: { type: 'string' },
        'dry-run': { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        days: { type: 'string' },
        repair: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
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
  const label = command === 'partitions' && positionals[1] ? `partitions ${positionals[1]}` : command;
  try {
    if (command === 'migrate') {
      const r = await migrate({ ...options, ...(values['days-ahead'] !== undefined && { partitionDaysAhead: values['days-ahead'] as unknown as number }) });
      out(r.applied.length ? `applied to schema "${r.schema}": ${r.applied.join(', ')}\n` : `schema "${r.schema}" is up to date (${r.alreadyApplied.length} migrations applied)\n`);
      if (r.partitionsCreated) out(`created ${r.partitionsCreated} partitions\n`);
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
    if (command === 'partitions' && positionals[1] === 'ensure') {
      const r = await ensurePartitions({ ...options, ...(values['days-ahead'] !== undefined && { daysAhead: values['days-ahead'] as unknown as number }) });
      out(`schema "${r.schema}": days ${r.from} to ${r.to} (excluded) covered; ${r.created} partitions created\n`);
      return 0;
    }
    if (command === 'partitions' && positionals[1] === 'list') {
      for (const p of await listPartitions(options)) out(`${p.table.padEnd(15)} ${p.name.padEnd(32)} ${p.from} .. ${p.to}${p.detachPending ? '  (detach pending)' : ''}\n`);
      return 0;
    }
    if (command === 'retention') {
      if (values['keep-days'] === undefined) {
        err('korean-together-sql retention: --keep-days N is required\n');
        return 2;
      }
      const r = await applyRetention({
        ...options,
        keepDays: values['keep-days'] as unknown as number,
        ...(values.table !== undefined && { tables: [values.table as PartitionedTable] }),
        dryRun: values['dry-run'] === true,
      });
      const verb = r.dryRun ? 'would drop' : 'dropped';
      out(`schema "${r.schema}": raw rows before ${r.cutoff} go; ${verb} ${r.dropped.length} partitions${r.dropped.length ? `: ${r.dropped.map((p) => p.name).join(', ')}` : ''}\n`);
      if (r.skipped.length) out(`skipped (table lock not granted in time; run again): ${r.skipped.map((p) => p.name).join(', ')}\n`);
      return r.skipped.length ? 1 : 0;
    }
    if (command === 'reconcile') {
      const r = await reconcile({
        ...options,
        ...(values.from !== undefined && { from: values.from }),
        ...(values.to !== undefined && { to: values.to }),
        ...(values.days !== undefined && { days: values.days as unknown as number }),
        repair: values.repair === true,
      });
      out(`schema "${r.schema}": window ${r.rawFrom} to ${r.to} (excluded)${r.rawFrom > r.from ? `, raw rows before ${r.rawFrom} no longer kept` : ''}; ` +
          `${r.checked.usageRows} usage rows, ${r.checked.evaluationEvents} evaluation events, ${r.checked.rollupRows} rollup rows\n`);
      for (const d of r.differences.slice(0, 50)) out(`differs  ${d.table} ${JSON.stringify(d.key)} ${d.column}: rollup ${d.rollup ?? 'absent'}, raw ${d.raw ?? 'absent'}\n`);
      if (r.differences.length > 50) out(`... and ${r.differences.length - 50} more\n`);
      out(r.differences.length === 0 ? 'rollups match the raw rows\n' : r.repaired ? `rebuilt the window from the raw rows: ${r.ok ? 'now matches' : 'still differs'}\n` : `${r.differences.length} differences (rebuild with --repair)\n`);
      return r.ok ? 0 : 1;
    }
    err(`korean-together-sql: unknown command "${label}"\n\n${USAGE}`);
    return 2;
  } catch (e) {
    // Never echo the connection string: it may carry a password.
    const code = e instanceof SqlError ? ` [${e.code}]` : '';
    err(`korean-together-sql ${label} failed${code}: ${(e as Error).message}\n`);
    return 1;
  }
}
