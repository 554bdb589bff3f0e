import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Usage rows in the spill files under `dir` (every writer's directory, open segments included). */
function spilledRows(dir: string): { id: string; callId: string; sessionId: string | null; providerType: string; success: boolean }[] {
  const rows = [];
  for (const writer of readdirSync(dir).filter((d) => d.startsWith('w-'))) {
    for (const seg of readdirSync(join(dir, writer)).filter((f) => /^seg-.*\.jsonl(\.open)?$/.test(f))) {
      for (const line of readFileSync(join(dir, writer, seg), 'utf8').split('\n')) if (line.trim()) rows.push(JSON.parse(line));
    }
  }
  return rows;
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

  /** The real entry point through the proxy, with the given timeouts; resolves once it listens. */
  async function startMain(timeouts: Record<string, string>) {
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
        SHUTDOWN_DEADLINE_MS: '1000',
        ...timeouts,
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
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
    /** Sends SIGTERM; resolves with the exit code, or 'alive' when the process outlives `withinMs`. */
    const terminate = async (withinMs: number) => {
      child.kill('SIGTERM');
      return Promise.race([exit, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), withinMs))]);
    };
    return { base, post, terminate, output: () => out };
  }

  /**
   * Warms the pools, so their connections are open when the partition starts: a turn, then a
   * wait until the usage sink has committed its rows (it takes the database as up).
   */
  async function warmUp(m: Awaited<ReturnType<typeof startMain>>): Promise<void> {
    expect((await m.post('/v1/turns', TURN)).status).toBe(200);
    for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const sink = ((await (await fetch(`${m.base}/ready`)).json()) as { usageSink: { written: number; backlog: number } }).usageSink;
      if (sink.written >= 2 && sink.backlog === 0) return;
      if (Date.now() > end) throw new Error(`the usage sink did not commit the turn's rows: ${JSON.stringify(sink)}`);
    }
  }

  /** A session's usage rows in the spill directory or in the database (after the partition ends), by id. */
  async function usageRowsOf(sessionId: string): Promise<{ callId: string; providerType: string; success: boolean }[]> {
    const rows = new Map<string, { callId: string; providerType: string; success: boolean }>();
    for (const r of spilledRows(spillDir)) if (r.sessionId === sessionId) rows.set(r.id, { callId: r.callId, providerType: r.providerType, success: r.success });
    const committed = await db.query<{ id: string; call_id: string; provider_type: string; success: boolean }>(
      `SELECT id::text, call_id::text, provider_type, success FROM "${db.schema}".ai_usage_log WHERE session_id = $1`,
      [sessionId],
    );
    for (const r of committed) rows.set(r.id, { callId: r.call_id, providerType: r.provider_type, success: r.success });
    return [...rows.values()];
  }

  it('a turn on an open pool connection answers 503 within the query timeout, and SIGTERM exits within the shutdown timeout, its usage rows spilled', async () => {
    const QUERY_TIMEOUT_MS = 1_500;
    const SHUTDOWN_TIMEOUT_MS = 3_000;
    const m = await startMain({ DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    await warmUp(m);
    await proxy.cut('partition');

    const t0 = Date.now();
    const r = await m.post('/v1/turns', TURN);
    const waited = Date.now() - t0;
    expect(r.status).toBe(503);
    const body = await r.json();
    expect(body.error).toMatchObject({ code: 'unavailable', retryable: true });
    expectNoAddress(JSON.stringify(body), proxy, db);
    // One query timeout (plus start-up slack on a loaded machine), not the client's patience.
    expect(waited).toBeLessThan(QUERY_TIMEOUT_MS + 3_000);

    // Usage rows the sink cannot commit: an evaluation answered during the partition (its batch
    // waits on an open connection that never answers), and one still running at SIGTERM that
    // runs to the shutdown deadline and is aborted there.
    const sessionId = crypto.randomUUID();
    const evaluation = { prompt: TURN.prompt, learnerAnswer: TURN.text, sessionId };
    const answered = await m.post('/v1/evaluate', evaluation);
    expect(answered.status).toBe(200);
    const answeredCallId = (await answered.json()).meta.callId as string;
    emu.faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    const hitsBefore = emu.hits.count('gemini');
    const running = m.post('/v1/evaluate', evaluation);
    await until(() => emu.hits.count('gemini') > hitsBefore, 10_000, 'the evaluation to reach the emulator');

    const t1 = Date.now();
    const code = await m.terminate(15_000);
    expect(code, m.output().slice(-2000)).not.toBe('alive');
    expect(Date.now() - t1).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    expect([0, 1]).toContain(code);
    expect((await running).status).toBe(503);
    emu.faults.clear();
    await proxy.restore();

    // None lost: every usage row of the session is in the spill directory or in the database.
    const rows = await usageRowsOf(sessionId);
    expect(rows.filter((r) => r.callId === answeredCallId && r.success), m.output().slice(-3000)).toHaveLength(1);
    expect(rows.some((r) => r.callId !== answeredCallId && !r.success), m.output().slice(-3000)).toBe(true);
  }, 90_000);

  it('a turn still waiting on the partitioned database after the deadline does not keep the usage sink from spilling', async () => {
    const SHUTDOWN_TIMEOUT_MS = 3_000;
    // The turn's next write waits out this query timeout, far past the shutdown timeout.
    const m = await startMain({ DB_QUERY_TIMEOUT_MS: '10000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    await warmUp(m);
    // The evaluation answers before the deadline; the turn then records it, on a database that
    // stopped answering in the meantime.
    emu.faults.add({ target: 'gemini', fault: { kind: 'delay', ms: 700 } });
    const sessionId = crypto.randomUUID();
    const hitsBefore = emu.hits.count('gemini');
    const stuck = m.post('/v1/turns', { ...TURN, sessionId }).then((r) => r.status, () => 'dropped');
    await until(() => emu.hits.count('gemini') > hitsBefore, 10_000, 'the evaluation to reach the emulator');
    await proxy.cut('partition');

    const t1 = Date.now();
    const code = await m.terminate(15_000);
    expect(code, m.output().slice(-2000)).not.toBe('alive');
    expect(Date.now() - t1).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    // The turn never finished: the timeout cut it.
    expect(code).toBe(1);
    expect(await stuck).toBe('dropped');
    emu.faults.clear();
    await proxy.restore();

    const rows = await usageRowsOf(sessionId);
    expect(rows.filter((r) => r.providerType === 'eval'), m.output().slice(-3000)).not.toHaveLength(0);
  }, 90_000);
});
