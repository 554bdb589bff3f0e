import type { ClientOptions } from 'google-gax';

// The emulators' public types: what startEmulators() returns and how faults are scripted.
// Adapters' tests and host apps' CI code against these.

/**
 * Which emulated endpoint a fault or hit counter is about: 'gemini' is the Gemini API
 * (`/v1beta/models/M:generateContent`), 'gemini-vertex' the same models on Vertex AI
 * (`/v1beta1/projects/P/locations/L/publishers/google/models/M:generateContent`), 'openai' the
 * Chat Completions endpoint (OpenAI's `/v1/chat/completions` and Azure OpenAI's deployment URLs).
 */
export type EmulatorTarget = 'gemini' | 'gemini-vertex' | 'openai' | 'google-stt' | 'google-tts' | 'whisper' | 'http-tts';

/** What an emulated endpoint does instead of answering normally. */
export type Fault =
  /** Answer normally, but only after `ms` milliseconds. */
  | { kind: 'delay'; ms: number }
  /** Never answer; the request ends only when the client aborts it (counted in hits.aborted). */
  | { kind: 'hang' }
  /**
   * Fail with an HTTP status 400..599 (REST targets) or gRPC status code 1..16 (google-stt /
   * google-tts over gRPC). Either form works on every target: HTTP statuses are mapped to the
   * matching gRPC code on gRPC (429 -> 8 RESOURCE_EXHAUSTED, 503 -> 14 UNAVAILABLE ...) and gRPC
   * codes to the matching HTTP status on REST. `message` replaces the default error text.
   * `retryAfterSeconds` sets the Retry-After header (REST, rounded up), a google.rpc.RetryInfo
   * detail in the Gemini error body, and on gRPC the `grpc-status-details-bin` trailer (which
   * google-gax decodes into `err.statusDetails`) plus `google.rpc.retryinfo-bin`.
   * `retryAfterMs` (openai, whisper, http-tts only) sends OpenAI's `retry-after-ms` header instead,
   * with no `Retry-After` unless `retryAfterSeconds` is set too. A Gemini 429 carries a
   * google.rpc.QuotaFailure detail, as Google's does.
   */
  | { kind: 'status'; status: number; message?: string; retryAfterSeconds?: number; retryAfterMs?: number }
  /**
   * The answer the real service gives a bad API key. Gemini: HTTP 400 `INVALID_ARGUMENT` whose
   * `details` hold a google.rpc.ErrorInfo (reason `API_KEY_INVALID`, domain `googleapis.com`)
   * and a LocalizedMessage. Google STT / TTS: gRPC 3 `INVALID_ARGUMENT` with the same ErrorInfo
   * in the `grpc-status-details-bin` trailer (google-gax sets `err.reason` / `err.domain`).
   * Vertex AI: 401 `UNAUTHENTICATED` with ErrorInfo `ACCESS_TOKEN_EXPIRED` (a bearer token), or
   * Gemini's 400 API_KEY_INVALID in express mode (an API key).
   * OpenAI (chat, whisper, speech): OpenAI's 401 with `code: 'invalid_api_key'`.
   */
  | { kind: 'api_key_invalid' }
  /** OpenAI (chat, whisper, speech): OpenAI's 429 for an account without credits (`type` and `code` `insufficient_quota`). */
  | { kind: 'insufficient_quota' }
  /** OpenAI chat: the model declines: `message.refusal` set, `content` null, `finish_reason: 'stop'`, tokens billed. */
  | { kind: 'refusal' }
  /**
   * The answer stops at the output-token cap with its JSON cut off: OpenAI `finish_reason:
   * 'length'`, Gemini / Vertex `finishReason: 'MAX_TOKENS'`; every token is billed.
   */
  | { kind: 'max_tokens' }
  /**
   * OpenAI chat: Azure OpenAI's answer for a prompt its content filter blocks: HTTP 400,
   * `code: 'content_filter'`, `param: 'prompt'`, `innererror.code: 'ResponsibleAIPolicyViolation'`
   * with the `content_filter_result` per category.
   */
  | { kind: 'content_filter' }
  /** OpenAI chat: HTTP 400 `code: 'context_length_exceeded'`, `param: 'messages'` (the prompt is too long for the model). */
  | { kind: 'context_length_exceeded' }
  /** Gemini / Vertex: the JSON answer wrapped in a ```json fence even in JSON mode, as gemini-2.5-pro sometimes does. */
  | { kind: 'fenced_json' }
  /**
   * Gemini / Vertex / OpenAI chat: a 200 whose answer text is not JSON (cut short) although it
   * finished normally. Whisper: a 200 with a non-JSON body.
   */
  | { kind: 'malformed_json' }
  /** Gemini / Vertex / OpenAI chat: valid JSON that breaks the evaluation schema (score 150, unknown error type). */
  | { kind: 'schema_invalid' }
  /** Gemini / Vertex: a 200 with `candidates: []`. */
  | { kind: 'empty_candidates' }
  /** Gemini / Vertex: a candidate with finishReason 'SAFETY' and no text. */
  | { kind: 'safety' }
  /**
   * TTS targets: audio cut short (the WAV header or ID3 length promises more than is sent; an MP3
   * ends inside a frame). The STT emulators then hear only the words whose audio survived.
   */
  | { kind: 'truncated_audio' }
  /**
   * Streaming calls only (StreamingRecognize / StreamingSynthesize; unary calls pass the rule by):
   * the stream ends with this gRPC status (default 14 UNAVAILABLE) before its first result or audio
   * chunk, once the first audio / text request arrived.
   */
  | { kind: 'fail_before_first_result'; status?: number; message?: string }
  /** Streaming calls only: the stream ends with this status (default 14 UNAVAILABLE) after `afterResults` results / chunks (default 1). */
  | { kind: 'fail_mid_stream'; afterResults?: number; status?: number; message?: string }
  /** Streaming calls only: after `afterResults` results / chunks (default 0) nothing more is sent until the client cancels. */
  | { kind: 'stall'; afterResults?: number }
  /** Streaming calls only: the first result / audio chunk comes `ms` later than the stream timing says; the rest on time. */
  | { kind: 'slow_first_chunk'; ms: number };

export interface FaultRule {
  target: EmulatorTarget;
  /**
   * Only requests for this model / voice: Gemini / Vertex model name, the chat `model` (or the
   * Azure deployment name), Google STT `config.model` ('default' when unset), Google TTS voice
   * name, Whisper `model`, speech `model` or `voice`.
   */
  model?: string;
  fault: Fault;
  /** Apply to the next N matching requests, then retire. Default: every matching request. */
  times?: number;
  /** Apply with this probability (0..1), drawn from the emulators' seeded random source. Default 1. */
  probability?: number;
}

export interface Faults {
  /**
   * Adds a rule; rules are checked in the order added, the first that applies wins. Returns a remover.
   * Throws AiError 'invalid_config' for a malformed rule or a fault kind the target cannot show.
   */
  add(rule: FaultRule): () => void;
  /** Removes every rule. */
  clear(): void;
}

export interface Hits {
  /** Requests received (faulted or not, GET /health excluded) by a target, optionally for one model / voice. */
  count(target: EmulatorTarget, model?: string): number;
  /** Requests the client aborted or cancelled before the emulator answered (close() does not count). */
  aborted(target: EmulatorTarget, model?: string): number;
  /** Sets every counter back to zero. */
  reset(): void;
}

/**
 * Pacing of the streaming calls, all in ms, all default 0 (answer as fast as possible). Set at
 * start (`startEmulators({ streamTiming })`) or later (`emulators.streamTiming.set({...})`).
 */
export interface StreamTiming {
  /** StreamingRecognize: from the first audio request to the first (interim) result. */
  recognizeFirstResultMs: number;
  /** StreamingRecognize: gap before each later interim result. */
  recognizeInterimMs: number;
  /** StreamingRecognize: from the end of the speech (the client half-closes, or single_utterance heard it all) to the final result. */
  recognizeFinalMs: number;
  /** StreamingSynthesize: from the first complete sentence (or the half-close) to its first audio chunk. */
  synthesizeFirstChunkMs: number;
  /** StreamingSynthesize: gap before each later audio chunk. */
  synthesizePerChunkMs: number;
  /** StreamingSynthesize: audio per chunk, ms of speech (default 200; OGG_OPUS rounds to 20 ms packets). */
  synthesizeChunkAudioMs: number;
}

export interface StreamTimingControl {
  /** The timing in force. */
  get(): StreamTiming;
  /** Changes some fields; throws AiError 'invalid_config' for a negative or non-finite value. */
  set(partial: Partial<StreamTiming>): void;
  /** Back to the timing given at start (`startEmulators({ streamTiming })`, else the defaults). */
  reset(): void;
}

export interface StartEmulatorsOptions {
  /** Host to bind, default '127.0.0.1'. */
  host?: string;
  /** Seed for probabilistic faults, default 1. */
  seed?: number;
  /** Ports, default 0 (a free port) each. */
  ports?: { gemini?: number; grpc?: number; whisper?: number; httpTts?: number; openai?: number };
  /** Pacing of StreamingRecognize / StreamingSynthesize; default all 0 (synthesizeChunkAudioMs 200). */
  streamTiming?: Partial<StreamTiming>;
}

export interface Emulators {
  /**
   * Pass as `geminiEvaluator({ apiKey: 'emulator', httpOptions })`. `apiVersion` is 'v1beta';
   * v1 and v1alpha are served too. Any non-empty `x-goog-api-key` is accepted.
   */
  gemini: { baseUrl: string; httpOptions: { baseUrl: string; apiVersion: string } };
  /**
   * Pass as `geminiEvaluator({ vertex: { project, location, googleAuthOptions }, httpOptions })`
   * (or `new GoogleGenAI({ vertexai: true, project, location, httpOptions })`). Served on the
   * Gemini emulator's port under the Vertex AI paths, as its own target 'gemini-vertex' (own
   * faults and hit counts): `apiVersion` is 'v1beta1' (v1 is served too). Any project and
   * location are accepted; requests need `Authorization: Bearer <any token>` (inject an auth
   * client that returns a fixed token: no Google credentials needed), or an `x-goog-api-key` in
   * express mode (no project).
   */
  vertex: { baseUrl: string; httpOptions: { baseUrl: string; apiVersion: string }; project: string; location: string };
  /**
   * Server root (no /v1) of the Chat Completions endpoint: pass `${baseUrl}/v1` as the OpenAI
   * client's `baseURL` (`openaiEvaluator({ baseUrl })` accepts either), or `baseUrl` as an Azure
   * `endpoint` (`/openai/deployments/D/chat/completions?api-version=V` with an `api-key`
   * header). Any path ending in /chat/completions is served; a bearer token, when sent, must be
   * well formed.
   */
  openai: { baseUrl: string };
  /** Pass as `googleStt({ clientOptions })` / `googleTts({ clientOptions })`: gRPC, insecure, no metadata-server probe. */
  google: { port: number; clientOptions: ClientOptions };
  /** Server root (no /v1) of the OpenAI-compatible POST /v1/audio/transcriptions; any path ending in /audio/transcriptions is served. */
  whisper: { baseUrl: string };
  /** Server root (no /v1) of the OpenAI-compatible POST /v1/audio/speech; any path ending in /audio/speech is served. */
  httpTts: { baseUrl: string };
  faults: Faults;
  hits: Hits;
  /** Pacing of the streaming calls (StreamingRecognize, StreamingSynthesize). */
  streamTiming: StreamTimingControl;
  /** Stops every server, ending in-flight and hung requests; resolves once all are closed. */
  close(): Promise<void>;
}
