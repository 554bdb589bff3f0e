import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv, startEmulators, type Emulators } from '@korean-together/providers/emulators';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { startStack, type Stack } from './stack.js';

// The database behind a TCP proxy the test controls: refused (server down) and partitioned
// (open connections stop answering, nothing is reset). Needs a Postgres server: a partition is
// a network fault, which an in-process PGlite cannot have.

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TURN = { prompt: '자기소개를 하세요', text: '저는 학생입니다' };

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Every way the database's address could show: host, proxy port, the real port, the URL scheme. */
function expectNoAddress(text: string, proxy: TcpProxy, db: TestDatabase): void {
  const real = new URL(db.connectionString!);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain('localhost');
  expect(text).not.toContain(`:${proxy.port}`);
  expect(text).not.toContain(`:${real.port || 5432}`);
  expect(text).not.toMatch(/postgres(ql)?:\/\//);
}

describe.runIf(process.env.DATABASE_URL)('database refused (in process)', () => {
  let s: Stack;
  let proxy: TcpProxy;
  afterAll(async () => {
    await proxy?.restore();
    await s?.close();
    await proxy?.close();
  });

  it('a turn answers 503 unavailable in the JSON error shape, without the database address', async () => {
    proxy = TcpProxy.forUrl(process.env.DATABASE_URL!);
    await proxy.start();
    s = await startStack({ label: 'db_refused', databaseUrl: (db) => proxy.urlFor(db.connectionString!), databaseTimeouts: { connectTimeoutMs: 1_000, queryTimeoutMs: 1_500 } });
    expect((await s.post('/v1/turns', TURN)).status).toBe(200);
    await proxy.cut('refuse');
    for (const body of [TURN, { ...TURN, sessionId: crypto.randomUUID() }]) {
      const r = await s.post('/v1/turns', body);
      expect(r.status, JSON.stringify(r.json)).toBe(503);
      expect(r.json.error).toMatchObject({ code: 'unavailable', retryable: true });
      expect(r.json.error.message).toMatch(/^database unavailable/);
      expectNoAddress(JSON.stringify(r.json), proxy, s.db);
    }
    const stats = await s.get('/v1/stats/costs?days=1');
    expect(stats.status).toBe(503);
    expectNoAddress(JSON.stringify(stats.json), proxy, s.db);
    const ready = await s.get('/ready');
    expect(ready.status).toBe(503);
    expectNoAddress(JSON.stringify(ready.json), proxy, s.db);
  });
});

describe.runIf(process.env.DATABASE_URL)('database partitioned (the real entry point as a child process)', () => {
  let emu: Emulators;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let spillDir: string;
  const children: ReturnType<typeof spawn>[] = [];
  beforeAll(async () => {
    emu = await startEmulators();
    db = await testDatabase({ label: 'db_partition' });
    proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    spillDir = mkdtempSync(join(tmpdir(), 'kt-server-spill-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.close();
    await emu?.close();
    rmSync(spillDir, { recursive: true, force: true });
  });

  it('a turn on an open pool connection answers 503 within the query timeout, and SIGTERM exits within the shutdown timeout', async () => {
    const QUERY_TIMEOUT_MS = 1_500;
    const SHUTDOWN_TIMEOUT_MS = 3_000;
    const port = await freePort();
    let out = '';
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: proxy.urlFor(db.connectionString!),
        DB_SCHEMA: db.schema,
        USAGE_SPILL_DIR: spillDir,
        DB_CONNECT_TIMEOUT_MS: '1000',
        DB_STATEMENT_TIMEOUT_MS: '1000',
        DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        SHUTDOWN_DEADLINE_MS: '1000',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        PORT: String(port),
        HOST: '127.0.0.1',
        AI_BACKEND: 'emulators',
        ...emulatorEnv(emu),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => out.includes('Server listening') || child.exitCode !== null, 60_000, 'the server to listen');
    const base = `http://127.0.0.1:${port}`;
    const turn = () =>
      fetch(`${base}/v1/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(TURN), signal: AbortSignal.timeout(20_000) });

    // Warm the pool: its connections are open when the partition starts.
    expect((await turn()).status).toBe(200);
    await proxy.cut('partition');

    const t0 = Date.now();
    const r = await turn();
    const waited = Date.now() - t0;
    expect(r.status).toBe(503);
    const body = await r.json();
    expect(body.error).toMatchObject({ code: 'unavailable', retryable: true });
    expectNoAddress(JSON.stringify(body), proxy, db);
    // One query timeout (plus start-up slack on a loaded machine), not the client's patience.
    expect(waited).toBeLessThan(QUERY_TIMEOUT_MS + 3_000);

    const t1 = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exit, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 15_000))]);
    expect(code, out.slice(-2000)).not.toBe('alive');
    expect(Date.now() - t1).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    expect([0, 1]).toContain(code);
    await proxy.restore();
  }, 90_000);
});
