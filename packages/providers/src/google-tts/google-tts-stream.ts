// Google Text-to-Speech v1 StreamingSynthesize for `googleTts().synthesizeStream`: one gRPC
// bidi stream per attempt, the config first, then each text piece as it arrives; audio chunks
// (headerless PCM, 24 kHz unless asked, or Ogg Opus) as Google makes them. No google-gax retries.
import { once } from 'node:events';
import type { TextToSpeechClient, protos } from '@google-cloud/text-to-speech';
import { isAiError, type AttemptContext, type TtsProviderStream, type TtsStreamRequest } from '@korean-together/core';
import { DEFAULT_STREAM_RATE_HZ, invalidRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { mapGoogleCallError } from '../shared/grpc-error.js';

type StreamingResponse = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeResponse;
type StreamingConfig = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeConfig;

/** Only Chirp 3 HD voices stream (the shipped cloud_tts.proto's StreamingSynthesize). */
export function streamsNatively(voice: string): boolean {
  return voice.includes('-Chirp3-HD-');
}
/**
 * The gRPC deadline of a StreamingSynthesize stream, ms: a backstop only (google-gax would set
 * its own 300 s otherwise). A day, not the timer maximum: a grpc-js server arms a timer for the
 * grpc-timeout it is sent, and one past 2^31-1 ms fires at once.
 */
const BACKSTOP_TIMEOUT_MS = 86_400_000;
/** StreamingSynthesize allows speaking rates of 0.25..2 (the one-shot call 0.25..4). */
export const STREAMING_MAX_SPEAKING_RATE = 2;

interface Duplex extends AsyncIterable<StreamingResponse> {
  write(chunk: unknown): boolean;
  end(): void;
  cancel(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** The streaming_config of a request: the voice, PCM or OGG_OPUS, the rate. */
export function synthesizeConfig(req: TtsStreamRequest, voice: string, languageCode: string, provider: string): StreamingConfig {
  if (req.speakingRate !== undefined && req.speakingRate > STREAMING_MAX_SPEAKING_RATE) {
    throw invalidRequest(provider, 'speakingRate', `must be at most ${STREAMING_MAX_SPEAKING_RATE} for streaming synthesis`, provider);
  }
  const encoding = req.audioEncoding === 'OGG_OPUS' ? 'OGG_OPUS' : 'PCM';
  return {
    voice: { languageCode, name: voice },
    streamingAudioConfig: {
      audioEncoding: encoding,
      ...(encoding === 'PCM' && { sampleRateHertz: req.sampleRateHertz ?? DEFAULT_STREAM_RATE_HZ }),
      ...(req.speakingRate !== undefined && { speakingRate: req.speakingRate }),
    },
  } as StreamingConfig;
}

/**
 * One attempt's synthesis. `usage` resolves with the characters sent (Google bills the input
 * characters; the stream reports none), one request.
 */
export function synthesizeStreaming(client: TextToSpeechClient, config: StreamingConfig, text: AsyncIterable<string>, ctx: AttemptContext, provider: string, secrets: readonly (string | undefined)[]): TtsProviderStream {
  let characters = 0;
  let settleUsage!: (u: { characters: number; requests: number; modelId?: string }) => void;
  const usage = new Promise<{ characters: number; requests: number; modelId?: string }>((r) => (settleUsage = r));

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const scope = new AttemptScope(ctx);
    let call: Duplex | undefined;
    const cancel = (): void => call?.cancel();
    try {
      scope.throwIfAborted(provider, 'StreamingSynthesize');
      // No gRPC deadline from ctx: one fixed when the stream opens would end it at the first
      // deadline, while the call's deadline moves with each text piece. The core's signal (and
      // the scope's timer, which follows ctx.deadlineAt) cancel the stream when the time is up.
      call = client.streamingSynthesize({ retry: null, timeout: BACKSTOP_TIMEOUT_MS } as never) as unknown as Duplex;
      scope.signal.addEventListener('abort', cancel, { once: true });
      call.on('error', () => {}); // read through the iterator below
      call.write({ streamingConfig: config });
      const c = call;
      let pumpError: unknown;
      const pump = (async () => {
        try {
          for await (const piece of text) {
            if (piece.length === 0) continue;
            for (const _ of piece) characters++;
            if (!c.write({ input: { text: piece } })) await once(c as never, 'drain');
          }
        } catch (e) {
          pumpError = e;
          c.cancel();
        } finally {
          c.end();
        }
      })();
      try {
        for await (const res of call) {
          const audio = res.audioContent;
          if (audio && audio.length > 0) yield typeof audio === 'string' ? new Uint8Array(Buffer.from(audio, 'base64')) : audio;
        }
      } catch (e) {
        throw pumpError ?? e;
      }
      await pump;
      if (pumpError !== undefined) throw pumpError;
    } catch (e) {
      throw isAiError(e) ? e : mapGoogleCallError(e, scope, { provider, what: 'StreamingSynthesize', secrets });
    } finally {
      scope.signal.removeEventListener('abort', cancel);
      scope.dispose();
      settleUsage({ characters, requests: 1, modelId: config.voice!.name! });
    }
  }
  const it = chunks();
  return { [Symbol.asyncIterator]: () => it, usage };
}
