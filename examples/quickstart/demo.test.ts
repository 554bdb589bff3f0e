import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testRunPrefix } from '../../test-support/db.js';
import { LESSON, LIVE } from './lesson-script.js';

// `pnpm demo` end to end, as a child process: exactly what a newcomer runs.
const DEMO = fileURLToPath(new URL('./demo.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** Everything after the lesson view: the summary tables and the database read-back. */
const summaryPart = (stdout: string) => stdout.slice(stdout.indexOf('\nCalls\n'));

describe('pnpm demo', () => {
  it('runs the lesson on emulators + PGlite with faults, shows the policy at work, and exits 0 well under a minute', async () => {
    const r = await runDemo([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(45_000);
    const o = r.stdout;
    for (let n = 1; n <= LESSON.length; n++) expect(o).toContain(`▶ Activity ${n}/${LESSON.length}: ${LESSON[n - 1]!.title}`);
    expect(o).toContain('database: pglite, schema public');
    // The lesson view: the learner's words, what was heard, the grade, the tutor's reply.
    expect(o).toContain('heard:   저가 도서관을 친구가 만났어요');
    expect(o).toMatch(/grade: {3}65\/100 fail \(formality\)/);
    // Each fault, and what the policy did about it.
    expect(o).toContain('⚡ fault injected: Google Speech-to-Text answers UNAVAILABLE (twice)');
    expect(o).toContain('→ falling back to whisper (unavailable)');
    expect(o).toContain('↻ retrying flash in 1000 ms (rate_limited)');
    expect(o).toContain('↻ retrying flash in');
    // The Gemini outage: the Gemini API, then Vertex AI, both down; OpenAI grades.
    expect(o).toContain('⚡ fault injected: Gemini outage: the Gemini API answers 503 UNAVAILABLE');
    expect(o).toContain('⚡ fault injected: Gemini outage: Vertex AI answers 503 UNAVAILABLE too');
    expect(o).toContain('→ falling back to flash-vertex (unavailable)');
    expect(o).toContain('→ falling back to gpt-4.1-mini (unavailable)');
    expect(o).toMatch(/grade: {3}55\/100 fail \(grammar\) {2}\(gpt-4\.1-mini, \d+ ms\)/);
    // A hung Gemini API is hedged with Vertex AI.
    expect(o).toContain('⇉ no answer yet: hedging with flash-vertex beside the slow attempt');
    // The summary, per call.
    const s = summaryPart(o);
    expect(s).toMatch(/transcribe answer\s+whisper \(whisper-1\)\s+3: google-stt unavailable → google-stt unavailable → whisper ok/);
    expect(s).toMatch(/grade answer\s+flash \(gemini-2\.5-flash\)\s+2: flash schema_violation → flash ok/);
    expect(s).toMatch(/grade answer\s+flash \(gemini-2\.5-flash\)\s+2: flash rate_limited → flash ok\s+1\d{3}\s+0\.\d{6}/);
    expect(s).toMatch(
      /grade answer\s+gpt-4\.1-mini \(gpt-4\.1-mini\)\s+5: flash unavailable → flash unavailable → flash-vertex unavailable → flash-vertex unavailable → gpt-4\.1-mini ok\s+\d+\s+0\.\d{6}/,
    );
    expect(s).toMatch(/grade answer\s+flash-vertex \(gemini-2\.5-flash\)\s+2: flash-vertex ok → flash hedge lost/);
    // The live activity: interim transcripts while the answer is spoken, then the streamed reply.
    expect(o).toContain(`▶ Live activity: ${LIVE.title}`);
    expect(o).toMatch(/… 저는\n/);
    expect(o).toContain(`✓ ${LIVE.learnerAnswer}`);
    expect(o).toMatch(/after the end of speech: final transcript \d+ ms, grade \d+ ms, .*first reply audio \d+ ms/);
    expect(s).toMatch(/live transcript\s+google-stt \(google-stt\/default\)\s+1: google-stt ok/);
    expect(s).toMatch(/stream reply\s+google-tts \(ko-KR-Wavenet-A\)\s+1: google-tts ok/);
    expect(s).toContain('23 calls (stt 6, eval 6, tts 11), 32 attempts');
    // The views read back: each route and vendor on its own rows, and the usage log matching the calls to the micro-dollar.
    expect(s).toMatch(/v_daily_ai_costs[\s\S]+eval\s+gemini\s+9\s+4/);
    expect(s).toMatch(/v_daily_ai_costs[\s\S]+eval\s+gemini-vertex\s+3\s+1/);
    expect(s).toMatch(/v_daily_ai_costs[\s\S]+eval\s+openai\s+1\s+1/);
    expect(s).toMatch(/v_evaluation_stats[\s\S]+openai\s+gpt-4\.1-mini\s+grammar\s+55\.0\s+1/);
    expect(s).toMatch(/✓ ai_usage_log holds 32 rows for the lesson's 23 calls \(one per attempt; expected 32\), total \$(\d+\.\d{6}) \(calls above: \$\1\)/);
    expect(o).toMatch(/✓ lesson finished in \d+\.\d s/);
    // Learner text appears in the lesson view only: never in progress/error lines or the summary.
    const failureLines = o.split('\n').filter((l) => /^\s+[✗↻→⇉⚠]/.test(l));
    expect(failureLines.length).toBeGreaterThanOrEqual(10);
    for (const a of LESSON) {
      for (const l of failureLines) expect(l).not.toContain(a.learnerAnswer);
      expect(s).not.toContain(a.learnerAnswer);
    }
  }, 90_000);

  it('--no-faults: every call answers on its first attempt', async () => {
    const r = await runDemo(['--no-faults']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('fault injected');
    const s = summaryPart(r.stdout);
    expect(s).toContain('23 calls (stt 6, eval 6, tts 11), 23 attempts');
    expect(s).toMatch(/✓ ai_usage_log holds 23 rows/);
  }, 90_000);

  it('--help prints the usage and exits 0; an unknown flag exits 2; --real without keys says what is missing', async () => {
    const help = await runDemo(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--database-url URL');
    expect(help.stdout).toContain('--real');
    expect(help.stdout).toContain('--no-faults');
    const bad = await runDemo(['--fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--fast'");
    const { GEMINI_API_KEY: _g, GOOGLE_API_KEY: _k, ...env } = process.env;
    const real = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', DEMO, '--real'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('set GEMINI_API_KEY');
    // With a Gemini key but no Vertex project, it names that too.
    const { GOOGLE_CLOUD_PROJECT: _p, ...noProject } = env;
    const vertexless = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', DEMO, '--real'], { cwd: ROOT, env: { ...noProject, GEMINI_API_KEY: 'unused' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(vertexless.code).toBe(2);
    expect(vertexless.stderr).toContain('set GOOGLE_CLOUD_PROJECT');
  }, 60_000);

  it.runIf(Boolean(process.env.DATABASE_URL))('--database-url: migrates a real Postgres and stores the lesson there', async () => {
    const schema = `${testRunPrefix()}demo_${randomBytes(4).toString('hex')}`;
    const url = process.env.DATABASE_URL!;
    try {
      const r = await runDemo(['--database-url', url, '--schema', schema]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`database: postgres, schema ${schema}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const rows = await client.query(`SELECT count(*)::int AS n FROM "${schema}".ai_usage_log`);
        // Every attempt of the lesson (the live activity's streams included) is one row, as on PGlite.
        expect(rows.rows[0].n).toBe(32);
        expect(r.stdout).toContain('ai_usage_log holds 32 rows');
        const events = await client.query(`SELECT count(*)::int AS n FROM "${schema}".session_events WHERE event_type = 'evaluation'`);
        expect(events.rows[0].n).toBe(5);
      } finally {
        await client.end();
      }
    } finally {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }, 90_000);
});
