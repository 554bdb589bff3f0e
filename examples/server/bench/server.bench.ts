// Capacity of one tutoring-server process. Writes the `example-server` section of
// docs/BENCHMARKS.md; the scaling checkpoints (docs/SCALING_CHECKPOINTS.md) cite these numbers.
// (How the dashboard's queries scale with the usage log: @korean-together/sql's bench.)
//
//   pnpm --filter @korean-together/example-server bench
//
// Part 1 runs the real server (src/main.ts) as a child process against the emulators (in this
// process, which also generates the load), on loopback only, with a closed loop of N clients
// for a fixed time.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { emulatorEnv, startEmulators, synthesizeWav, type Emulators } from '@korean-together/providers/emulators';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 8_000);
const CONCURRENCY = [1, 4, 16];
const CLK_TCK = 100;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system) a process has used, in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function startServer(emu: Emulators, schema: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DB_SCHEMA: schema,
      LOG_LEVEL: 'warn',
      ...emulatorEnv(emu),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start within 60 s');
}

const ANSWERS = [
  { prompt: '자기소개를 하세요', expectedAnswer: '저는 학생이에요', targetFormality: 'haeyo', say: '저는 학생입니다' },
  { prompt: '물을 달라고 하세요', expectedAnswer: '물 좀 주세요', targetFormality: 'haeyo', say: '물 좀 주세요' },
  { prompt: '어제 무엇을 했는지 말하세요', expectedAnswer: '저는 도서관에서 친구를 만났어요', targetFormality: 'haeyo', say: '저가 도서관을 친구가 만났어요' },
  { prompt: '내일 다시 오겠다고 말하세요', expectedAnswer: '내일 다시 오겠습니다', targetFormality: 'hapsyo', say: '내일 다시 올게' },
];

interface LoadResult {
  turns: number;
  errors: number;
  seconds: number;
  latencies: number[];
  cpuMs: number;
}

/** N clients, each sending its next spoken turn as soon as the last one answered, for RUN_MS. */
async function closedLoop(base: string, pid: number, clients: number): Promise<LoadResult> {
  const bodies = ANSWERS.map((a) => JSON.stringify({ prompt: a.prompt, expectedAnswer: a.expectedAnswer, targetFormality: a.targetFormality, audio: Buffer.from(synthesizeWav(a.say, { sampleRateHertz: 16_000 })).toString('base64'), encoding: 'LINEAR16' }));
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const end = t0 + RUN_MS;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let i = c;
      while (performance.now() < end) {
        const s = performance.now();
        const res = await fetch(`${base}/v1/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i++ % bodies.length] });
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - s);
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { turns: latencies.length, errors, seconds, latencies: latencies.sort((a, b) => a - b), cpuMs: cpuMs(pid) - cpu0 };
}

async function serverCapacity(): Promise<string> {
  const emu = await startEmulators();
  const schema = `kt_bench_server_${randomBytes(3).toString('hex')}`;
  const { child, base } = await startServer(emu, schema);
  const rows: (string | number)[][] = [];
  try {
    await closedLoop(base, child.pid!, 2); // warm-up: JIT, connection pools, PGlite caches
    for (const clients of CONCURRENCY) {
      const r = await closedLoop(base, child.pid!, clients);
      rows.push([
        clients,
        (r.turns / r.seconds).toFixed(1),
        quantile(r.latencies, 0.5).toFixed(1),
        quantile(r.latencies, 0.99).toFixed(1),
        (r.cpuMs / Math.max(1, r.turns)).toFixed(2),
        ((100 * r.cpuMs) / (r.seconds * 1000)).toFixed(0),
        r.errors,
      ]);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await emu.close();
    if (process.env.DATABASE_URL) {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }
  const columns = ['clients', 'turns/s', 'p50 ms', 'p99 ms', 'server CPU ms/turn', 'server CPU %', 'errors'];
  console.log('\nOne server process, spoken turns (STT + evaluation + TTS reply, 3 usage rows, 3 session events each):');
  printTable(columns, rows);
  const db = process.env.DATABASE_URL ? 'Postgres on the same machine' : 'embedded PGlite (in the server process)';
  return [
    '### One server process: spoken turns per second',
    '',
    `\`POST /v1/turns\` with 16 kHz WAV answers (STT, evaluation, TTS reply: 3 AI calls, 3 usage rows and 3 session events per turn), ` +
      `the server (\`src/main.ts\`, the tutoring policy) as its own process, database: ${db}. The emulators answer at once, so this is the ` +
      `server's own cost per turn, not a provider's latency. A closed loop of N clients for ${RUN_MS / 1000} s each, after a warm-up; ` +
      'the load generator and the emulators share the machine\'s other core.',
    '',
    markdownTable(columns, rows),
  ].join('\n');
}

async function main(): Promise<void> {
  const capacity = await serverCapacity();
  // How the stats queries behind the dashboard scale with the usage log (rollups, partitions) is
  // measured by @korean-together/sql's bench: section usage-log-at-scale.
  const queries = '### The usage log under the dashboard\n\nEvery `/v1/stats/*` query reads the rollups: timed at 1M and 10M usage rows, before and after, in the `usage-log-at-scale` section below (`pnpm --filter @korean-together/sql bench`).';
  writeBenchSection(
    'example-server',
    [
      '## Example server: capacity of one process, and the usage log under the dashboard',
      '',
      `${machineLine()}. Command: \`pnpm --filter @korean-together/example-server bench\` (loopback only).`,
      '',
      capacity,
      '',
      queries,
    ].join('\n'),
  );
  console.log('\nwrote the example-server section of docs/BENCHMARKS.md');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
