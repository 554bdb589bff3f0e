// The StreamingRecognize loop that Speech v1 and v2 share: one gRPC bidi stream per ~5 minutes
// of audio (the next one opens transparently), audio requests of at most 25,600 bytes, events
// from each response, the billed time per stream, and errors mapped to AiError. What differs
// between the API versions (request and response shapes, the client) sits in a RecognizeWire.
import { once } from 'node:events';
import { isAiError, type AttemptContext, type SttProviderStream, type SttStreamEvent, type SttStreamRequest } from '@korean-together/core';
import { AttemptScope } from '../shared/attempt-scope.js';
import { mapGoogleCallError } from '../shared/grpc-error.js';
import { durationToMs } from './google-stt.js';

/** Most audio bytes one StreamingRecognizeRequest may carry. */
export const STREAMING_MAX_CHUNK_BYTES = 25_600;
/** Audio sent on one stream before the next is opened: under Google's ~305 s per stream. */
export const STREAMING_MAX_STREAM_AUDIO_MS = 290_000;

/** The google-gax bidi stream of `_streamingRecognize`. */
export interface RecognizeDuplex<Res> extends AsyncIterable<Res> {
  write(chunk: unknown): boolean;
  end(): void;
  cancel(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** One API version's StreamingRecognize, as the loop drives it. */
export interface RecognizeWire<Res> {
  /** Names the call in error messages, e.g. 'StreamingRecognize'. */
  what: string;
  /** Opens one stream with google-gax retries off and `timeoutMs` to the call deadline. */
  open(timeoutMs: number): RecognizeDuplex<Res>;
  /** The first request of every stream (the config). */
  first: object;
  /** One audio request. */
  audio(chunk: Uint8Array): object;
  /** The events of one response, result end times moved by `offsetMs`. */
  events(res: Res, offsetMs: number): SttStreamEvent[];
  /** The billed time a response reports, ms, when it reports one. */
  billedMs(res: Res): number | undefined;
  /** True when the service (or the request's singleUtterance) says the utterance is over. */
  utteranceOver(res: Res, events: readonly SttStreamEvent[]): boolean;
}

/** A recognition result as both versions shape it; `end` is the version's end-time field. */
interface ResultLike {
  alternatives?: { transcript?: string | null; confidence?: number | null }[] | null;
  isFinal?: boolean | null;
  stability?: number | null;
}

/**
 * The events of one response's results: a final event per final result, the interim results
 * joined into one interim event (`stability` of the first).
 */
export function resultEvents<R extends ResultLike>(results: readonly R[] | null | undefined, offsetMs: number, endOf: (r: R) => Parameters<typeof durationToMs>[0]): SttStreamEvent[] {
  const out: SttStreamEvent[] = [];
  const interim: string[] = [];
  let stability: number | undefined;
  for (const r of results ?? []) {
    const alt = r.alternatives?.[0];
    const transcript = alt?.transcript ?? '';
    if (r.isFinal) {
      const ev: SttStreamEvent = { type: 'final', transcript: transcript.trim(), endMs: offsetMs + (durationToMs(endOf(r)) ?? 0) };
      if (alt?.confidence) ev.confidence = alt.confidence;
      out.push(ev);
    } else if (transcript) {
      interim.push(transcript.trim());
      stability ??= r.stability ?? undefined;
    }
  }
  if (interim.length > 0) out.push(stability ? { type: 'interim', transcript: interim.join(' '), stability } : { type: 'interim', transcript: interim.join(' ') });
  return out;
}

export interface LoopOptions {
  provider: string;
  secrets: readonly (string | undefined)[];
  /** Audio per stream before the next opens, ms. */
  maxStreamAudioMs: number;
}

/**
 * One attempt's recognition: reads `audio`, streams it through `wire`, yields events. `usage`
 * resolves with the time Google billed for each stream, or, for a stream that failed before
 * saying, the audio it was sent, rounded up to the second.
 */
export function runRecognizeStream<Res>(wire: RecognizeWire<Res>, audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext, opts: LoopOptions): SttProviderStream {
  const { provider, secrets, maxStreamAudioMs: maxStreamMs } = opts;
  const pcmBytesPerMs = req.encoding === 'LINEAR16' && req.sampleRateHertz ? (req.sampleRateHertz * 2) / 1000 : undefined;
  let billedMs = 0;
  let settleUsage!: (u: { audioDurationMs: number }) => void;
  const usage = new Promise<{ audioDurationMs: number }>((r) => (settleUsage = r));

  async function* events(): AsyncGenerator<SttStreamEvent> {
    const scope = new AttemptScope(ctx);
    const source = audio[Symbol.asyncIterator]();
    let carry: Uint8Array | undefined;
    let audioDone = false;
    let offsetMs = 0;
    let streamMs = 0;
    let streamBilled: number | undefined;
    try {
      for (;;) {
        scope.throwIfAborted(provider, wire.what);
        const call = wire.open(Math.max(1, ctx.deadlineAt - Date.now()));
        const cancel = (): void => call.cancel();
        scope.signal.addEventListener('abort', cancel, { once: true });
        call.on('error', () => {}); // read through the iterator below
        call.write(wire.first);
        streamMs = 0;
        streamBilled = undefined;
        const openedAt = Date.now();
        let ended = false;
        const endCall = (): void => {
          if (!ended) (ended = true), call.end();
        };
        let pumpError: unknown;
        // Sends audio until it ends, this stream is full, or the utterance is over.
        const pump = (async () => {
          try {
            while (!ended) {
              let chunk = carry;
              carry = undefined;
              if (chunk === undefined) {
                const r = await source.next();
                if (r.done) {
                  audioDone = true;
                  break;
                }
                chunk = r.value;
              }
              if (ended) {
                carry = chunk;
                break;
              }
              for (let at = 0; at < chunk.byteLength; at += STREAMING_MAX_CHUNK_BYTES) {
                if (!call.write(wire.audio(chunk.subarray(at, at + STREAMING_MAX_CHUNK_BYTES)))) await once(call as never, 'drain');
              }
              streamMs = pcmBytesPerMs ? streamMs + chunk.byteLength / pcmBytesPerMs : Date.now() - openedAt;
              if (streamMs >= maxStreamMs) break;
            }
          } catch (e) {
            pumpError = e;
            call.cancel();
          } finally {
            endCall();
          }
        })();
        let utteranceOver = false;
        try {
          for await (const res of call) {
            const evs = wire.events(res, offsetMs);
            for (const ev of evs) yield ev;
            const t = wire.billedMs(res);
            if (t !== undefined && t > 0) streamBilled = t;
            if (!utteranceOver && wire.utteranceOver(res, evs)) {
              // The utterance is over: half-close so the service sends what is left and ends.
              utteranceOver = true;
              endCall();
            }
          }
        } catch (e) {
          throw pumpError ?? e;
        } finally {
          scope.signal.removeEventListener('abort', cancel);
        }
        if (!utteranceOver) await pump;
        if (pumpError !== undefined) throw pumpError;
        const sentMs = streamMs;
        billedMs += streamBilled ?? Math.ceil(sentMs / 1000) * 1000;
        streamMs = 0;
        if (audioDone || utteranceOver || req.singleUtterance) break;
        offsetMs += Math.round(sentMs);
      }
    } catch (e) {
      throw isAiError(e) ? e : mapGoogleCallError(e, scope, { provider, what: wire.what, secrets });
    } finally {
      scope.dispose();
      // A failed stream bills what it was sent, rounded up to the second as Google bills.
      settleUsage({ audioDurationMs: billedMs + (streamMs > 0 ? Math.ceil(streamMs / 1000) * 1000 : 0) });
    }
  }
  const it = events();
  return { [Symbol.asyncIterator]: () => it, usage };
}
