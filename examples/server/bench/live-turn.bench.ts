// One spoken turn, end of the learner's speech -> final transcript -> grade -> first reply audio,
// both ways through the tutoring server on the emulators: the one-shot path (POST /v1/turns, the
// whole clip after the speech) and the live path (GET /v1/turns/live, the audio streamed in real
// time while it is spoken). Latencies from public measurements (live-turn-latencies.ts). Then the
// live path with the primary STT failing before its first result in 10% of turns, and the SDK's
// own share of the live path (live-turn-share.ts). Writes the `live-turn` section of
// docs/BENCHMARKS.md.
//
//   pnpm --filter @korean-together/example-server bench:live-turn   (BENCH_TURNS, default 200)

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { pcmToWav, startEmulators, synthesizeMicrophonePcm, type Emulators } from '@korean-together/providers/emulators';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';
import { createTutoringServer, type TutoringServer } from '../src/app.js';
import { tutoringPolicy } from '../src/tutoring-policy.js';
import { LATENCY, SAID, SOURCES } from './live-turn-latencies.js';
import { PIECES, type ShareSample } from './live-turn-share.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const RATE = 16_000;
const FRAME_BYTES = 3200; // 100 ms
const VOICE = 'ko-KR-Chirp3-HD-Aoede';
const PCM = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
const TASK = { prompt: '자기소개를 해 보세요', expectedAnswer: SAID };

interface Sample {
  finalMs: number;
  gradeMs: number;
  firstAudioMs: number;
}

const SHARE_CHILD = fileURLToPath(new URL('./live-turn-share.ts', import.meta.url));

/** Runs the SDK-share turns in a child process against these emulators. */
async function shareInChild(emu: Emulators, turns: number): Promise<ShareSample[]> {
  const port = (url: string) => Number(new URL(url).port);
  const ports = { host: '127.0.0.1', geminiPort: port(emu.gemini.baseUrl), grpcPort: emu.google.port, whisperPort: port(emu.whisper.baseUrl), httpTtsPort: port(emu.httpTts.baseUrl), openaiPort: port(emu.openai.baseUrl) };
  const child = spawn(process.execPath, ['--import', 'tsx', SHARE_CHILD], { env: { ...process.env, LIVE_SHARE_ENDPOINTS: JSON.stringify(ports), LIVE_SHARE_TURNS: String(turns) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`the SDK-share child exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as ShareSample[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

function setOneShotLatencies(emu: Emulators): void {
  emu.faults.clear();
  emu.faults.add({ target: 'google-stt', fault: { kind: 'delay', ms: LATENCY.syncRecognizeMs } });
  emu.faults.add({ target: 'google-tts', fault: { kind: 'delay', ms: LATENCY.syncSynthesizeMs } });
  emu.faults.add({ target: 'gemini', fault: { kind: 'delay', ms: LATENCY.evalMs } });
}

function setLiveLatencies(emu: Emulators, failShare: number): void {
  emu.faults.clear();
  if (failShare > 0) emu.faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result' }, probability: failShare });
  emu.faults.add({ target: 'whisper', fault: { kind: 'delay', ms: LATENCY.whisperMs } });
  emu.faults.add({ target: 'gemini', fault: { kind: 'delay', ms: LATENCY.evalMs } });
}

/** POST /v1/turns with the whole clip at the end of the speech; stage times from the calls' latencies, first audio when the answer arrives. */
async function oneShotTurn(base: string): Promise<Sample> {
  const body = JSON.stringify({ ...TASK, audio: Buffer.from(pcmToWav(PCM, RATE)).toString('base64'), encoding: 'LINEAR16', voice: VOICE, sessionId: randomUUID() });
  const endAt = performance.now();
  const res = await fetch(`${base}/v1/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = (await res.json()) as { calls: { capability: string; meta?: { latencyMs: number } }[]; reply: { audio: string | null } };
  const firstAudioMs = performance.now() - endAt;
  if (res.status !== 200 || !json.reply.audio) throw new Error(`one-shot turn failed: ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
  const ms = (c: string) => json.calls.find((x) => x.capability === c)?.meta?.latencyMs ?? 0;
  return { finalMs: ms('stt'), gradeMs: ms('stt') + ms('eval'), firstAudioMs };
}

/** The live route: audio in 100 ms frames in real time, `end` after the last; times as the client sees the messages. */
async function liveTurn(wsUrl: string): Promise<Sample> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let endAt = 0;
  const got: Partial<Sample> = {};
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const t = performance.now() - endAt;
      if (binary) {
        got.firstAudioMs ??= t;
        return;
      }
      const msg = JSON.parse(data.toString()) as { type: string; code?: string; message?: string };
      if (msg.type === 'transcript') got.finalMs = t;
      if (msg.type === 'grade') got.gradeMs = t;
      if (msg.type === 'error') reject(new Error(`live turn failed: ${msg.code}: ${msg.message}`));
    });
    ws.on('close', (code) => (code === 1000 ? resolve() : reject(new Error(`live turn closed ${code}`))));
  });
  ws.send(JSON.stringify({ type: 'start', ...TASK, encoding: 'LINEAR16', sampleRateHertz: RATE, voice: VOICE, sessionId: randomUUID() }));
  const t0 = performance.now();
  for (let at = 0, i = 0; at < PCM.length; at += FRAME_BYTES, i++) {
    ws.send(PCM.subarray(at, at + FRAME_BYTES));
    await sleep(Math.max(0, t0 + (i + 1) * 100 - performance.now()));
  }
  endAt = performance.now();
  ws.send(JSON.stringify({ type: 'end' }));
  await done;
  return got as Sample;
}

async function phase(name: string, turns: number, run: () => Promise<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, k) => {
      await sleep(k * 37); // spread the starts
      while (started < turns) {
        started++;
        out.push(await run());
      }
    }),
  );
  console.log(`${name}: ${out.length} turns`);
  return out;
}

const row = (label: string, xs: Sample[]) => [
  label,
  ...(['finalMs', 'gradeMs', 'firstAudioMs'] as const).flatMap((k) => [q(xs.map((x) => x[k]), 0.5).toFixed(0), q(xs.map((x) => x[k]), 0.95).toFixed(0)]),
];

async function main(): Promise<void> {
  const emu = await startEmulators({
    streamTiming: {
      recognizeFirstResultMs: LATENCY.streamFirstResultMs,
      recognizeInterimMs: LATENCY.streamInterimMs,
      recognizeFinalMs: LATENCY.streamFinalMs,
      synthesizeFirstChunkMs: LATENCY.streamFirstChunkMs,
      synthesizePerChunkMs: LATENCY.streamPerChunkMs,
    },
  });
  const policy = tutoringPolicy();
  let server: TutoringServer | undefined;
  try {
    server = await createTutoringServer({
      database: process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL, schema: `bench_live_${Date.now()}` } : {},
      backend: { kind: 'emulators', endpoints: emu },
      policy,
      logger: false,
    });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const wsUrl = `${base.replace('http', 'ws')}/v1/turns/live`;

    // Warm-up: connections, JIT, the database's first inserts.
    setOneShotLatencies(emu);
    await phase('warm-up one-shot', 10, () => oneShotTurn(base));
    setLiveLatencies(emu, 0);
    await phase('warm-up live', 10, () => liveTurn(wsUrl));

    // The two paths alternate in blocks, so both see the same machine.
    const oneShot: Sample[] = [];
    const live: Sample[] = [];
    const block = Math.max(CONCURRENCY, Math.ceil(TURNS / 4));
    while (oneShot.length < TURNS) {
      setOneShotLatencies(emu);
      oneShot.push(...(await phase('one-shot', Math.min(block, TURNS - oneShot.length), () => oneShotTurn(base))));
      setLiveLatencies(emu, 0);
      live.push(...(await phase('live', Math.min(block, TURNS - live.length), () => liveTurn(wsUrl))));
    }
    setLiveLatencies(emu, 0.1);
    emu.hits.reset();
    const faulted = await phase('live, primary STT failing 10%', TURNS, () => liveTurn(wsUrl));
    // Each injected failure costs one more STT attempt: a retried stream or the Whisper fallback.
    const failures = emu.hits.count('google-stt') + emu.hits.count('whisper') - TURNS;
    const fellBack = emu.hits.count('whisper');

    // The SDK's share: no latencies (it is CPU time on the critical path, whatever the waits), one turn at a time.
    emu.faults.clear();
    emu.streamTiming.set({ recognizeFirstResultMs: 0, recognizeInterimMs: 0, recognizeFinalMs: 0, synthesizeFirstChunkMs: 0, synthesizePerChunkMs: 0 });
    const share = await shareInChild(emu, TURNS);
    const pieces95 = PIECES.map((name, i) => `${name} ${q(share.map((x) => x.pieces[i]!), 0.95).toFixed(2)}`);
    console.log(pieces95.join('; '));

    const columns = ['path', 'final p50', 'final p95', 'grade p50', 'grade p95', 'first audio p50', 'first audio p95'];
    const rows = [row('one-shot (POST /v1/turns)', oneShot), row('live (GET /v1/turns/live)', live), row('live, primary STT fails before its first result in 10%', faulted)];
    printTable(columns, rows);
    const ratio = q(live.map((x) => x.firstAudioMs), 0.5) / q(oneShot.map((x) => x.firstAudioMs), 0.5);
    const ratio95 = q(live.map((x) => x.firstAudioMs), 0.95) / q(oneShot.map((x) => x.firstAudioMs), 0.95);
    const growth95 = q(faulted.map((x) => x.firstAudioMs), 0.95) - q(live.map((x) => x.firstAudioMs), 0.95);
    const sdk95 = q(share.map((x) => x.sdkMs), 0.95);
    const sdk50 = q(share.map((x) => x.sdkMs), 0.5);
    const total50 = q(share.map((x) => x.totalMs), 0.5);
    console.log({ ratio, ratio95, growth95, sdk50, sdk95, failures, fellBack });

    writeBenchSection(
      'live-turn',
      [
        `Machine: ${machineLine()}. Command: \`pnpm --filter @korean-together/example-server bench:live-turn\` (${TURNS} turns per row, ${CONCURRENCY} learners at a time, the server in the bench's process on the emulators, ${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'} usage log).`,
        '',
        `One spoken turn, "${SAID}" (${(PCM.length / 2 / RATE).toFixed(1)} s of 16 kHz PCM, the emulators' tone code included), ms from the end of the learner's speech. One-shot: the clip is posted when the speech ends; its final transcript and grade times are the STT and grading calls' latencies (cumulative), its first audio is when the answer arrives. Live: the audio streams in 100 ms frames in real time while it is spoken; times are when the client receives \`transcript\`, \`grade\` and the first reply audio frame.`,
        '',
        markdownTable(columns, rows),
        '',
        `- Live time to first reply audio is **${ratio.toFixed(2)}x** the one-shot path's at p50 and ${ratio95.toFixed(2)}x at p95 (goal: at most 0.5x).`,
        `- With the primary STT failing before its first result in 10% of turns (${failures} streams failed: ${failures - fellBack} retried on Google with the buffered audio, ${fellBack} fell back to Whisper), p95 time to first audio grows by ${growth95.toFixed(0)} ms; the fallback's own latency is ${LATENCY.whisperMs} ms (goal: growth no more than that). The failure comes while the learner is still speaking (at the first result, ${LATENCY.streamFirstResultMs} ms after the first audio), so the retry replays the buffered audio and catches up before the speech ends.`,
        `- The SDK's own share of the live path's end of speech -> first reply audio (time outside the provider adapters, so outside the emulators and the Google and OpenAI client libraries; ${share.length} turns straight on the client, one at a time, in a process of their own, emulator latencies at 0): **${sdk95.toFixed(2)} ms p95**, ${sdk50.toFixed(2)} ms p50, of ${total50.toFixed(1)} ms p50 end of speech -> first audio in that run (goal: under 2 ms p95). p95 by piece: ${pieces95.join('; ')} ms.`,
        '',
        'Latencies given to the emulators:',
        '',
        markdownTable(
          ['what', 'ms'],
          Object.entries(LATENCY).map(([k, v]) => [k, v]),
        ),
        '',
        'Sources:',
        '',
        ...SOURCES.map((s) => `- ${s}`),
      ].join('\n'),
    );
  } finally {
    await server?.shutdown();
    await emu.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
