import { createAiClient, isAiError } from '@korean-together/core';
import { ArraySink } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { synthesizeMicrophonePcm } from '../emulators/audio.js';
import { audioChunks, collect, testAttempt } from '../shared/test-context.js';
import { whisperStt } from '../whisper/whisper-stt.js';
import { googleStt } from './google-stt.js';
import type { SpeechClientOptions } from './options.js';

const emu = useEmulators();
const open = (opts: Parameters<typeof googleStt>[0] = {}) => emu.closeAfterAll(googleStt({ clientOptions: emu.google.clientOptions as SpeechClientOptions, ...opts }));
const RATE = 16_000;
const REQ = { encoding: 'LINEAR16' as const, sampleRateHertz: RATE, maxAudioMs: 60_000 };
const SAID = '저는 학생입니다';

describe('googleStt().transcribeStream on the real SpeechClient against the StreamingRecognize emulator', () => {
  it('streams interim results and the final with its end time; billed the seconds Google reports', async () => {
    const stt = open();
    const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
    const stream = stt.transcribeStream(audioChunks(mic, 3_200), REQ, testAttempt(20_000).ctx);
    const events = await collect(stream);
    expect(events.filter((e) => e.type === 'interim').map((e) => e.transcript)).toContain('저는');
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((e) => e.transcript)).toEqual([SAID]);
    expect(finals[0]!.endMs).toBeGreaterThan(0);
    const audioMs = (mic.length / 2 / RATE) * 1000;
    expect((await stream.usage).audioDurationMs).toBe(Math.ceil(audioMs / 1000) * 1000);
  });

  it('splits a chunk larger than 25,600 bytes into several requests (the service refuses larger ones)', async () => {
    const stt = open();
    const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
    expect(mic.length).toBeGreaterThan(25_600);
    const events = await collect(stt.transcribeStream(audioChunks(mic, mic.length), REQ, testAttempt(20_000).ctx));
    expect(events.filter((e) => e.type === 'final').map((e) => e.transcript)).toEqual([SAID]);
  });

  it('opens the next stream when one is full, transparently, and bills every stream', async () => {
    const stt = open({ maxStreamAudioMs: 500 });
    const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
    const audioMs = (mic.length / 2 / RATE) * 1000;
    const before = emu.hits.count('google-stt');
    const stream = stt.transcribeStream(audioChunks(mic, 3_200), REQ, testAttempt(20_000).ctx);
    const events = await collect(stream);
    const streams = emu.hits.count('google-stt') - before;
    expect(streams).toBe(Math.ceil(audioMs / 500));
    // Every stream bills at least one whole second.
    expect((await stream.usage).audioDurationMs).toBeGreaterThanOrEqual(streams * 1000);
    const ends = events.filter((e) => e.type === 'final').map((e) => (e as { endMs: number }).endMs);
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1]!);
  });

  it('singleUtterance: the stream ends after the utterance although the microphone stays open', async () => {
    const stt = open();
    const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
    const events = await collect(stt.transcribeStream(audioChunks(mic, 3_200, true), { ...REQ, singleUtterance: true, interimResults: false }, testAttempt(20_000).ctx));
    expect(events.map((e) => [e.type, e.transcript])).toEqual([['final', SAID]]);
  });

  it('maps a failure before the first result to a retryable AiError, with no hidden client retry', async () => {
    const stt = open();
    emu.faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result', status: 14 }, times: 1 });
    const before = emu.hits.count('google-stt');
    const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
    const error = await collect(stt.transcribeStream(audioChunks(mic, 3_200), REQ, testAttempt(20_000).ctx)).catch((e: unknown) => e);
    expect(isAiError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'unavailable', retryable: true, provider: 'google-stt' });
    expect(emu.hits.count('google-stt') - before).toBe(1);
  });

  it('through the client: Google failing before its first result hands the buffered audio to Whisper, one event stream, a row per attempt', async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result', status: 14 }, times: 1 });
    const sink = new ArraySink();
    const client = createAiClient({
      policy: { capabilities: { stt: { chain: ['google', 'whisper'], retry: { maxAttempts: 1 } } } },
      providers: { google: googleStt({ clientOptions: emu.google.clientOptions as SpeechClientOptions }), whisper: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'test' }) },
      sinks: [sink],
    });
    try {
      const mic = synthesizeMicrophonePcm(SAID, { sampleRateHertz: RATE });
      const stream = client.stt.transcribeStream(audioChunks(mic, 3_200), REQ);
      const events = await collect(stream);
      const r = await stream.result;
      expect(events.map((e) => e.type)).toEqual(['final']);
      expect(r.transcript).toBe(SAID);
      expect(r.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
        ['google', 'error', 'unavailable'],
        ['whisper', 'success', undefined],
      ]);
      expect(sink.records.map((x) => x.success)).toEqual([false, true]);
      expect(r.meta.costUsd).toBe(Number(sink.records.reduce((s, x) => s + (x.estimatedCostUsd ?? 0), 0).toFixed(6)));
    } finally {
      await client.close();
    }
  });
});
