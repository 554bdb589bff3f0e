// Streaming synthesis for any TTS provider: the text is cut into sentences as it arrives and
// each is synthesised by the provider's one-shot `synthesize`, the next one starting while the
// previous plays; audio comes out in sentence order, the first sentence first.
import { parseWav, wavData } from '../audio/wav.js';
import { AiError } from '../errors/ai-error.js';
import type { TtsProviderStream, TtsStreamRequest } from '../spec/streaming.js';
import type { AttemptContext, TtsProvider, TtsProviderResult, TtsRequest } from '../spec/types.js';
import { EventChannel } from './event-channel.js';
import { SentenceSplitter } from './sentence-split.js';

/** Sentences synthesised at once: the one being played out and the next. */
export const SENTENCES_IN_FLIGHT = 2;
/** LINEAR16 stream rate when the request gives none (Google's streaming default). */
export const DEFAULT_STREAM_RATE_HZ = 24_000;

/**
 * A TtsProviderStream over `provider.synthesize`, one request per sentence. LINEAR16 chunks are
 * headerless PCM (a provider's WAV header is taken off, and a WAV at another rate than the
 * stream's is refused); OGG_OPUS chunks are one Ogg stream per sentence (chained Ogg). `usage`
 * counts the characters of every sentence the provider synthesised, played or not.
 */
export function sentenceStream(provider: TtsProvider, text: AsyncIterable<string>, req: TtsStreamRequest, ctx: AttemptContext): TtsProviderStream {
  const encoding = req.audioEncoding ?? 'LINEAR16';
  const rate = req.sampleRateHertz ?? DEFAULT_STREAM_RATE_HZ;
  const started: Promise<TtsProviderResult>[] = [];
  const queue = new EventChannel<Promise<TtsProviderResult>>();
  let characters = 0;
  let requests = 0;
  let modelId: string | undefined;

  const synth = (sentence: string): Promise<TtsProviderResult> => {
    const one: TtsRequest = { text: sentence, audioEncoding: encoding };
    if (req.voice !== undefined) one.voice = req.voice;
    if (req.speakingRate !== undefined) one.speakingRate = req.speakingRate;
    const p = provider.synthesize(one, sentenceContext(ctx)).then((r) => {
      characters += r.characters;
      requests += r.requests ?? 1;
      modelId ??= r.modelId;
      return r;
    });
    p.catch(() => {});
    started.push(p);
    return p;
  };

  // Reads the text and starts each sentence as soon as it is complete, at most SENTENCES_IN_FLIGHT ahead of the one being played.
  const produce = async (): Promise<void> => {
    const splitter = new SentenceSplitter();
    const start = async (sentence: string): Promise<void> => {
      const ahead = started.length - SENTENCES_IN_FLIGHT;
      if (ahead >= 0) await started[ahead]!.catch(() => {});
      queue.push(synth(sentence));
    };
    try {
      for await (const piece of text) {
        for (const s of splitter.push(piece)) await start(s);
      }
      const rest = splitter.flush();
      if (rest !== undefined) await start(rest);
      queue.end();
    } catch (e) {
      queue.fail(e);
    }
  };

  let producing: Promise<void> | undefined;
  let settleUsage!: (u: { characters: number; requests: number; modelId?: string }) => void;
  const usage = new Promise<{ characters: number; requests: number; modelId?: string }>((r) => (settleUsage = r));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    producing ??= produce();
    try {
      for await (const p of queue) {
        const r = await p;
        yield audioOf(r, encoding, rate, provider.name);
      }
    } finally {
      // Billed: every sentence the provider answered, whether or not it was played.
      void producing.then(() => Promise.allSettled(started)).then(() => settleUsage(modelId === undefined ? { characters, requests } : { characters, requests, modelId }));
    }
  }
  const it = chunks();
  return { [Symbol.asyncIterator]: () => it, usage };
}

/**
 * The context of one sentence's request: the stream's bounds as they are when the sentence
 * starts. A stream's deadline moves while its text arrives, so a copy made when the stream
 * opened would give a late sentence no time at all.
 */
function sentenceContext(ctx: AttemptContext): AttemptContext {
  return { ...ctx, signal: ctx.signal, attempt: ctx.attempt, deadlineAt: ctx.deadlineAt, attemptDeadlineAt: ctx.attemptDeadlineAt };
}

function audioOf(r: TtsProviderResult, encoding: 'LINEAR16' | 'OGG_OPUS', rate: number, who: string): Uint8Array {
  if (encoding !== 'LINEAR16') return r.audio;
  const wav = parseWav(r.audio);
  if (!wav) return r.audio;
  if (wav.sampleRate !== rate || wav.bitsPerSample !== 16 || wav.channels !== 1) {
    throw new AiError('invalid_request', `${who}: synthesised ${wav.sampleRate} Hz ${wav.bitsPerSample}-bit ${wav.channels}-channel audio; the stream's sampleRateHertz is ${rate} (16-bit mono)`, { provider: who, retryable: false });
  }
  return wavData(r.audio, wav);
}
