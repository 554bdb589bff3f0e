import type { SpeechClient } from '@google-cloud/speech';

/** What `new SpeechClient(...)` accepts (google-gax ClientOptions). */
export type SpeechClientOptions = NonNullable<ConstructorParameters<typeof SpeechClient>[0]>;

/** Options of `googleStt`. Every field is optional. */
export interface GoogleSttOptions {
  /**
   * Which Speech-to-Text API: 'v1' (Recognize, StreamingRecognize) or 'v2' (StreamingRecognize
   * through a recognizer; one-shot `transcribe` sends the clip on one stream). Default 'v1'.
   */
  api?: 'v1' | 'v2';
  /**
   * Recognition model sent as `config.model`. v1: 'latest_short', 'latest_long',
   * 'command_and_search', 'default'...; default unset (the API's default); reported as modelId
   * `google-stt/<model>` (`google-stt/default` when unset), priced as 'google-stt/*'. v2: default
   * 'chirp_2' (Chirp 2, which serves ko-KR); reported as modelId `<model>` ('chirp_2'), which
   * the default price table prices at the v2 standard rate.
   */
  model?: string;
  /** v2: project of the recognizer. Default `clientOptions.projectId`; required for v2 unless `recognizer` is set. */
  project?: string;
  /**
   * v2: location of the recognizer, which also picks the endpoint `{location}-speech.googleapis.com`
   * (unless `clientOptions.apiEndpoint` is set). Default 'us-central1': Chirp 2 is regional and
   * refused from 'global'.
   */
  location?: string;
  /**
   * v2: full recognizer name, `projects/{project}/locations/{location}/recognizers/{id}`.
   * Default `projects/{project}/locations/{location}/recognizers/_` (no stored recognizer: the
   * config travels in the first request of each stream).
   */
  recognizer?: string;
  /** BCP-47 language when the request has none. Default `'ko-KR'`. */
  languageCode?: string;
  /** Adds punctuation to transcripts (`config.enableAutomaticPunctuation`). Default: unset (off). */
  enableAutomaticPunctuation?: boolean;
  /**
   * Passed to `new SpeechClient(clientOptions)` (v2: `new v2.SpeechClient(...)`): credentials (`keyFilename`, `credentials`,
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
