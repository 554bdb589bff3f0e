import { createAiClient, isAiError, TtsStreamInterruptedError } from '@korean-together/core';
import { oggOpusProblem } from '@korean-together/core/provider-kit';
import { ArraySink } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { collect, testAttempt } from '../shared/test-context.js';
import { googleTts } from './google-tts.js';
import type { TextToSpeechClientOptions } from './options.js';

const emu = useEmulators();
const open = (opts: Parameters<typeof googleTts>[0] = {}) => emu.closeAfterAll(googleTts({ clientOptions: emu.google.clientOptions as TextToSpeechClientOptions, ...opts }));
const CHIRP = 'ko-KR-Chirp3-HD-Aoede';

async function* pieces(...texts: string[]): AsyncGenerator<string> {
  for (const t of texts) yield t;
}

/** Sentences arriving `everyMs` apart, as an LLM reply streams in. */
async function* slowly(everyMs: number, texts: string[]): AsyncGenerator<string> {
  for (const t of texts) {
    await new Promise((r) => setTimeout(r, everyMs));
    yield t;
  }
}

describe('googleTts().synthesizeStream on the real TextToSpeechClient against the StreamingSynthesize emulator', () => {
  it('a Chirp 3 HD voice streams headerless PCM 24 kHz chunks; billed the characters sent', async () => {
    const tts = open({ voice: CHIRP });
    const before = emu.hits.count('google-tts', CHIRP);
    const stream = tts.synthesizeStream(pieces('안녕하세요. 오늘', '은 날씨가 좋네요.'), {}, testAttempt(20_000).ctx);
    const chunks = await collect(stream);
    expect(chunks.length).toBeGreaterThan(1);
    const pcm = Buffer.concat(chunks);
    expect(pcm.subarray(0, 4).toString('latin1')).not.toBe('RIFF');
    expect(pcm.length % 2).toBe(0);
    expect(await stream.usage).toEqual({ characters: [...'안녕하세요. 오늘은 날씨가 좋네요.'].length, requests: 1, modelId: CHIRP });
    expect(emu.hits.count('google-tts', CHIRP) - before).toBe(1);
  });

  it('OGG_OPUS chunks join into one valid Ogg Opus stream', async () => {
    const tts = open({ voice: CHIRP });
    const chunks = await collect(tts.synthesizeStream(pieces('잘 부탁드립니다.'), { audioEncoding: 'OGG_OPUS' }, testAttempt(20_000).ctx));
    expect(oggOpusProblem(Buffer.concat(chunks))).toBeUndefined();
  });

  it('a voice without streaming speaks sentence by sentence over SynthesizeSpeech, headerless PCM like a streaming voice', async () => {
    const tts = open({ voice: 'ko-KR-Wavenet-A' });
    const before = emu.hits.count('google-tts', 'ko-KR-Wavenet-A');
    const stream = tts.synthesizeStream(pieces('안녕하세요. 만나서 ', '반가워요!'), {}, testAttempt(20_000).ctx);
    const chunks = await collect(stream);
    expect(chunks).toHaveLength(2);
    for (const c of chunks) expect(Buffer.from(c.subarray(0, 4)).toString('latin1')).not.toBe('RIFF');
    expect(emu.hits.count('google-tts', 'ko-KR-Wavenet-A') - before).toBe(2);
    expect((await stream.usage).characters).toBe([...'안녕하세요.'].length + [...'만나서 반가워요!'].length);
  });

  // A reply that keeps arriving for three times the call's deadlineMs: the deadline runs from
  // the latest piece, so neither the gRPC stream nor a later sentence's request may time out at
  // the first deadline.
  const SLOW_REPLY = ['첫째 문장입니다. ', '둘째 문장입니다. ', '셋째 문장입니다. ', '넷째 문장입니다. ', '다섯째 문장입니다. ', '여섯째 문장입니다.'];
  for (const voice of [CHIRP, 'ko-KR-Wavenet-A']) {
    it(`through the client: text arriving over longer than deadlineMs is all spoken (${voice})`, async () => {
      const sink = new ArraySink();
      const client = createAiClient({
        policy: { capabilities: { tts: { chain: ['tts'], retry: { maxAttempts: 1 }, deadlineMs: 300, attemptTimeoutMs: 300 } } },
        providers: { tts: googleTts({ voice, clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }) },
        sinks: [sink],
      });
      try {
        const before = emu.hits.count('google-tts', voice);
        const stream = client.tts.synthesizeStream(slowly(150, SLOW_REPLY), {});
        const chunks = await collect(stream);
        const r = await stream.result;
        expect(r.meta.latencyMs).toBeGreaterThan(600); // the test means nothing if the text came in faster
        expect(r.meta.attempts.map((a) => a.outcome)).toEqual(['success']);
        // Billed: every character sent (sentence by sentence, each sentence without its trailing space).
        expect(r.characters).toBe([...(voice === CHIRP ? SLOW_REPLY.join('') : SLOW_REPLY.map((t) => t.trim()).join(''))].length);
        expect(Buffer.concat(chunks).length).toBe(r.audio.length);
        expect(r.audio.length).toBeGreaterThan(0);
        // Streaming: one StreamingSynthesize; sentence by sentence: one SynthesizeSpeech per sentence.
        expect(emu.hits.count('google-tts', voice) - before).toBe(voice === CHIRP ? 1 : SLOW_REPLY.length);
        if (voice !== CHIRP) expect(chunks).toHaveLength(SLOW_REPLY.length);
        expect(sink.records.map((x) => x.success)).toEqual([true]);
      } finally {
        await client.close();
      }
    });
  }

  it('refuses a speaking rate streaming does not allow, naming the field', async () => {
    const tts = open({ voice: CHIRP });
    let error: unknown;
    try {
      tts.synthesizeStream(pieces('네.'), { speakingRate: 3 }, testAttempt().ctx);
    } catch (e) {
      error = e;
    }
    expect(isAiError(error) && error.code).toBe('invalid_request');
    expect((error as Error).message).toMatch(/speakingRate: must be at most 2/);
  });

  it('through the client: a slow first chunk falls back to the next step before any audio; a failure after the first chunk does not', async () => {
    const sink = new ArraySink();
    const client = createAiClient({
      policy: { capabilities: { tts: { chain: ['chirp', 'wavenet'], retry: { maxAttempts: 1 }, firstAudioTimeoutMs: 300 } } },
      providers: { chirp: googleTts({ voice: CHIRP, clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }), wavenet: googleTts({ voice: 'ko-KR-Wavenet-A', clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }) },
      sinks: [sink],
    });
    try {
      emu.faults.add({ target: 'google-tts', fault: { kind: 'slow_first_chunk', ms: 2_000 }, times: 1 });
      const stream = client.tts.synthesizeStream(pieces('안녕하세요. ', '반가워요.'), {});
      const chunks = await collect(stream);
      const r = await stream.result;
      expect(chunks.length).toBe(2);
      expect(r.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
        ['chirp', 'error', 'timeout'],
        ['wavenet', 'success', undefined],
      ]);
      expect(sink.records.map((x) => x.success)).toEqual([false, true]);

      emu.faults.add({ target: 'google-tts', fault: { kind: 'fail_mid_stream', afterResults: 1, status: 14 }, times: 1 });
      const failing = client.tts.synthesizeStream(pieces('하나. 둘. 셋. 넷.'), {});
      const got: Uint8Array[] = [];
      const error = await (async () => {
        for await (const c of failing) got.push(c);
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TtsStreamInterruptedError);
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect((error as TtsStreamInterruptedError).chunksDelivered).toBe(got.length);
      // No fallback after audio was yielded: one more row (chirp's), none for wavenet.
      expect(sink.records.slice(2).map((x) => [x.modelId, x.success])).toEqual([[CHIRP, false]]);
    } finally {
      await client.close();
    }
  });
});
