import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv, startEmulators, type Emulators } from '@korean-together/providers/emulators';
import { startStack, type Stack } from './stack.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const EVAL_BODY = { prompt: '물을 달라고 하세요', learnerAnswer: '물 주세요', expectedAnswer: '물 주세요' };

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('graceful shutdown (in process)', () => {
  let s: Stack;
  afterAll(async () => {
    await s?.close();
  });

  it('stops accepting, lets the in-flight request finish, then flushes its usage rows', async () => {
    s = await startStack({ label: 'shutdown' });
    s.emu.faults.add({ target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'delay', ms: 1_000 } });
    const inFlight = s.post('/v1/evaluate', EVAL_BODY);
    await until(() => s.server.client.inFlight() === 1, 5_000, 'the call to start');
    const stopped = s.server.shutdown();
    // The listener is closed: a new connection is refused (or answered 503 while closing).
    const late = await fetch(`${s.baseUrl}/health`).then((r) => r.status, () => 'refused');
    expect(['refused', 503]).toContain(late);
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(await stopped).toEqual({ forced: false });
    // client.close() flushed the sink before the server finished closing.
    const rows = await s.rows<{ n: number }>('SELECT count(*)::int AS n FROM $schema.ai_usage_log WHERE call_id = $1', [r.json.meta.callId]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('graceful shutdown past the deadline (in process)', () => {
  let s: Stack;
  afterAll(async () => {
    await s?.close();
  });

  it('aborts the AI calls still running at the deadline: the request gets 503 cancelled, attempts are recorded', async () => {
    s = await startStack({ label: 'shutdown_forced', shutdownDeadlineMs: 300 });
    s.emu.faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    const inFlight = s.post('/v1/evaluate', EVAL_BODY);
    await until(() => s.server.client.inFlight() === 1, 5_000, 'the call to start');
    const t0 = Date.now();
    const { forced } = await s.server.shutdown();
    expect(forced).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3_000);
    const r = await inFlight;
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('cancelled');
    const rows = await s.rows<{ n: number }>("SELECT count(*)::int AS n FROM $schema.ai_usage_log WHERE provider_type = 'eval' AND NOT success");
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('signals (the real entry point as a child process)', () => {
  let emu: Emulators;
  beforeAll(async () => {
    emu = await startEmulators();
  });
  afterAll(async () => {
    await emu?.close();
  });

  async function startMain() {
    const port = await freePort();
    let out = '';
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        PORT: String(port),
        HOST: '127.0.0.1',
        AI_BACKEND: 'emulators',
        ...emulatorEnv(emu),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => out.includes('Server listening') || child.exitCode !== null, 60_000, 'the server to listen');
    return { child, exit, port, output: () => out };
  }

  it('SIGTERM with nothing in flight: exits 0 after flushing', async () => {
    const m = await startMain();
    expect((await fetch(`http://127.0.0.1:${m.port}/health`)).status).toBe(200);
    m.child.kill('SIGTERM');
    expect(await m.exit).toBe(0);
    expect(m.output()).toContain('stopped cleanly');
  }, 90_000);

  it('while draining, a request on an open keep-alive connection gets 503 in the JSON shape with Connection: close, not a reset', async () => {
    emu.faults.clear();
    emu.faults.add({ target: 'gemini', fault: { kind: 'delay', ms: 1_500 } });
    const m = await startMain();
    // One keep-alive socket, kept by the agent after its first answer.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; body: any; reused: boolean }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: m.port, path, agent }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text), reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    expect((await get('/health')).status).toBe(200);
    // An evaluation in flight keeps the drain open.
    const hitsBefore = emu.hits.count('gemini');
    const inFlight = fetch(`http://127.0.0.1:${m.port}/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(EVAL_BODY) });
    await until(() => emu.hits.count('gemini') > hitsBefore, 10_000, 'the evaluation to reach the emulator');
    m.child.kill('SIGTERM');
    await until(() => m.output().includes('shutting down'), 5_000, 'the signal to be handled');
    // Idle keep-alive connections stay open during the drain: the request is answered on it.
    const late = await get('/v1/stats/breakers');
    expect(late.reused).toBe(true);
    expect(late.status).toBe(503);
    expect(late.connection).toBe('close');
    expect(late.body).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('shutting down'), retryable: true } });
    // A new connection is refused; the in-flight request finishes; the exit is clean.
    await expect(fetch(`http://127.0.0.1:${m.port}/health`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    expect((await inFlight).status).toBe(200);
    expect(await m.exit).toBe(0);
    agent.destroy();
    emu.faults.clear();
  }, 90_000);

  it('a second signal forces the exit while a request is stuck', async () => {
    emu.faults.clear();
    emu.faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    const m = await startMain();
    const hitsBefore = emu.hits.count('gemini');
    const stuck = fetch(`http://127.0.0.1:${m.port}/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(EVAL_BODY) }).catch(() => 'dropped');
    await until(() => emu.hits.count('gemini') > hitsBefore, 10_000, 'the evaluation to reach the emulator');
    m.child.kill('SIGTERM');
    await until(() => m.output().includes('shutting down'), 5_000, 'the first signal to be handled');
    const t0 = Date.now();
    m.child.kill('SIGINT');
    expect(await m.exit).toBe(130);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(m.output()).toContain('forcing exit');
    await stuck;
    emu.faults.clear();
  }, 90_000);
});
