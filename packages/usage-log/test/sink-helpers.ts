// Test-only helpers shared by this package's tests (not part of the package).
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '../../../test-support/db.js';
import type { BufferedSinkOptions } from '../src/sink-options.js';
import { createPgliteSink } from '../src/pglite-sink.js';
import { createPostgresSink, type PostgresSink } from '../src/postgres-sink.js';

/** The Postgres sink on the real server, the PGlite sink otherwise; same engine either way. */
export function sinkFor(db: TestDatabase, options: BufferedSinkOptions & { table?: string } = {}): PostgresSink {
  return db.kind === 'postgres'
    ? createPostgresSink({ connectionString: db.connectionString!, schema: db.schema, ...options })
    : createPgliteSink({ db: db.pglite!, schema: db.schema, ...options });
}

export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `kt-usage-${label}-`));
}

/** Every JSON line of every quarantine file under `spillDir`. */
export async function quarantined(spillDir: string): Promise<Record<string, unknown>[]> {
  const dir = join(spillDir, 'quarantine');
  const files = await readdir(dir).catch(() => [] as string[]);
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

/** Every spill segment file (path) under `spillDir`. */
export async function spillSegments(spillDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(spillDir).catch(() => [] as string[])) {
    if (!d.startsWith('w-')) continue;
    for (const f of await readdir(join(spillDir, d)).catch(() => [] as string[])) if (f.startsWith('seg-')) out.push(join(spillDir, d, f));
  }
  return out.sort();
}

export async function tableStats(db: TestDatabase, table = 'ai_usage_log'): Promise<{ n: number; distinct: number; cost: string | null }> {
  const [r] = await db.query<{ n: number; distinct: number; cost: string | null }>(
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct, sum(estimated_cost_usd)::text AS cost FROM "${db.schema}"."${table}"`,
  );
  return r!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until it holds; fails the test naming `what` after `limitMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

/** Ids of every valid row in every spill segment under `spillDir`, and how many lines did not parse. */
export async function onDisk(spillDir: string): Promise<{ ids: Set<string>; torn: number }> {
  const ids = new Set<string>();
  let torn = 0;
  for (const f of await spillSegments(spillDir)) {
    for (const line of (await readFile(f, 'utf8')).split('\n')) {
      if (!line) continue;
      try {
        ids.add((JSON.parse(line) as { id: string }).id);
      } catch {
        torn++;
      }
    }
  }
  return { ids, torn };
}
