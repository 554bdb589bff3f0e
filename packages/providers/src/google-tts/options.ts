import type { TextToSpeechClient } from '@google-cloud/text-to-speech';
import type { TtsAudioEncoding } from '@korean-together/core';

/** What `new TextToSpeechClient(...)` accepts (google-gax ClientOptions). */
export type TextToSpeechClientOptions = NonNullable<ConstructorParameters<typeof TextToSpeechClient>[0]>;

/** Options of `googleTts`. Every field is optional. */
export interface GoogleTtsOptions {
  /**
   * Voice name when the request has none, e.g. 'ko-KR-Standard-A', 'ko-KR-Wavenet-A',
   * 'ko-KR-Neural2-A', 'ko-KR-Chirp3-HD-Aoede'. The language code is read from it. It is the
   * modelId, so the core prices it by tier ('*-Wavenet-*'...). Default `'ko-KR-Wavenet-A'`.
   */
  voice?: string;
  /** Output encoding when the request has none. Default `'MP3'`. */
  audioEncoding?: TtsAudioEncoding;
  /** Output sample rate in Hz (`audioConfig.sampleRateHertz`). Default: the voice's native rate. */
  sampleRateHertz?: number;
  /**
   * Requests in flight at once when long text is split (over 5000 UTF-8 bytes). Default 2.
   */
  maxConcurrentRequests?: number;
  /**
   * Passed to `new TextToSpeechClient(clientOptions)`: credentials, `apiEndpoint`, `port`,
   * `sslCreds`, `fallback: 'rest'`... Default: Application Default Credentials against
   * texttospeech.googleapis.com.
   */
  clientOptions?: TextToSpeechClientOptions;
}

export const GOOGLE_TTS_DEFAULTS = {
  voice: 'ko-KR-Wavenet-A',
  audioEncoding: 'MP3',
  maxConcurrentRequests: 2,
  /** SynthesizeSpeech's input limit, in UTF-8 bytes. */
  maxInputBytes: 5000,
} as const;
