/** Options of `whisperStt`. Every field is optional. */
export interface WhisperSttOptions {
  /**
   * Server root; the adapter posts to `{baseUrl}/v1/audio/transcriptions` (a base ending in
   * '/v1' works too). Default `'https://api.openai.com'`. Point it at a self-hosted
   * OpenAI-compatible server (faster-whisper-server, speaches) or at the emulators.
   */
  baseUrl?: string;
  /**
   * Bearer token. Default: `process.env.OPENAI_API_KEY` when `baseUrl` is OpenAI's own host
   * (never sent to other servers); no Authorization header when there is no key.
   */
  apiKey?: string;
  /** Model sent to the server: `'whisper-1'`, `'gpt-4o-transcribe'`, `'gpt-4o-mini-transcribe'`, a self-hosted name. Default `'whisper-1'`. */
  model?: string;
  /**
   * `response_format` sent. Default: `'json'` for `gpt-4o-transcribe` / `gpt-4o-mini-transcribe`
   * (and their snapshots), which accept nothing else; `'verbose_json'` otherwise, for its
   * `duration`. Set `'json'` for a server that refuses `verbose_json`.
   */
  responseFormat?: 'json' | 'verbose_json';
  /**
   * The modelId reported on usage rows and priced by the core. Default: `model`. For a
   * self-hosted server use 'self-hosted/<name>' (the default price table prices it at 0).
   */
  modelId?: string;
  /** ISO-639-1 language when the request has none ('ko-KR' requests send 'ko'). Default `'ko'`. */
  language?: string;
  /** Sampling temperature 0..1 sent to the server. Default: unset (the server's default). */
  temperature?: number;
  /** Extra HTTP headers sent with every request (e.g. an organisation header). Default: none. */
  headers?: Record<string, string>;
}

export const WHISPER_DEFAULTS = {
  baseUrl: 'https://api.openai.com',
  model: 'whisper-1',
  language: 'ko',
} as const;
