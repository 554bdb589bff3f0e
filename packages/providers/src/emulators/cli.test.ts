import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const children: ChildProcess[] = [];

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('korean-together-emulators CLI', () => {
  it('prints the endpoints as one JSON line and the env vars, serves, and closes cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'kt-emu-cli-'));
    try {
      const envFile = path.join(dir, 'emulators.env');
      const p = run(['--port-gemini', String(port), '--seed', '3', '--write-env', envFile]);
      const first = await p.lines.next();
      const endpoints = JSON.parse(first.value as string) as {
        gemini: { baseUrl: string; apiVersion: string };
        google: { host: string; port: number };
        whisper: { baseUrl: string };
        httpTts: { baseUrl: string };
        vertex: { baseUrl: string; apiVersion: string; project: string; location: string };
        openai: { baseUrl: string };
      };
      expect(endpoints.gemini).toEqual({ baseUrl: `http://127.0.0.1:${port}`, apiVersion: 'v1beta' });
      expect(endpoints.google.host).toBe('127.0.0.1');
      const env: string[] = [];
      for (let i = 0; i < 9; i++) env.push((await p.lines.next()).value as string);
      expect(env).toContain(`GEMINI_EMULATOR_PORT=${port}`);
      expect(env).toContain(`GOOGLE_EMULATOR_PORT=${endpoints.google.port}`);
      expect(env).toContain(`GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:${port}`);
      expect(env).toContain('OPENAI_API_KEY=emulator');
      expect(env).toContain(`OPENAI_EMULATOR_PORT=${new URL(endpoints.openai.baseUrl).port}`);
      // Vertex AI answers on the Gemini port under its own paths.
      expect(endpoints.vertex).toMatchObject({ baseUrl: `http://127.0.0.1:${port}`, apiVersion: 'v1beta1' });
      expect(readFileSync(envFile, 'utf8')).toBe(`${env.join('\n')}\n`);

      expect((await fetch(`${endpoints.gemini.baseUrl}/health`)).status).toBe(200);
      const speech = await fetch(`${endpoints.httpTts.baseUrl}/v1/audio/speech`, {
        method: 'POST',
        body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: '안녕', response_format: 'wav' }),
      });
      expect(speech.status).toBe(200);
      const chat = await fetch(`${endpoints.openai.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Learner answer (between the markers):\n<<<\n안녕하세요\n>>>' }] }),
      });
      expect(chat.status).toBe(200);
      expect(((await chat.json()) as { object: string }).object).toBe('chat.completion');

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.stderr()).toContain('closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments with exit code 2 and a message naming the option', async () => {
    const p = run(['--port-grpc', 'abc']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('--port-grpc must be an integer');
    const q = run(['--bogus']);
    expect(await q.exited).toBe(2);
    expect(q.stderr()).toContain('Usage: korean-together-emulators');
  });

  it('exits 1 naming the port when it is taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const p = run(['--port-whisper', String(port)]);
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toContain(`whisper could not listen on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });
});
