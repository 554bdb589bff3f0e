import type { TtsAudioEncoding } from '@korean-together/core';

/** Options of `httpTts`. `baseUrl` is required; every other field is optional. */
export interface HttpTtsOptions {
  /**
   * Server root; the adapter posts to `{baseUrl}/v1/audio/speech` (a base ending in '/v1' works
   * too): `'https://api.openai.com'`, a self-hosted OpenAI-compatible server (VITS, Piper,
   * openedai-speech) or the emulators.
   */
  baseUrl: string;
  /**
   * Bearer token. Default: `process.env.OPENAI_API_KEY` when `baseUrl` is OpenAI's own host
   * (never sent to other servers); no Authorization header when there is no key.
   */
  apiKey?: string;
  /** Model sent to the server. Default `'tts-1'`. */
  model?: string;
  /**
   * The modelId reported on usage rows and priced by the core. Default: `model`. For a
   * self-hosted server use 'self-hosted/<name>' (the default price table prices it at 0).
   */
  modelId?: string;
  /** Voice sent to the server. Default `'alloy'`. */
  voice?: string;
  /**
   * Use `request.voice` instead of `voice` when the request names one. Default `false`: in a
   * chain the request's voice is usually another provider's ('ko-KR-Wavenet-A').
   */
  useRequestVoice?: boolean;
  /** Output encoding when the request has none: MP3 (`mp3`), LINEAR16 (`wav`), OGG_OPUS (`opus`). Default `'MP3'`. */
  format?: TtsAudioEncoding;
  /** Most characters (code points) per request; longer text is split at sentence ends. Default 4096 (OpenAI's limit). */
  maxInputChars?: number;
  /** Requests in flight at once when long text is split. Default 2. */
  maxConcurrentRequests?: number;
  /** Extra HTTP headers sent with every request. Default: none. */
  headers?: Record<string, string>;
  /**
   * The provider's `cacheIdentity` (part of every cache key, hashed). Default: derived from the
   * server URL, `model`, `voice`, `useRequestVoice` and `format`, so changing any of them under
   * the same provider key never serves audio cached under the old ones. Set it to keep cached
   * audio across an equivalent change (a new host name for the same server).
   */
  cacheIdentity?: string;
}

export const HTTP_TTS_DEFAULTS = {
  model: 'tts-1',
  voice: 'alloy',
  format: 'MP3',
  maxInputChars: 4096,
  maxConcurrentRequests: 2,
} as const;
