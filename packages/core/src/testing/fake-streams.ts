// Scripted streaming providers for tests: a recogniser that answers per audio chunk read, a
// synthesiser that answers per text piece read, each failing or stalling where its script says.
import type { AiError } from '../errors/ai-error.js';
import type { Clock } from '../policy/clock.js';
import type { SttProviderStream, SttStreamEvent, SttStreamingCapable, SttStreamRequest, TtsProviderStream, TtsStreamingCapable, TtsStreamRequest } from '../spec/streaming.js';
import type { AttemptContext, SttProvider, TtsProvider } from '../spec/types.js';
import type { FakeOptions } from './fakes.js';

/** What a scripted recognition stream does on one attempt. */
export interface SttStreamScript {
  /** An interim after every chunk read. Default true. */
  interims?: boolean;
  /** A final after reading this many chunks (1-based), besides the one at the end of the audio. */
  finalsAfter?: number[];
  /** Throw `error` right after reading this many chunks. */
  failAfterChunks?: { chunks: number; error: AiError };
  /** Read the audio but answer nothing until aborted. */
  stall?: boolean;
  /** End (like singleUtterance) after this many chunks, without reading the rest. */
  endAfterChunks?: number;
  /** Wait this long on the clock before each event. */
  eventDelayMs?: number;
}

/** What a fake streaming recogniser saw: each attempt's audio chunks and context. */
export interface SttStreamRecorder {
  received: Uint8Array[][];
  contexts: AttemptContext[];
  requests: SttStreamRequest[];
}

/** A streaming recogniser: transcripts 'interim-N' and 'final-N' (N = chunks read), bills `chunkMs` per chunk read. */
export function fakeSttStream(scripts: SttStreamScript[], opts: FakeOptions & { chunkMs?: number } = {}): SttProvider & SttStreamRecorder & SttStreamingCapable {
  const rec: SttStreamRecorder = { received: [], contexts: [], requests: [] };
  const chunkMs = opts.chunkMs ?? 100;
  const provider = Object.assign(rec, {
    capability: 'stt' as const,
    name: opts.name ?? 'fake-stt-stream',
    modelId: opts.modelId ?? 'whisper-1',
    async transcribe(): Promise<never> {
      throw new Error('fakeSttStream: sync transcribe not scripted');
    },
    transcribeStream(audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext): SttProviderStream {
      const script = scripts[Math.min(rec.received.length, scripts.length - 1)]!;
      const got: Uint8Array[] = [];
      rec.received.push(got);
      rec.contexts.push(ctx);
      rec.requests.push(req);
      let settleUsage!: (u: { audioDurationMs: number }) => void;
      const usage = new Promise<{ audioDurationMs: number }>((r) => (settleUsage = r));
      const pause = (ms: number | undefined) => (ms ? wait(ms, ctx.signal, opts.clock) : Promise.resolve());
      async function* events(): AsyncGenerator<SttStreamEvent> {
        try {
          for await (const chunk of audio) {
            got.push(chunk);
            const n = got.length;
            if (script.failAfterChunks && n >= script.failAfterChunks.chunks) throw script.failAfterChunks.error;
            if (script.stall) continue;
            if (script.interims !== false) {
              await pause(script.eventDelayMs);
              yield { type: 'interim', transcript: `interim-${n}`, stability: 0.5 };
            }
            if (script.finalsAfter?.includes(n)) {
              await pause(script.eventDelayMs);
              yield { type: 'final', transcript: `final-${n}`, confidence: 0.9, endMs: n * chunkMs };
            }
            if (script.endAfterChunks === n) return;
          }
          if (script.stall) await wait(Number.MAX_SAFE_INTEGER, ctx.signal, opts.clock);
          await pause(script.eventDelayMs);
          yield { type: 'final', transcript: `final-${got.length}`, confidence: 0.8, endMs: got.length * chunkMs };
        } finally {
          settleUsage({ audioDurationMs: got.length * chunkMs });
        }
      }
      const it = events();
      return { [Symbol.asyncIterator]: () => it, usage };
    },
  });
  return provider;
}

/** What a scripted synthesis stream does on one attempt. */
export interface TtsStreamScript {
  /** Wait this long on the clock before the first chunk. */
  firstChunkDelayMs?: number;
  /** Throw `error` after yielding this many chunks. */
  failAfterChunks?: { chunks: number; error: AiError };
  /** Read the text but yield nothing until aborted. */
  stall?: boolean;
}

export interface TtsStreamRecorder {
  /** Each attempt's text pieces, as read. */
  texts: string[][];
  contexts: AttemptContext[];
}

/** A streaming synthesiser: one chunk per text piece (the piece's UTF-8 bytes), billed per code point read. */
export function fakeTtsStream(scripts: TtsStreamScript[], opts: FakeOptions = {}): TtsProvider & TtsStreamRecorder & TtsStreamingCapable {
  const rec: TtsStreamRecorder = { texts: [], contexts: [] };
  return Object.assign(rec, {
    capability: 'tts' as const,
    name: opts.name ?? 'fake-tts-stream',
    modelId: opts.modelId ?? 'ko-KR-Chirp3-HD-Aoede',
    async synthesize(): Promise<never> {
      throw new Error('fakeTtsStream: sync synthesize not scripted');
    },
    synthesizeStream(text: AsyncIterable<string>, _req: TtsStreamRequest, ctx: AttemptContext): TtsProviderStream {
      const script = scripts[Math.min(rec.texts.length, scripts.length - 1)]!;
      const got: string[] = [];
      rec.texts.push(got);
      rec.contexts.push(ctx);
      let characters = 0;
      let settleUsage!: (u: { characters: number }) => void;
      const usage = new Promise<{ characters: number }>((r) => (settleUsage = r));
      async function* chunks(): AsyncGenerator<Uint8Array> {
        try {
          let yielded = 0;
          for await (const piece of text) {
            got.push(piece);
            characters += [...piece].length;
            if (script.stall) continue;
            if (yielded === 0 && script.firstChunkDelayMs) await wait(script.firstChunkDelayMs, ctx.signal, opts.clock);
            if (script.failAfterChunks && yielded >= script.failAfterChunks.chunks) throw script.failAfterChunks.error;
            yielded++;
            yield new TextEncoder().encode(piece);
          }
          if (script.stall) await wait(Number.MAX_SAFE_INTEGER, ctx.signal, opts.clock);
        } finally {
          settleUsage({ characters });
        }
      }
      const it = chunks();
      return { [Symbol.asyncIterator]: () => it, usage };
    },
  });
}

function wait(ms: number, signal: AbortSignal, clock: Clock | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const big = ms > 2_000_000_000;
    const t = big ? undefined : clock ? clock.setTimeout(resolve, ms) : setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        if (t !== undefined) clock ? clock.clearTimeout(t) : clearTimeout(t as ReturnType<typeof setTimeout>);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
