import { describe, expect, it } from 'vitest';
import { createAiClient } from '../client.js';
import { isAiError, type AiError } from '../errors/ai-error.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { ArraySink, fakeStt, unavailable } from '../testing/fakes.js';
import { FakeClock } from '../testing/fake-clock.js';
import { fakeSttStream } from '../testing/fake-streams.js';
import type { SttStream, SttStreamEvent } from '../spec/streaming.js';
import type { Provider } from '../spec/types.js';
import { EventChannel } from './event-channel.js';
import { SttStreamInterruptedError } from './stream-errors.js';
import { STREAM_AUDIO_HEADER_BYTES, streamAudioByteLimit } from './stt-stream-request.js';

const RATE = 16_000;
/** 100 ms of 16 kHz 16-bit mono PCM, filled with `n` so replays can be told apart. */
const chunk = (n: number): Uint8Array => new Uint8Array(3_200).fill(n);
const REQ = { encoding: 'LINEAR16' as const, sampleRateHertz: RATE, maxAudioMs: 10_000 };

function setup(providers: Record<string, Provider>, policy: Record<string, unknown> = {}, extra: { budgetStore?: MemoryBudgetStore } = {}) {
  const clock = new FakeClock();
  const sink = new ArraySink();
  const { stt: sttPolicy, ...rest } = policy;
  const stt = { chain: Object.keys(providers), retry: { maxAttempts: 1 }, ...(sttPolicy as object) };
  const client = createAiClient({ policy: { ...rest, capabilities: { stt } }, providers, clock, sinks: [sink], random: () => 0, ...extra });
  return { clock, sink, client };
}

/** Reads a stream to its end in the background: the events, then the error it threw. */
function drain(stream: SttStream): { events: SttStreamEvent[]; done: Promise<AiError | undefined> } {
  const events: SttStreamEvent[] = [];
  const done = (async () => {
    try {
      for await (const e of stream) events.push(e);
      return undefined;
    } catch (e) {
      return e as AiError;
    }
  })();
  return { events, done };
}

async function speak(mic: EventChannel<Uint8Array>, clock: FakeClock, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    mic.push(chunk(n));
    await clock.advance(100);
  }
}

describe('stt.transcribeStream', () => {
  it('streams interim and final events, joins the finals, one usage row at the exact cost', async () => {
    const a = fakeSttStream([{ finalsAfter: [2] }]);
    const { clock, sink, client } = setup({ a });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    const { events, done } = drain(stream);
    await speak(mic, clock, 1, 3);
    mic.end();
    await clock.advance(0);
    const r = await stream.result;
    expect(await done).toBeUndefined();
    expect(events.map((e) => e.transcript)).toEqual(['interim-1', 'interim-2', 'final-2', 'interim-3', 'final-3']);
    expect(r.transcript).toBe('final-2 final-3');
    expect(r.audioDurationMs).toBe(300);
    // whisper-1: $0.006 per minute billed per started second: 300 ms bills 1 s
    expect(r.meta.costUsd).toBe(0.0001);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: true, audioDurationMs: 300, estimatedCostUsd: 0.0001, providerType: 'stt' });
  });

  it('no result within firstResultTimeoutMs: the next step gets the buffered audio as one sync request, one event stream, a row per attempt', async () => {
    const a = fakeSttStream([{ stall: true }]);
    const b = fakeStt([{ ok: true }], { audioDurationMs: 500 });
    const { clock, sink, client } = setup({ a, b }, { stt: { firstResultTimeoutMs: 250 } });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    const { events, done } = drain(stream);
    await speak(mic, clock, 1, 3); // 300 ms: the first result was due at 250
    expect(a.received[0]!.length).toBeGreaterThanOrEqual(3);
    expect(b.calls).toHaveLength(0); // a sync step waits for the end of the audio
    await speak(mic, clock, 4, 5);
    mic.end();
    await clock.advance(0);
    const r = await stream.result;
    expect(await done).toBeUndefined();
    expect(events).toEqual([{ type: 'final', transcript: '안녕하세요', confidence: 0.9, endMs: 500 }]);
    expect(r.meta.providerKey).toBe('b');
    expect(r.meta.attempts.map((x) => [x.providerKey, x.outcome, x.errorCode])).toEqual([
      ['a', 'error', 'timeout'],
      ['b', 'success', undefined],
    ]);
    expect(sink.records.map((x) => x.success)).toEqual([false, true]);
    expect(sink.records[0]!.errorMessage).toMatch(/firstResultTimeoutMs \(250 ms\)/);
    // The failed attempt billed what it was sent (3 chunks when the timer fired, as the fake reports).
    expect(sink.records[0]!.audioDurationMs).toBe(a.received[0]!.length * 100);
    expect(r.meta.costUsd).toBe(Number(((sink.records[0]!.estimatedCostUsd ?? 0) + (sink.records[1]!.estimatedCostUsd ?? 0)).toFixed(6)));
  });

  it('replays every buffered chunk, in order, to a streaming fallback after a failure before the first final', async () => {
    const a = fakeSttStream([{ failAfterChunks: { chunks: 2, error: unavailable() } }]);
    const b = fakeSttStream([{}]);
    const { clock, client } = setup({ a, b });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    const { events, done } = drain(stream);
    await speak(mic, clock, 1, 4);
    mic.end();
    const r = await stream.result;
    await done;
    expect(b.received[0]!.map((c) => c[0])).toEqual([1, 2, 3, 4]);
    // a's interim came first, then b's whole stream: one continuous sequence for the caller.
    expect(events.map((e) => e.transcript)).toEqual(['interim-1', 'interim-1', 'interim-2', 'interim-3', 'interim-4', 'final-4']);
    expect(r.transcript).toBe('final-4');
    expect(r.meta.attempts.map((x) => x.outcome)).toEqual(['error', 'success']);
  });

  it('a failure after a final ends the call with a typed error carrying the finals; no fallback', async () => {
    const a = fakeSttStream([{ finalsAfter: [1], failAfterChunks: { chunks: 3, error: unavailable() } }]);
    const b = fakeSttStream([{}]);
    const { clock, sink, client } = setup({ a, b });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    const { events, done } = drain(stream);
    await speak(mic, clock, 1, 3);
    const error = await stream.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SttStreamInterruptedError);
    const e = error as SttStreamInterruptedError;
    expect(isAiError(e)).toBe(true);
    expect(e.code).toBe('unavailable');
    expect(e.retryable).toBe(false);
    expect(e.finals).toEqual([{ type: 'final', transcript: 'final-1', confidence: 0.9, endMs: 100 }]);
    expect(e.transcript).toBe('final-1');
    expect(await done).toBe(e);
    expect(events.map((x) => x.type)).toEqual(['interim', 'final', 'interim']);
    expect(b.received).toHaveLength(0);
    expect(sink.records).toHaveLength(1);
  });

  it('audio past maxAudioMs ends the call with invalid_request naming the field, the attempt still recorded', async () => {
    const a = fakeSttStream([{}]);
    const { clock, sink, client } = setup({ a });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, { ...REQ, maxAudioMs: 250 });
    await speak(mic, clock, 1, 3);
    const error = (await stream.result.catch((e: unknown) => e)) as AiError;
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(/audio: longer than the request's maxAudioMs \(250 ms\)/);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'invalid_request' });
  });

  it('compressed audio sent faster than real time is refused past the bytes maxAudioMs can hold: invalid_request, nothing billed past the reservation, the attempt recorded', async () => {
    const store = new MemoryBudgetStore();
    // 100 ms of Opus at its highest bitrate (512 kbit/s) is 6400 bytes; the fake bills 100 ms per chunk.
    const a = fakeSttStream([{ interims: false }]);
    const { clock, sink, client } = setup({ a }, { budget: { perSessionUsd: 1 } }, { budgetStore: store });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, { encoding: 'OGG_OPUS', maxAudioMs: 1_000 }, { sessionId: 's1' });
    drain(stream);
    await clock.advance(0);
    // maxAudioMs 1 s on whisper-1 ($0.006 a minute) reserves 100 micro-USD.
    expect((await store.usage('session:s1')).reservedMicro).toBe(100);
    // Three seconds of it at once, the clock standing still.
    for (let n = 1; n <= 30; n++) mic.push(new Uint8Array(6_400).fill(n));
    mic.end();
    const error = (await stream.result.catch((e: unknown) => e)) as AiError;
    await client.close();
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(/audio: 70400 bytes of OGG_OPUS are more than the request's maxAudioMs \(1000 ms\) can hold \(at most 68096 bytes\)/);
    expect(a.received[0]).toHaveLength(10);
    expect(await store.usage('session:s1')).toEqual({ spentMicro: 100, reservedMicro: 0 });
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'invalid_request', audioDurationMs: 1_000 });
  });

  it('OGG_OPUS is measured by its pages\' granule positions: low-bitrate audio sent at once is refused past maxAudioMs, nothing billed past the reservation', async () => {
    /** An Ogg page ending at `granule` (48 kHz samples) with one 40-byte packet: 100 ms of Opus at 3.2 kbit/s. */
    const page = (granule: number): Uint8Array => {
      const p = new Uint8Array(28 + 40);
      p.set([0x4f, 0x67, 0x67, 0x53]);
      new DataView(p.buffer).setBigInt64(6, BigInt(granule), true);
      p[26] = 1;
      p[27] = 40;
      return p;
    };
    const store = new MemoryBudgetStore();
    const a = fakeSttStream([{ interims: false }]);
    const { sink, client } = setup({ a }, { budget: { perSessionUsd: 1 } }, { budgetStore: store });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, { encoding: 'OGG_OPUS', maxAudioMs: 1_000 }, { sessionId: 's1' });
    drain(stream);
    // Three seconds in 2 KB, far under the byte bound, the clock standing still.
    for (let n = 1; n <= 30; n++) mic.push(page(n * 4_800));
    mic.end();
    const error = (await stream.result.catch((e: unknown) => e)) as AiError;
    await client.close();
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(/audio: longer than the request's maxAudioMs \(1000 ms\)/);
    expect(a.received[0]).toHaveLength(10);
    expect(await store.usage('session:s1')).toEqual({ spentMicro: 100, reservedMicro: 0 });
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'invalid_request', audioDurationMs: 1_000 });
  });

  it('streamAudioByteLimit: LINEAR16 exactly, compressed audio at its highest bitrate plus the header allowance', () => {
    expect(streamAudioByteLimit({ encoding: 'LINEAR16', sampleRateHertz: 16_000, maxAudioMs: 1_000 })).toBe(32_000);
    expect(streamAudioByteLimit({ encoding: 'OGG_OPUS', maxAudioMs: 60_000 })).toBe(60 * 64_000 + STREAM_AUDIO_HEADER_BYTES);
    expect(streamAudioByteLimit({ encoding: 'WEBM_OPUS', maxAudioMs: 60_000 })).toBe(60 * 64_000 + STREAM_AUDIO_HEADER_BYTES);
    expect(streamAudioByteLimit({ encoding: 'MP3', maxAudioMs: 60_000 })).toBe(60 * 40_000 + STREAM_AUDIO_HEADER_BYTES);
    // FLAC: 16-bit mono PCM at the rate plus 1/16, 48 kHz when no rate is named.
    expect(streamAudioByteLimit({ encoding: 'FLAC', sampleRateHertz: 16_000, maxAudioMs: 1_000 })).toBe(34_000 + STREAM_AUDIO_HEADER_BYTES);
    expect(streamAudioByteLimit({ encoding: 'FLAC', maxAudioMs: 1_000 })).toBe(102_000 + STREAM_AUDIO_HEADER_BYTES);
  });

  it('refuses bad requests naming each field, before any provider call', async () => {
    const a = fakeSttStream([{}]);
    const { client } = setup({ a });
    const mic = new EventChannel<Uint8Array>();
    const e1 = (await client.stt.transcribeStream(mic, { encoding: 'LINEAR16' } as never).result.catch((e: unknown) => e)) as AiError;
    expect(e1.code).toBe('invalid_request');
    expect(e1.message).toMatch(/sampleRateHertz: required for LINEAR16/);
    expect(e1.message).toMatch(/maxAudioMs: required/);
    const e2 = (await client.stt.transcribeStream([] as never, { encoding: 'AAC', maxAudioMs: 1.5, interimResults: 'yes' } as never).result.catch((e: unknown) => e)) as AiError;
    expect(e2.message).toMatch(/audio: must be an AsyncIterable/);
    expect(e2.message).toMatch(/encoding: must be one of/);
    expect(e2.message).toMatch(/maxAudioMs: must be a positive integer/);
    expect(e2.message).toMatch(/interimResults: must be a boolean/);
    expect(a.received).toHaveLength(0);
  });

  it('reserves the cost of maxAudioMs before the stream opens, and settles to the billed duration', async () => {
    const store = new MemoryBudgetStore();
    const a = fakeSttStream([{}]);
    // maxAudioMs 60 s on whisper-1 is $0.006: a $0.005 session cap refuses it before any audio is sent.
    const refused = setup({ a }, { budget: { perSessionUsd: 0.005 } }, { budgetStore: store });
    const mic = new EventChannel<Uint8Array>();
    const e = (await refused.client.stt.transcribeStream(mic, { ...REQ, maxAudioMs: 60_000 }, { sessionId: 's1' }).result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('budget_exceeded');
    expect(a.received).toHaveLength(0);

    const store2 = new MemoryBudgetStore();
    const ok = setup({ a: fakeSttStream([{}]) }, { budget: { perSessionUsd: 0.01 } }, { budgetStore: store2 });
    const mic2 = new EventChannel<Uint8Array>();
    const stream = ok.client.stt.transcribeStream(mic2, { ...REQ, maxAudioMs: 60_000 }, { sessionId: 's2' });
    drain(stream);
    await ok.clock.advance(0);
    expect((await store2.usage('session:s2')).reservedMicro).toBe(6_000);
    await speak(mic2, ok.clock, 1, 2);
    mic2.end();
    const r = await stream.result;
    await ok.client.close();
    expect(r.audioDurationMs).toBe(200);
    expect(r.meta.costUsd).toBe(0.0001);
    expect(await store2.usage('session:s2')).toEqual({ spentMicro: 100, reservedMicro: 0 });
  });

  it('the deadline runs from the end of the audio: a long turn is fine, a stall after it times out', async () => {
    const a = fakeSttStream([{ finalsAfter: [] , stall: false }, {}]);
    const { clock, client } = setup({ a }, { stt: { deadlineMs: 1_000, attemptTimeoutMs: 500 } });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    drain(stream);
    await speak(mic, clock, 1, 30); // 3 s of audio, three times deadlineMs
    mic.end();
    expect((await stream.result).transcript).toBe('final-30');

    const stalled = fakeSttStream([{ stall: true }]);
    const s2 = setup({ stalled }, { stt: { deadlineMs: 1_000, attemptTimeoutMs: 500, firstResultTimeoutMs: 100_000 } });
    const mic2 = new EventChannel<Uint8Array>();
    const stream2 = s2.client.stt.transcribeStream(mic2, REQ);
    drain(stream2);
    await speak(mic2, s2.clock, 1, 30);
    mic2.end();
    let settled = false;
    stream2.result.catch(() => (settled = true));
    await s2.clock.advance(499);
    expect(settled).toBe(false);
    await s2.clock.advance(1);
    const e = (await stream2.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('exhausted');
    expect(e.attempts?.[0]?.errorCode).toBe('timeout');
  });

  it('an open breaker skips the streaming provider as for one-shot calls', async () => {
    const a = fakeSttStream([{ failAfterChunks: { chunks: 1, error: unavailable() } }]);
    const b = fakeSttStream([{}]);
    const { clock, sink, client } = setup({ a, b }, { stt: { circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } } });
    for (let i = 0; i < 2; i++) {
      const mic = new EventChannel<Uint8Array>();
      const stream = client.stt.transcribeStream(mic, REQ);
      drain(stream);
      await speak(mic, clock, 1, 2);
      mic.end();
      await stream.result;
    }
    expect(a.received).toHaveLength(1);
    expect(sink.records.map((r) => [r.providerName, r.success, r.errorCode])).toEqual([
      ['fake-stt-stream', false, 'unavailable'],
      ['fake-stt-stream', true, undefined],
      ['fake-stt-stream', false, 'circuit_open'],
      ['fake-stt-stream', true, undefined],
    ]);
    expect(client.breakerStates()['stt:a']).toBe('open');
  });

  it('the caller aborting mid-stream ends the call cancelled, the attempt recorded', async () => {
    const a = fakeSttStream([{}]);
    const { clock, sink, client } = setup({ a });
    const mic = new EventChannel<Uint8Array>();
    const controller = new AbortController();
    const stream = client.stt.transcribeStream(mic, REQ, { signal: controller.signal });
    drain(stream);
    await speak(mic, clock, 1, 2);
    controller.abort();
    const e = (await stream.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('cancelled');
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'cancelled', audioDurationMs: 200 });
    expect(client.inFlight()).toBe(0);
  });

  it('a stream holds its rate-limit slot while it runs: a second one waits, then is refused rate_limited', async () => {
    const a = fakeSttStream([{}]);
    const { clock, sink, client } = setup({ a }, { stt: { rateLimit: { maxConcurrent: 1, maxWaitMs: 300 } } });
    const mic1 = new EventChannel<Uint8Array>();
    const first = client.stt.transcribeStream(mic1, REQ);
    drain(first);
    await speak(mic1, clock, 1, 1);
    const second = client.stt.transcribeStream(new EventChannel<Uint8Array>(), REQ);
    drain(second);
    await clock.advance(300);
    const e = (await second.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('exhausted');
    expect(e.attempts?.map((x) => x.errorCode)).toEqual(['rate_limited']);
    mic1.end();
    expect((await first.result).transcript).toBe('final-1');
    expect(a.received).toHaveLength(1);
    expect(sink.records.map((r) => r.errorCode ?? 'ok').sort()).toEqual(['ok', 'rate_limited']);
  });

  it('client.close() waits for a stream within its share, then cancels it; the attempt keeps its row', async () => {
    const clock = new FakeClock();
    const sink = new ArraySink();
    const a = fakeSttStream([{}]);
    const client = createAiClient({ policy: { capabilities: { stt: { chain: ['a'] } } }, providers: { a }, clock, sinks: [sink], closeTimeoutMs: 2_000, closeSinks: false });
    const mic = new EventChannel<Uint8Array>();
    const stream = client.stt.transcribeStream(mic, REQ);
    drain(stream);
    await speak(mic, clock, 1, 2);
    let closed = false;
    const closing = client.close().then(() => (closed = true));
    await clock.advance(500);
    expect(closed).toBe(false); // the stream still runs: the microphone is open
    await clock.advance(1_000);
    const e = (await stream.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('cancelled');
    await closing;
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: false, errorCode: 'cancelled' });
  });
});
