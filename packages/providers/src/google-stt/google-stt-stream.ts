// Google Speech v1 StreamingRecognize for `googleStt().transcribeStream`: the v1 request and
// response shapes on the shared loop (stream-loop.ts: ~5 minutes per stream, 25,600-byte audio
// requests, no google-gax retries, errors mapped to AiError).
import type { SpeechClient, protos } from '@google-cloud/speech';
import type { AttemptContext, SttProviderStream, SttStreamRequest } from '@korean-together/core';
import { durationToMs } from './google-stt.js';
import { GOOGLE_STT_DEFAULTS, type GoogleSttOptions } from './options.js';
import { resultEvents, runRecognizeStream, STREAMING_MAX_STREAM_AUDIO_MS, type RecognizeDuplex, type RecognizeWire } from './stream-loop.js';

export { STREAMING_MAX_CHUNK_BYTES, STREAMING_MAX_STREAM_AUDIO_MS } from './stream-loop.js';

type StreamingResponse = protos.google.cloud.speech.v1.IStreamingRecognizeResponse;
type StreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;

const OPUS_RATE = 48_000;

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

/**
 * One attempt's recognition on v1 StreamingRecognize. `usage` resolves with the seconds Google
 * billed (total_billed_time of each stream), or, for a stream that failed before saying, the
 * audio it was sent.
 */
export function recognizeStream(client: SpeechClient, options: GoogleSttOptions, audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext, provider: string, secrets: readonly (string | undefined)[]): SttProviderStream {
  const wire: RecognizeWire<StreamingResponse> = {
    what: 'StreamingRecognize',
    open: (timeout) => (client as unknown as { _streamingRecognize(o: object): RecognizeDuplex<StreamingResponse> })._streamingRecognize({ retry: null, timeout }),
    first: { streamingConfig: streamingConfig(req, options) },
    audio: (chunk) => ({ audioContent: chunk }),
    events: (res, offsetMs) => resultEvents(res.results, offsetMs, (r) => r.resultEndTime),
    billedMs: (res) => durationToMs(res.totalBilledTime),
    // The service stopped listening (singleUtterance): the final follows the half-close.
    utteranceOver: (res) => res.speechEventType === 'END_OF_SINGLE_UTTERANCE' || (res.speechEventType as unknown) === 1,
  };
  return runRecognizeStream(wire, audio, req, ctx, { provider, secrets, maxStreamAudioMs: options.maxStreamAudioMs ?? STREAMING_MAX_STREAM_AUDIO_MS });
}
