import { synthesizeMicrophonePcm } from '@korean-together/providers/emulators';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_CLOSE } from '../src/live-protocol.js';
import type { LiveTurn } from '../src/live-turn.js';
import { startStack, type Stack } from './stack.js';

const RATE = 16_000;
let s: Stack;
let turns: LiveTurn[] = [];

beforeAll(async () => {
  s = await startStack({ label: 'live_turn', live: { limits: { maxAudioMs: 6_000, maxTurnMs: 3_000 }, onTurn: (t) => turns.push(t) } });
});
afterAll(async () => {
  await s?.close();
});
beforeEach(() => {
  turns = [];
});

interface Session {
  ws: WebSocket;
  messages: Record<string, any>[];
  audio: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  next(type: string): Promise<Record<string, any>>;
}

/** A live turn's socket on the stack at `baseUrl` (the file's own stack unless told). */
async function open(baseUrl = s.baseUrl): Promise<Session> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/v1/turns/live`);
  const messages: Record<string, any>[] = [];
  const audio: Buffer[] = [];
  const waiters: { type: string; resolve: (m: Record<string, any>) => void }[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return void audio.push(data);
    const msg = JSON.parse(data.toString()) as Record<string, any>;
    messages.push(msg);
    for (const w of waiters.filter((w) => w.type === msg.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    audio,
    closed,
    next: (type) => {
      const seen = messages.find((m) => m.type === type);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

const start = (extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'start', prompt: '자기소개를 해 보세요', expectedAnswer: '저는 학생입니다', encoding: 'LINEAR16', sampleRateHertz: RATE, ...extra });

function sendAudio(ws: WebSocket, pcm: Uint8Array, frameBytes = 3200): void {
  for (let at = 0; at < pcm.length; at += frameBytes) ws.send(pcm.subarray(at, at + frameBytes));
}

async function usageRows(sessionId: string) {
  await Promise.all(turns.map((t) => t.finished));
  await s.server.db.sink.flush();
  return s.rows<{ capability: string; success: boolean; event_id: string; error_code: string | null; cost_usd: string | null }>(
    'SELECT provider_type AS capability, success, event_id::text, error_code, estimated_cost_usd::text AS cost_usd FROM $schema.ai_usage_log WHERE session_id = $1 ORDER BY created_at',
    [sessionId],
  );
}

describe('GET /v1/turns/live', () => {
  it('streams transcripts while the learner speaks, then the grade and the reply audio; events and usage rows join', async () => {
    const t = await open();
    const sessionId = crypto.randomUUID();
    t.ws.send(start({ sessionId }));
    const ready = await t.next('ready');
    expect(ready).toMatchObject({ sessionId, maxAudioMs: 6_000 });
    sendAudio(t.ws, synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE }));
    const final = await t.next('final');
    expect(final.transcript).toBe('저는 학생입니다');
    t.ws.send(JSON.stringify({ type: 'end' }));
    const done = await t.next('done');
    expect((await t.closed).code).toBe(LIVE_CLOSE.done);

    expect(t.messages.some((m) => m.type === 'interim')).toBe(true);
    const order = t.messages.map((m) => m.type).filter((x) => x !== 'interim' && x !== 'final');
    expect(order).toEqual(['ready', 'transcript', 'grade', 'reply', 'reply_end', 'done']);
    expect(t.messages.find((m) => m.type === 'grade')!.evaluation.passFail).toBe(true);
    const reply = t.messages.find((m) => m.type === 'reply')!;
    expect(reply).toMatchObject({ encoding: 'LINEAR16', sampleRateHertz: 24_000 });
    const replyBytes = t.audio.reduce((n, b) => n + b.length, 0);
    expect(replyBytes).toBeGreaterThan(24_000);
    expect(t.audio[0]!.subarray(0, 4).toString('latin1')).not.toBe('RIFF');

    const events = await s.rows<{ id: string; event_type: string }>('SELECT id::text, event_type FROM $schema.session_events WHERE session_id = $1 ORDER BY created_at', [sessionId]);
    expect(events.map((e) => e.event_type)).toEqual(['user_input', 'evaluation', 'tutor_response']);
    expect(Object.values(done.eventIds).sort()).toEqual(events.map((e) => e.id).sort());
    const rows = await usageRows(sessionId);
    expect(rows.map((r) => r.capability).sort()).toEqual(['eval', 'stt', 'tts']);
    // The stable interim ('저는 학생입니다' at stability 0.9) was graded ahead and adopted.
    expect(done.calls.map((c: { purpose: string }) => c.purpose)).toEqual(['transcribe answer', 'grade answer (started ahead)', 'speak reply']);
    for (const r of rows) expect(events.some((e) => e.id === r.event_id)).toBe(true);
    const rowCost = rows.reduce((sum, r) => sum + Number(r.cost_usd ?? 0), 0);
    expect(rowCost).toBeCloseTo(done.costUsd, 6);
  });

  it.each([
    ['not JSON', (ws: WebSocket) => ws.send('{oops'), /not JSON/],
    ['audio before start', (ws: WebSocket) => ws.send(Buffer.alloc(10)), /audio frame before start/],
    ['an unknown field', (ws: WebSocket) => ws.send(start({ color: 'red' })), /start\.color/],
    ['LINEAR16 without a rate', (ws: WebSocket) => ws.send(start({ sampleRateHertz: undefined })), /start\.sampleRateHertz/],
    ['end before start', (ws: WebSocket) => ws.send(JSON.stringify({ type: 'end' })), /end before start/],
  ])('closes 4400 on a bad frame: %s, naming the problem', async (_what, misbehave, problem) => {
    const t = await open();
    misbehave(t.ws);
    const closed = await t.closed;
    expect(closed.code).toBe(LIVE_CLOSE.badFrame);
    const error = t.messages.find((m) => m.type === 'error')!;
    expect(error.code).toBe('bad_frame');
    expect(error.message).toMatch(problem);
  });

  it('a bad frame mid-turn closes 4400 and the STT attempt already under way keeps its usage row', async () => {
    const t = await open();
    const sessionId = crypto.randomUUID();
    t.ws.send(start({ sessionId }));
    await t.next('ready');
    sendAudio(t.ws, synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE }).subarray(0, 2 * RATE * 2));
    await t.next('interim');
    t.ws.send(start());
    expect((await t.closed).code).toBe(LIVE_CLOSE.badFrame);
    const rows = await usageRows(sessionId);
    expect(rows.map((r) => [r.capability, r.success])).toEqual([['stt', false]]);
  });

  it('a client that disconnects mid-turn: the calls are aborted and every attempt keeps its usage row', async () => {
    const t = await open();
    const sessionId = crypto.randomUUID();
    t.ws.send(start({ sessionId }));
    await t.next('ready');
    sendAudio(t.ws, synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE }));
    await t.next('final');
    t.ws.terminate();
    const rows = await usageRows(sessionId);
    // The STT stream, cut off; and the grade of the final result started ahead, finished or aborted.
    expect(rows.filter((r) => r.capability === 'stt').map((r) => r.success)).toEqual([false]);
    expect(rows.filter((r) => r.capability === 'eval')).toHaveLength(1);
    expect(rows.filter((r) => r.capability === 'tts')).toHaveLength(0);
    expect(s.server.client.inFlight()).toBe(0);
  });

  it('closes 4408 when the audio passes maxAudioMs, and when end does not come within maxTurnMs', async () => {
    const long = await open();
    const sessionId = crypto.randomUUID();
    long.ws.send(start({ sessionId }));
    await long.next('ready');
    sendAudio(long.ws, new Uint8Array(2 * RATE * 7));
    const closed = await long.closed;
    expect(closed.code).toBe(LIVE_CLOSE.turnTooLong);
    expect(long.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'turn_too_long' });
    const rows = await usageRows(sessionId);
    expect(rows.every((r) => r.capability === 'stt' && !r.success)).toBe(true);

    const slow = await open();
    slow.ws.send(start());
    await slow.next('ready');
    expect((await slow.closed).code).toBe(LIVE_CLOSE.turnTooLong);
    expect(slow.messages.find((m) => m.type === 'error')!.message).toMatch(/within 3000 ms/);
  });

  it('closes 4408 when compressed audio passes the bytes maxAudioMs of it can take, however fast it is sent', async () => {
    const t = await open();
    const sessionId = crypto.randomUUID();
    t.ws.send(start({ sessionId, encoding: 'OGG_OPUS', sampleRateHertz: undefined }));
    await t.next('ready');
    // 6 s of Opus at its highest bitrate (512 kbit/s) is 384000 bytes (+ 4096 for headers): send 448 KiB at once.
    for (let i = 0; i < 7; i++) t.ws.send(Buffer.alloc(64 * 1024));
    const closed = await t.closed;
    expect(closed.code).toBe(LIVE_CLOSE.turnTooLong);
    expect(t.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'turn_too_long', message: expect.stringMatching(/passed 6000 ms \(more than 388096 bytes of OGG_OPUS\)/) });
    const rows = await usageRows(sessionId);
    expect(rows.every((r) => r.capability === 'stt' && !r.success)).toBe(true);
  });

  it("a reply cut off mid-stream still counts its billed cost in done.costUsd, with the failed call's own costUsd", async () => {
    s.emu.faults.add({ target: 'google-tts', fault: { kind: 'fail_mid_stream', afterResults: 1 } });
    try {
      const t = await open();
      const sessionId = crypto.randomUUID();
      // A Chirp 3 HD voice streams (StreamingSynthesize): the stream fails after its first audio chunk.
      t.ws.send(start({ sessionId, voice: 'ko-KR-Chirp3-HD-Aoede' }));
      await t.next('ready');
      sendAudio(t.ws, synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE }));
      await t.next('final');
      t.ws.send(JSON.stringify({ type: 'end' }));
      const done = await t.next('done');
      expect((await t.closed).code).toBe(LIVE_CLOSE.done);
      expect(t.messages.find((m) => m.type === 'reply_end')!.errorCode).toBeDefined();
      const speak = done.calls.find((c: { purpose: string }) => c.purpose === 'speak reply');
      expect(speak).toMatchObject({ ok: false });
      const rows = await usageRows(sessionId);
      const ttsCost = rows.filter((r) => r.capability === 'tts').reduce((sum, r) => sum + Number(r.cost_usd ?? 0), 0);
      expect(ttsCost).toBeGreaterThan(0);
      expect(speak.costUsd).toBeCloseTo(ttsCost, 6);
      const rowCost = rows.reduce((sum, r) => sum + Number(r.cost_usd ?? 0), 0);
      expect(done.costUsd).toBeCloseTo(rowCost, 6);
    } finally {
      s.emu.faults.clear();
    }
  });

  it('an STT failure on every step closes 4500 with the AiError code', async () => {
    s.emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 400 } });
    s.emu.faults.add({ target: 'whisper', fault: { kind: 'status', status: 400 } });
    try {
      const t = await open();
      t.ws.send(start());
      await t.next('ready');
      sendAudio(t.ws, synthesizeMicrophonePcm('안녕하세요', { sampleRateHertz: RATE }));
      t.ws.send(JSON.stringify({ type: 'end' }));
      expect((await t.closed).code).toBe(LIVE_CLOSE.aiFailed);
      expect(t.messages.find((m) => m.type === 'error')!.code).toBe('exhausted');
    } finally {
      s.emu.faults.clear();
    }
  });
});

describe('GET /v1/turns/live grading ahead of the end of speech', () => {
  let s2: Stack;
  const turns2: LiveTurn[] = [];
  beforeAll(async () => {
    // Every interim is graded ahead: the first guess ('저는') is discarded when the words grow.
    s2 = await startStack({ label: 'live_turn_ahead', live: { speculateAtStability: 0, onTurn: (t) => turns2.push(t) } });
  });
  afterAll(async () => {
    await s2?.close();
  });

  it('a guess the final transcript does not match is aborted, keeps its usage row, and the real transcript is graded', async () => {
    const { ws, messages, closed } = await open(s2.baseUrl);
    const sessionId = crypto.randomUUID();
    ws.send(start({ sessionId }));
    const pcm = synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE });
    // Real-time-ish pacing, so the first interim's grade is under way when the words grow.
    for (let at = 0; at < pcm.length; at += 3200) {
      ws.send(pcm.subarray(at, at + 3200));
      await new Promise((r) => setTimeout(r, 10));
    }
    ws.send(JSON.stringify({ type: 'end' }));
    expect((await closed).code).toBe(LIVE_CLOSE.done);
    const done = messages.find((m) => m.type === 'done')!;
    expect(done.calls.map((c: { purpose: string; ok: boolean }) => [c.purpose, c.ok])).toEqual([
      ['transcribe answer', true],
      ['grade answer ahead (discarded: the transcript changed)', expect.any(Boolean)],
      ['grade answer (started ahead)', true],
      ['speak reply', true],
    ]);
    await Promise.all(turns2.map((t) => t.finished));
    await s2.server.db.sink.flush();
    const rows = await s2.rows<{ provider_type: string; success: boolean }>('SELECT provider_type, success FROM $schema.ai_usage_log WHERE session_id = $1', [sessionId]);
    // Both grades have their row, the discarded one too (finished before it was dropped, or aborted).
    expect(rows.filter((r) => r.provider_type === 'eval')).toHaveLength(2);
    const cost = await s2.rows<{ sum: string }>('SELECT coalesce(sum(estimated_cost_usd), 0)::text AS sum FROM $schema.ai_usage_log WHERE session_id = $1', [sessionId]);
    expect(Number(cost[0]!.sum)).toBeCloseTo(done.costUsd, 6);
    const events = await s2.rows<{ event_type: string }>('SELECT event_type FROM $schema.session_events WHERE session_id = $1', [sessionId]);
    expect(events.map((e) => e.event_type).sort()).toEqual(['evaluation', 'tutor_response', 'user_input']);
  });
});

describe('GET /v1/turns/live during shutdown', () => {
  it('a turn still open when the shutdown deadline passes is closed 1001 and its STT attempt keeps its usage row', async () => {
    const turns3: LiveTurn[] = [];
    const s3 = await startStack({ label: 'live_turn_shutdown', shutdownDeadlineMs: 300, live: { onTurn: (t) => turns3.push(t) } });
    try {
      const { ws, messages, closed } = await open(s3.baseUrl);
      const sessionId = crypto.randomUUID();
      ws.send(start({ sessionId }));
      ws.send(synthesizeMicrophonePcm('저는 학생입니다', { sampleRateHertz: RATE }).subarray(0, 6400));
      await new Promise((r) => setTimeout(r, 100));
      // The learner is still speaking when the server is told to stop.
      const stopping = s3.server.shutdown();
      expect((await closed).code).toBe(LIVE_CLOSE.goingAway);
      expect(messages.find((m) => m.type === 'error')).toMatchObject({ code: 'unavailable' });
      const { forced } = await stopping;
      expect(forced).toBe(true);
      await Promise.all(turns3.map((t) => t.finished));
      const rows = await s3.rows<{ provider_type: string; success: boolean }>('SELECT provider_type, success FROM $schema.ai_usage_log WHERE session_id = $1', [sessionId]);
      expect(rows).toEqual([{ provider_type: 'stt', success: false }]);
    } finally {
      await s3.close();
    }
  });
});
