import { describe, expect, it } from 'vitest';
import { buildWav, pcm16Fmt } from '../audio/wav.js';
import { isAiError } from '../errors/ai-error.js';
import type { AttemptContext, TtsProvider, TtsRequest } from '../spec/types.js';
import { sentenceStream } from './sentence-synthesis.js';

const ctx: AttemptContext = { signal: new AbortController().signal, attempt: 1, deadlineAt: Date.now() + 10_000, attemptDeadlineAt: Date.now() + 10_000 };

/** A one-shot synthesiser answering a WAV at `rate` whose samples are the sentence's index. */
function wavTts(rate: number, seen: TtsRequest[]): TtsProvider {
  return {
    capability: 'tts',
    name: 'wav-tts',
    modelId: 'ko-KR-Wavenet-A',
    async synthesize(req) {
      seen.push(req);
      const data = new Uint8Array(480).fill(seen.length);
      return { audio: buildWav(pcm16Fmt(rate), data), encoding: 'LINEAR16', characters: [...req.text].length };
    },
  };
}

async function* pieces(...texts: string[]): AsyncGenerator<string> {
  for (const t of texts) yield t;
}

describe('sentenceStream', () => {
  it('sends one request per sentence with the stream\'s voice and rate, and yields headerless PCM in sentence order', async () => {
    const seen: TtsRequest[] = [];
    const stream = sentenceStream(wavTts(24_000, seen), pieces('첫째 문장. 둘째', ' 문장! 셋째'), { voice: 'ko-KR-Wavenet-A', speakingRate: 1.2 }, ctx);
    const chunks: Uint8Array[] = [];
    for await (const c of stream) chunks.push(c);
    expect(seen.map((r) => [r.text, r.voice, r.audioEncoding, r.speakingRate])).toEqual([
      ['첫째 문장.', 'ko-KR-Wavenet-A', 'LINEAR16', 1.2],
      ['둘째 문장!', 'ko-KR-Wavenet-A', 'LINEAR16', 1.2],
      ['셋째', 'ko-KR-Wavenet-A', 'LINEAR16', 1.2],
    ]);
    expect(chunks.map((c) => [c.length, c[0]])).toEqual([
      [480, 1],
      [480, 2],
      [480, 3],
    ]);
    expect(await stream.usage).toEqual({ characters: 6 + 6 + 2, requests: 3 });
  });

  it('refuses audio at another rate than the stream\'s, naming it, and still bills what was synthesised', async () => {
    const seen: TtsRequest[] = [];
    const stream = sentenceStream(wavTts(16_000, seen), pieces('하나. 둘.'), {}, ctx);
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(isAiError(error) && error.code).toBe('invalid_request');
    expect((error as Error).message).toMatch(/16000 Hz .* sampleRateHertz is 24000/);
    // Both sentences were started (two in flight) and both were billed.
    expect((await stream.usage).characters).toBe(5); // '하나.' and '둘.'
  });
});
