import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Drives examples/server/start.sh as a real process tree: the emulators CLI and the API server
// under the supervisor, on free ports, with PGlite in memory.

const START_SH = fileURLToPath(new URL('../start.sh', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Supervisor {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pids: { api: number; ai: number };
  port: number;
  /** Where start.sh told the emulators CLI to serve OpenAI Chat Completions (OPENAI_EMULATOR_PORT). */
  openaiPort: number;
  logDir: string;
}

const started: Supervisor[] = [];

async function startSupervisor(extraEnv: Record<string, string> = {}): Promise<Supervisor> {
  const [port, gemini, grpc, whisper, httpTts, openai] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const logDir = mkdtempSync(join(tmpdir(), 'kt-start-sh-'));
  let out = '';
  const child = spawn('bash', [START_SH], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      PORT: String(port),
      GEMINI_EMULATOR_PORT: String(gemini),
      GOOGLE_EMULATOR_PORT: String(grpc),
      WHISPER_EMULATOR_PORT: String(whisper),
      HTTP_TTS_EMULATOR_PORT: String(httpTts),
      OPENAI_EMULATOR_PORT: String(openai),
      LOG_DIR: logDir,
      STOP_TIMEOUT_S: '10',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed test can still take the whole tree down.
    detached: true,
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await until(() => out.includes('all services are running') || child.exitCode !== null, 60_000, 'the supervisor to report both services running');
  const api = Number(/API server started \(pid (\d+)\)/.exec(out)?.[1]);
  const ai = Number(/AI service started \(pid (\d+)\)/.exec(out)?.[1]);
  const sup: Supervisor = { child, output: () => out, exit, pids: { api, ai }, port, openaiPort: openai, logDir };
  started.push(sup);
  expect(out).toContain('all services are running');
  return sup;
}

afterEach(() => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      try {
        process.kill(-s.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const pid of [s.pids.api, s.pids.ai]) if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(s.logDir, { recursive: true, force: true });
  }
});

describe('start.sh: the fail-fast supervisor', () => {
  it('starts both services, with separate logs, and stops cleanly on SIGTERM (exit 0)', async () => {
    const s = await startSupervisor();
    const health = await fetch(`http://127.0.0.1:${s.port}/health`);
    expect(health.status).toBe(200);
    // The emulators serve Chat Completions (the eval chain's gpt-4.1-mini) on the port the server calls.
    expect((await fetch(`http://127.0.0.1:${s.openaiPort}/health`)).status).toBe(200);
    s.child.kill('SIGTERM');
    const { code } = await s.exit;
    expect(code).toBe(0);
    expect(processAlive(s.pids.api)).toBe(false);
    expect(processAlive(s.pids.ai)).toBe(false);
    const apiLog = readFileSync(join(s.logDir, 'api-server.log'), 'utf8');
    const aiLog = readFileSync(join(s.logDir, 'ai-service.log'), 'utf8');
    expect(apiLog).toContain('stopped cleanly');
    expect(apiLog).not.toContain('korean-together-emulators');
    expect(aiLog).toContain('korean-together-emulators: SIGTERM, closing');
    expect(aiLog).not.toContain('Server listening');
  }, 90_000);

  it('exits non-zero and stops the API server when the AI service dies', async () => {
    const s = await startSupervisor();
    process.kill(s.pids.ai, 'SIGKILL');
    const { code } = await s.exit;
    expect(code).not.toBe(0);
    expect(s.output()).toContain('AI service died');
    expect(processAlive(s.pids.api)).toBe(false);
  }, 90_000);

  it('exits non-zero and stops the AI service when the API server dies', async () => {
    const s = await startSupervisor();
    process.kill(s.pids.api, 'SIGKILL');
    const { code } = await s.exit;
    expect(code).not.toBe(0);
    expect(s.output()).toContain('API server died');
    expect(processAlive(s.pids.ai)).toBe(false);
  }, 90_000);

  it('SIGTERM under load: the API server drains before the AI service stops, so in-flight turns succeed and nothing is reset', async () => {
    const s = await startSupervisor();
    const base = `http://127.0.0.1:${s.port}`;
    type Outcome = { kind: 'ok'; spannedSignal: boolean; replyError?: string } | { kind: 'status'; status: number; body: any; connection: string | null } | { kind: 'error'; code: string };
    const outcomes: Outcome[] = [];
    let signalledAt = 0;
    let completed = 0;
    // Keep-alive clients (fetch pools its sockets) looping on turns until the server is gone.
    const worker = async (w: number) => {
      for (let i = 0; ; i++) {
        const started = Date.now();
        try {
          const res = await fetch(`${base}/v1/turns`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: '자기소개를 하세요', expectedAnswer: '저는 학생입니다', text: `저는 학생입니다 ${w}-${i}` }),
            signal: AbortSignal.timeout(20_000),
          });
          const body = await res.json();
          if (res.status === 200) {
            outcomes.push({ kind: 'ok', spannedSignal: signalledAt > 0 && started < signalledAt, ...(body.reply.errorCode && { replyError: body.reply.errorCode }) });
            completed++;
          } else {
            outcomes.push({ kind: 'status', status: res.status, body, connection: res.headers.get('connection') });
          }
        } catch (e) {
          const code = String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name);
          outcomes.push({ kind: 'error', code });
          // Refused: the listener is closed, as documented. Anything else is a failure, recorded above.
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await until(() => completed >= 40, 60_000, 'the load to get going');
    signalledAt = Date.now();
    s.child.kill('SIGTERM');
    await Promise.all(workers);
    const { code } = await s.exit;

    const errors = outcomes.filter((o): o is Extract<Outcome, { kind: 'error' }> => o.kind === 'error');
    const statuses = outcomes.filter((o): o is Extract<Outcome, { kind: 'status' }> => o.kind === 'status');
    const ok = outcomes.filter((o): o is Extract<Outcome, { kind: 'ok' }> => o.kind === 'ok');
    // Turns that were running when the signal came finished, AI calls included.
    expect(ok.length).toBeGreaterThanOrEqual(40);
    expect(ok.filter((o) => o.spannedSignal).length).toBeGreaterThan(0);
    expect(ok.filter((o) => o.replyError)).toEqual([]);
    expect(statuses.filter((o) => o.status !== 503)).toEqual([]);
    // A request on an open keep-alive connection during the drain: 503 in the JSON shape, told to reconnect.
    for (const o of statuses) {
      expect(o.body.error).toMatchObject({ code: 'unavailable', retryable: true });
      expect(o.connection).toBe('close');
    }
    // Each worker ends on a refused connection: no reset, no socket closed under a request.
    expect(errors.map((e) => e.code)).toEqual(Array(8).fill('ECONNREFUSED'));
    expect(code).toBe(0);
    const out = s.output();
    expect(out.indexOf('stopping API server')).toBeGreaterThan(-1);
    expect(out.indexOf('stopping AI service')).toBeGreaterThan(out.indexOf('stopping API server'));
  }, 120_000);

  it('force-kills a child that does not stop within STOP_TIMEOUT_S and exits 1', async () => {
    const s = await startSupervisor({ STOP_TIMEOUT_S: '1' });
    // A stopped process cannot act on SIGTERM; only SIGKILL ends it.
    process.kill(s.pids.api, 'SIGSTOP');
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const { code } = await s.exit;
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(s.output()).toContain('force killing');
    await until(() => !processAlive(s.pids.api), 5_000, 'the stopped API server to be killed');
  }, 90_000);
});
