import { createAiClient, isAiError, type SttStreamEvent } from '@korean-together/core';
import { parseWav } from '@korean-together/core/provider-kit';
import { ArraySink } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { synthesizeMicrophonePcm, synthesizeWav } from '../emulators/audio.js';
import { audioChunks, collect, rejection, testAttempt } from '../shared/test-context.js';
import { whisperStt } from '../whisper/whisper-stt.js';
import { googleStt } from './google-stt.js';
import { v2ClientOptions } from './google-stt-v2.js';
import type { GoogleSttOptions, SpeechClientOptions } from './options.js';

const emu = useEmulators();
const v2 = (opts: GoogleSttOptions = {}): GoogleSttOptions => ({ api: 'v2', project: 'emulator-project', clientOptions: emu.google.clientOptions as SpeechClientOptions, ...opts });
const open = (opts: GoogleSttOptions = {}) => emu.closeAfterAll(googleStt(v2(opts)));
const RATE = 16_000;
const REQ = { encoding: 'LINEAR16' as const, sampleRateHertz: RATE, maxAudioMs: 60_000 };
const SAID = '저는 학생입니다';
const mic = () => synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
const billedMsOf = (pcm: Uint8Array) => Math.ceil(pcm.length / 2 / RATE) * 1000;

describe("googleStt({ api: 'v2' }) on the real v2 SpeechClient against the v2 StreamingRecognize emulator", () => {
  it('streams interim results and the final (Chirp 2 through the recognizer), billed metadata.total_billed_duration', async () => {
    const stt = open();
    expect([stt.name, stt.modelId]).toEqual(['google-stt', 'chirp_2']);
    const audio = mic();
    const stream = stt.transcribeStream(audioChunks(audio, 3_200), REQ, testAttempt(20_000).ctx);
    const events = await collect(stream);
    expect(events.filter((e) => e.type === 'interim').map((e) => e.transcript)).toContain('저는');
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((e) => e.transcript)).toEqual([SAID]);
    expect(finals[0]!.endMs).toBeGreaterThan(0);
    expect((await stream.usage).audioDurationMs).toBe(billedMsOf(audio));
    expect(emu.hits.count('google-stt', 'chirp_2')).toBe(1);
  });

  it('interimResults: false sends no interim event', async () => {
    const events = await collect(open().transcribeStream(audioChunks(mic(), 3_200), { ...REQ, interimResults: false }, testAttempt(20_000).ctx));
    expect(events.map((e) => [e.type, e.transcript])).toEqual([['final', SAID]]);
  });

  it('splits a chunk larger than 25,600 bytes into several requests (the service refuses larger ones)', async () => {
    const audio = mic();
    expect(audio.length).toBeGreaterThan(25_600);
    const events = await collect(open().transcribeStream(audioChunks(audio, audio.length), REQ, testAttempt(20_000).ctx));
    expect(events.filter((e) => e.type === 'final').map((e) => e.transcript)).toEqual([SAID]);
  });

  it('opens the next stream when one is full and bills every stream', async () => {
    const stt = open({ maxStreamAudioMs: 500 });
    const audio = mic();
    const before = emu.hits.count('google-stt', 'chirp_2');
    const stream = stt.transcribeStream(audioChunks(audio, 3_200), REQ, testAttempt(20_000).ctx);
    const events = await collect(stream);
    const streams = emu.hits.count('google-stt', 'chirp_2') - before;
    expect(streams).toBe(Math.ceil(((audio.length / 2 / RATE) * 1000) / 500));
    expect((await stream.usage).audioDurationMs).toBeGreaterThanOrEqual(streams * 1000);
    const ends = events.filter((e) => e.type === 'final').map((e) => (e as { endMs: number }).endMs);
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1]!);
  });

  it('singleUtterance (which v2 lacks): the stream half-closes after the first final although the microphone stays open', async () => {
    const events = await collect(open().transcribeStream(audioChunks(mic(), 3_200, true), { ...REQ, singleUtterance: true, interimResults: false }, testAttempt(20_000).ctx));
    expect(events.map((e) => [e.type, e.transcript])).toEqual([['final', SAID]]);
  });

  it('one-shot transcribe sends a WAV on one stream (auto decoding) and joins the finals', async () => {
    const text = '안녕하세요. 저는 한국어를 공부하는 학생입니다.';
    const audio = synthesizeWav(text);
    const res = await open().transcribe({ audio, encoding: 'LINEAR16' }, testAttempt(20_000).ctx);
    expect(res.transcript).toBe(text);
    expect(res.audioDurationMs).toBe(Math.ceil(parseWav(audio)!.durationMs / 1000) * 1000);
  });

  it('maps a failure before the first result to a typed retryable AiError, with no hidden client retry', async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result', status: 14 }, times: 1 });
    const before = emu.hits.count('google-stt');
    const error = await collect(open().transcribeStream(audioChunks(mic(), 3_200), REQ, testAttempt(20_000).ctx)).catch((e: unknown) => e);
    expect(isAiError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'unavailable', retryable: true, provider: 'google-stt' });
    expect((error as Error).message).toMatch(/^google-stt: v2 StreamingRecognize failed with gRPC UNAVAILABLE \(14\)/);
    expect(emu.hits.count('google-stt') - before).toBe(1);
  });

  it('maps RESOURCE_EXHAUSTED with RetryInfo to rate_limited with retryAfterMs, and a mid-stream failure to unavailable', async () => {
    emu.faults.add({ target: 'google-stt', model: 'chirp_2', fault: { kind: 'status', status: 8, retryAfterSeconds: 2.5 }, times: 1 });
    const limited = await collect(open().transcribeStream(audioChunks(mic(), 3_200), REQ, testAttempt(20_000).ctx)).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 2500, provider: 'google-stt' });
    emu.faults.add({ target: 'google-stt', model: 'chirp_2', fault: { kind: 'fail_mid_stream', afterResults: 1, status: 14 }, times: 1 });
    const seen: SttStreamEvent[] = [];
    const mid = await (async () => {
      for await (const e of open().transcribeStream(audioChunks(mic(), 3_200), REQ, testAttempt(20_000).ctx)) seen.push(e);
    })().catch((e: unknown) => e);
    expect(seen.length).toBeGreaterThan(0);
    expect(mid).toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('through the client: the usage row carries modelId chirp_2 and the exact v2 cost of the billed seconds', async () => {
    const sink = new ArraySink();
    const client = createAiClient({ policy: { capabilities: { stt: { chain: ['google'] } } }, providers: { google: googleStt(v2()) }, sinks: [sink] });
    try {
      const audio = mic();
      const stream = client.stt.transcribeStream(audioChunks(audio, 3_200), REQ);
      await collect(stream);
      const r = await stream.result;
      expect(r.transcript).toBe(SAID);
      const seconds = billedMsOf(audio) / 1000;
      expect(sink.records.map((x) => [x.modelId, x.success, x.audioDurationMs])).toEqual([['chirp_2', true, seconds * 1000]]);
      // $0.016 per minute, per second.
      expect(sink.records[0]!.estimatedCostUsd).toBe(Number(((seconds * 0.016) / 60).toFixed(6)));
      expect(r.meta.costUsd).toBe(sink.records[0]!.estimatedCostUsd);
    } finally {
      await client.close();
    }
  });

  it('through the client: v2 failing before its first result falls back to Whisper with the buffered audio, a row per attempt', async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result', status: 14 }, times: 1 });
    const sink = new ArraySink();
    const client = createAiClient({
      policy: { capabilities: { stt: { chain: ['chirp', 'whisper'], retry: { maxAttempts: 1 } } } },
      providers: { chirp: googleStt(v2()), whisper: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'test' }) },
      sinks: [sink],
    });
    try {
      const stream = client.stt.transcribeStream(audioChunks(mic(), 3_200), REQ);
      const events = await collect(stream);
      const r = await stream.result;
      expect(events.map((e) => e.type)).toEqual(['final']);
      expect(r.transcript).toBe(SAID);
      expect(r.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
        ['chirp', 'error', 'unavailable'],
        ['whisper', 'success', undefined],
      ]);
      expect(sink.records.map((x) => [x.modelId, x.success])).toEqual([
        ['chirp_2', false],
        ['whisper-1', true],
      ]);
      expect(r.meta.costUsd).toBe(Number(sink.records.reduce((s, x) => s + (x.estimatedCostUsd ?? 0), 0).toFixed(6)));
    } finally {
      await client.close();
    }
  });

  it('validates the options, naming the field', async () => {
    const cases: [GoogleSttOptions, RegExp][] = [
      [{ api: 'v2' }, /project: required for api 'v2'/],
      [{ api: 'v2', project: 'p', location: 'global' }, /location: 'global' does not serve chirp_2/],
      [{ api: 'v2', project: 'p', location: 'US Central' }, /location: must be a Google Cloud location/],
      [{ api: 'v2', recognizer: 'recognizers/_' }, /recognizer: must be projects\/\{project\}\/locations\/\{location\}\/recognizers\/\{id\}/],
      [{ api: 'v2', recognizer: 'projects/p/locations/europe-west4/recognizers/_', location: 'us-central1' }, /location: 'us-central1' differs from the recognizer's location 'europe-west4'/],
      [{ api: 'v2', project: 'p', model: ' ' }, /model: must be a v2 model name/],
      [{ api: 'v3' as never }, /api: must be 'v1' or 'v2'/],
      [{ location: 'us-central1' }, /location: applies to api 'v2' only/],
    ];
    for (const [opts, message] of cases) {
      const e = await rejection(async () => googleStt(opts));
      expect(e).toMatchObject({ code: 'invalid_request', retryable: false });
      expect(e.message).toMatch(message);
    }
  });

  it('points the client at the regional endpoint of the location unless apiEndpoint is given', () => {
    expect(v2ClientOptions({}, 'us-central1').apiEndpoint).toBe('us-central1-speech.googleapis.com');
    expect(v2ClientOptions({}, 'global').apiEndpoint).toBe('speech.googleapis.com');
    expect(v2ClientOptions({ clientOptions: { apiEndpoint: '127.0.0.1' } }, 'us-central1').apiEndpoint).toBe('127.0.0.1');
  });
});
