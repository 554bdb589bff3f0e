// Google Speech v1 StreamingRecognize for `googleStt().transcribeStream`: one gRPC bidi stream
// per ~5 minutes of audio (the service's limit; the next one opens transparently), audio
// requests of at most 25,600 bytes, interim results and singleUtterance as asked, and no
// google-gax retries (the policy owns them).
import { once } from 'node:events';
import type { SpeechClient, protos } from '@google-cloud/speech';
import { isAiError, type AttemptContext, type SttProviderStream, type SttStreamEvent, type SttStreamRequest } from '@korean-together/core';
import { AttemptScope } from '../shared/attempt-scope.js';
import { mapGoogleCallError } from '../shared/grpc-error.js';
import { durationToMs } from './google-stt.js';
import { GOOGLE_STT_DEFAULTS, type GoogleSttOptions } from './options.js';

type StreamingResponse = protos.google.cloud.speech.v1.IStreamingRecognizeResponse;
type StreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;

/** Most audio bytes one StreamingRecognizeRequest may carry. */
export const STREAMING_MAX_CHUNK_BYTES = 25_600;
/** Audio sent on one stream before the next is opened: under Google's ~305 s per stream. */
export const STREAMING_MAX_STREAM_AUDIO_MS = 290_000;
const OPUS_RATE = 48_000;

interface Duplex extends AsyncIterable<StreamingResponse> {
  write(chunk: unknown): boolean;
  end(): void;
  cancel(): void;
  destroy(error?: Error): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** The streaming_config of every stream of one request. */
export function streamingConfig(req: SttStreamRequest, options: GoogleSttOptions): StreamingConfig {
  const sampleRateHertz = req.sampleRateHertz ?? (req.encoding === 'OGG_OPUS' || req.encoding === 'WEBM_OPUS' ? OPUS_RATE : undefined);
  return {
    config: {
      encoding: req.encoding,
      languageCode: req.languageCode ?? options.languageCode ?? GOOGLE_STT_DEFAULTS.languageCode,
      ...(sampleRateHertz !== undefined && { sampleRateHertz }),
      ...(options.model !== undefined && { model: options.model }),
      ...(options.enableAutomaticPunctuation !== undefined && { enableAutomaticPunctuation: options.enableAutomaticPunctuation }),
    },
    interimResults: req.interimResults ?? true,
    singleUtterance: req.singleUtterance ?? false,
  };
}

/** Events of one response, result end times moved by `offsetMs` (the audio of the streams before). */
function eventsOf(res: StreamingResponse, offsetMs: number): SttStreamEvent[] {
  const out: SttStreamEvent[] = [];
  const interim: string[] = [];
  let stability: number | undefined;
  for (const r of res.results ?? []) {
    const alt = r.alternatives?.[0];
    const transcript = alt?.transcript ?? '';
    if (r.isFinal) {
      const ev: SttStreamEvent = { type: 'final', transcript: transcript.trim(), endMs: offsetMs + (durationToMs(r.resultEndTime) ?? 0) };
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

/**
 * One attempt's recognition: reads `audio`, streams it to Google, yields events. `usage`
 * resolves with the seconds Google billed (total_billed_time of each stream), or, for a stream
 * that failed before saying, the audio it was sent.
 */
export function recognizeStream(client: SpeechClient, options: GoogleSttOptions, audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext, provider: string, secrets: readonly (string | undefined)[]): SttProviderStream {
  const config = streamingConfig(req, options);
  const maxStreamMs = options.maxStreamAudioMs ?? STREAMING_MAX_STREAM_AUDIO_MS;
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
        scope.throwIfAborted(provider, 'StreamingRecognize');
        const call = (client as unknown as { _streamingRecognize(o: object): Duplex })._streamingRecognize({ retry: null, timeout: Math.max(1, ctx.deadlineAt - Date.now()) });
        const cancel = (): void => call.cancel();
        scope.signal.addEventListener('abort', cancel, { once: true });
        call.on('error', () => {}); // read through the iterator below
        call.write({ streamingConfig: config });
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
                if (!call.write({ audioContent: chunk.subarray(at, at + STREAMING_MAX_CHUNK_BYTES) })) await once(call as never, 'drain');
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
            for (const ev of eventsOf(res, offsetMs)) yield ev;
            const t = durationToMs(res.totalBilledTime);
            if (t !== undefined && t > 0) streamBilled = t;
            if (res.speechEventType === 'END_OF_SINGLE_UTTERANCE' || (res.speechEventType as unknown) === 1) {
              // The service stopped listening: half-close so it sends the final result and ends.
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
      throw isAiError(e) ? e : mapGoogleCallError(e, scope, { provider, what: 'StreamingRecognize', secrets });
    } finally {
      scope.dispose();
      // A failed stream bills what it was sent, rounded up to the second as Google bills.
      settleUsage({ audioDurationMs: billedMs + (streamMs > 0 ? Math.ceil(streamMs / 1000) * 1000 : 0) });
    }
  }
  const it = events();
  return { [Symbol.asyncIterator]: () => it, usage };
}
