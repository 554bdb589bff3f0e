import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv, startEmulators, synthesizeWav, type Emulators } from '@korean-together/providers/emulators';
import { uniqueName } from '../../test-support/db.js';
import { createAi } from './snippets/ai.js';
import { gradeSpokenAnswer, httpStatusOf } from './snippets/grade-answer.js';

const DOC = fileURLToPath(new URL('../../docs/GETTING_STARTED.md', import.meta.url));
const SNIPPETS = fileURLToPath(new URL('./snippets/', import.meta.url));
const POLICY = fileURLToPath(new URL('./snippets/ai-policy.json', import.meta.url));
const HARNESS = fileURLToPath(new URL('./shutdown-harness.ts', import.meta.url));

describe('docs/GETTING_STARTED.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  const blocks = [...doc.matchAll(/<!-- snippet: (\S+) -->\n```\w+\n([\s\S]*?)```\n<!-- \/snippet -->/g)].map((m) => ({ path: m[1]!, body: m[2]! }));

  it('embeds every snippet file verbatim, and only those', () => {
    const files = readdirSync(SNIPPETS).sort();
    expect(blocks.map((b) => b.path.replace('examples/docs-check/snippets/', '')).sort()).toEqual(files);
    for (const b of blocks) expect(b.body, `${b.path} differs from the guide`).toBe(readFileSync(fileURLToPath(new URL(`../../${b.path}`, import.meta.url)), 'utf8'));
  });

  it('names no file that does not exist', () => {
    for (const [, path] of doc.matchAll(/`((?:docs|examples|packages)\/[\w./-]+)`/g)) {
      expect(existsSync(fileURLToPath(new URL(`../../${path}`, import.meta.url))), path).toBe(true);
    }
  });
});

describe('the guide\'s snippets, run against the emulators', () => {
  let emu: Emulators;
  let emuEnv: Record<string, string>;
  beforeAll(async () => {
    emu = await startEmulators();
    emuEnv = emulatorEnv(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('ai.ts + grade-answer.ts on a real Postgres: migrates, grades, logs usage rows that join the session events', async () => {
    const schema = uniqueName('guide');
    const ai = await createAi({ ...emuEnv, DATABASE_URL: process.env.DATABASE_URL, AI_DB_SCHEMA: schema }, POLICY);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const sessionId = randomUUID();
      const r = await gradeSpokenAnswer(ai, { sessionId, prompt: '물을 달라고 하세요', expectedAnswer: '물 좀 주세요', audio: synthesizeWav('물 좀 주세요'), encoding: 'LINEAR16' });
      expect(r).toMatchObject({ transcript: '물 좀 주세요', passed: true, mistake: null });
      await ai.usage.flush();
      const joined = await admin.query(
        `SELECT u.provider_type, e.event_type FROM "${schema}".ai_usage_log u JOIN "${schema}".session_events e ON e.id = u.event_id WHERE u.session_id = $1 ORDER BY u.provider_type`,
        [sessionId],
      );
      expect(joined.rows).toEqual([
        { provider_type: 'eval', event_type: 'evaluation' },
        { provider_type: 'stt', event_type: 'user_input' },
      ]);
    } finally {
      await ai.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  it('httpStatusOf maps the codes the way the guide says', async () => {
    const ai = await createAi(emuEnv, POLICY);
    try {
      emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 500 } });
      const err = await gradeSpokenAnswer(ai, { sessionId: randomUUID(), prompt: 'x', audio: synthesizeWav('네'), encoding: 'LINEAR16' }).catch((e: unknown) => e);
      expect(httpStatusOf(err)).toBe(502);
      expect(httpStatusOf(new Error('plain'))).toBe(500);
    } finally {
      emu.faults.clear();
      await ai.close();
    }
  });

  it('shutdown.ts: SIGTERM lets the in-flight request finish, then exits 0', async () => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'delay', ms: 800 } });
    const child = spawn(process.execPath, ['--import', 'tsx', HARNESS], { env: { ...process.env, DATABASE_URL: '', ...emuEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const end = Date.now() + 30_000;
      while (!/listening \d+/.test(out) && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const port = /listening (\d+)/.exec(out)?.[1];
      expect(port, out).toBeDefined();
      const pending = fetch(`http://127.0.0.1:${port}/`).then(async (r) => ({ status: r.status, body: await r.json() }));
      while (emu.hits.count('google-tts') === 0) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body.provider).toBe('google-tts');
      expect(await exit).toBe(0);
      expect(out).toContain('SIGTERM: finishing in-flight requests');
    } finally {
      emu.faults.clear();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('docs/SCALING_CHECKPOINTS.md', () => {
  it('cites benchmark sections that exist in docs/BENCHMARKS.md', () => {
    const scaling = readFileSync(fileURLToPath(new URL('../../docs/SCALING_CHECKPOINTS.md', import.meta.url)), 'utf8');
    const bench = readFileSync(fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url)), 'utf8');
    const section = scaling.slice(scaling.indexOf('## The tutoring server: split the container'));
    const cited = new Set([...section.matchAll(/\(`([a-z-]+)`[,:;)]/g)].map((m) => m[1]!));
    expect([...cited].sort()).toEqual(['core-overhead', 'example-server', 'usage-log-at-scale']);
    for (const name of cited) expect(bench).toContain(`<!-- bench:${name} -->`);
    // The figures quoted for the checkpoints are the ones the bench wrote.
    const serverSection = bench.slice(bench.indexOf('<!-- bench:example-server -->'), bench.indexOf('<!-- /bench:example-server -->'));
    for (const figure of ['| 16 | 300.5 | 49.9 | 110.3 | 2.89 | 87 |', '| 1 | 71.6 | 12.4 | 38.9 | 7.85 |']) expect(serverSection).toContain(figure);
    // The usage log at scale: every stats query figure quoted (before and after, 1M and 10M rows) is the bench's.
    const scale = bench.slice(bench.indexOf('<!-- bench:usage-log-at-scale -->'), bench.indexOf('<!-- /bench:usage-log-at-scale -->'));
    let quoted = 0;
    for (const [, query, cells] of section.matchAll(/^\| (costs \(`v_daily_ai_costs`\)|latency per day|latency over the window|calls per day|evaluations \(`v_evaluation_stats`\)) \| (.*) \|$/gm)) {
      const name = query!.replaceAll('`', '');
      const ms = cells!.split(' | ').map((c) => c.replace(' ms', ''));
      const row = scale.split('\n').find((l) => l.startsWith(`| ${name} | 30 |`));
      expect(row, name).toBeDefined();
      expect(row!.split(' | ').slice(2).map((c) => c.replace(' |', ''))).toEqual([ms[0], ms[2], ms[1], ms[3]]);
      quoted++;
    }
    expect(quoted).toBe(5);
    const sustained = /createPostgresSink, sustained[^|]*\| ([\d,]+) rows\/s/.exec(bench)?.[1];
    expect(Number(sustained?.replaceAll(',', ''))).toBeGreaterThan(50_000);
  });
});
