import type { SpeechClient } from '@google-cloud/speech';

/** What `new SpeechClient(...)` accepts (google-gax ClientOptions). */
export type SpeechClientOptions = NonNullable<ConstructorParameters<typeof SpeechClient>[0]>;

/** Options of `googleStt`. Every field is optional. */
export interface GoogleSttOptions {
  /**
   * Recognition model sent as `config.model` ('latest_short', 'latest_long', 'command_and_search',
   * 'default'...). Default: unset, the API's default. Reported as modelId `google-stt/<model>`
   * (`google-stt/default` when unset), which the core's price table prices as 'google-stt/*'.
   */
  model?: string;
  /** BCP-47 language when the request has none. Default `'ko-KR'`. */
  languageCode?: string;
  /** Adds punctuation to transcripts (`config.enableAutomaticPunctuation`). Default: unset (off). */
  enableAutomaticPunctuation?: boolean;
  /**
   * Passed to `new SpeechClient(clientOptions)`: credentials (`keyFilename`, `credentials`,
   * `apiKey`), `apiEndpoint`, `port`, `sslCreds`, `fallback: 'rest'`... Default: Application
   * Default Credentials against speech.googleapis.com.
   */
  clientOptions?: SpeechClientOptions;
  /**
   * Streams (`transcribeStream`): audio sent on one StreamingRecognize stream before the adapter
   * half-closes it and opens the next (Google serves about 5 minutes per stream), ms. Result end
   * times carry on across streams. Default 290000.
   */
  maxStreamAudioMs?: number;
}

export const GOOGLE_STT_DEFAULTS = { languageCode: 'ko-KR' } as const;
