/** The three capabilities the SDK calls. */
export type Capability = 'stt' | 'tts' | 'eval';
export const CAPABILITIES: readonly Capability[] = ['stt', 'tts', 'eval'];
/** The client method of each capability, as messages name it. */
export const OPERATIONS: Readonly<Record<Capability, string>> = { stt: 'stt.transcribe', tts: 'tts.synthesize', eval: 'eval.evaluate' };

export type AudioEncoding = 'LINEAR16' | 'FLAC' | 'MP3' | 'OGG_OPUS' | 'WEBM_OPUS';
export const AUDIO_ENCODINGS: readonly AudioEncoding[] = ['LINEAR16', 'FLAC', 'MP3', 'OGG_OPUS', 'WEBM_OPUS'];
export type TtsAudioEncoding = 'MP3' | 'LINEAR16' | 'OGG_OPUS';
export const TTS_AUDIO_ENCODINGS: readonly TtsAudioEncoding[] = ['MP3', 'LINEAR16', 'OGG_OPUS'];
export type Formality = 'hapsyo' | 'haeyo' | 'banmal';
export type ErrorType = 'grammar' | 'vocabulary' | 'pronunciation' | 'formality';
export const ERROR_TYPES: readonly ErrorType[] = ['grammar', 'vocabulary', 'pronunciation', 'formality'];

export interface SttRequest {
  /** Raw audio bytes. Must not be empty; synchronous recognition takes at most 60 s and 10 MB. */
  audio: Uint8Array;
  encoding: AudioEncoding;
  /** Required for LINEAR16 (read from a WAV header when present). */
  sampleRateHertz?: number;
  /** BCP-47 language, default 'ko-KR'. */
  languageCode?: string;
}

export interface TtsRequest {
  /** Text to speak; at most 5000 UTF-8 bytes per provider request (adapters may split longer text). */
  text: string;
  /** Voice name, e.g. 'ko-KR-Wavenet-A'. Defaults to the provider's voice. */
  voice?: string;
  /** Output encoding, default 'MP3'. */
  audioEncoding?: TtsAudioEncoding;
  /** 0.25..4, default 1. */
  speakingRate?: number;
}

export interface EvalRequest {
  /** What the learner was asked (the task). */
  prompt: string;
  /** What the learner said or wrote (learner content: never logged). */
  learnerAnswer: string;
  /** A model answer, when the task has one. */
  expectedAnswer?: string;
  /** The speech level the task asks for: 합쇼체 (hapsyo), 해요체 (haeyo) or 반말 (banmal). */
  targetFormality?: Formality;
  /** Learner level, free text such as 'A2' or 'beginner'. */
  level?: string;
  /** Optional learner audio so pronunciation can be judged by audio-capable evaluators. */
  audio?: { data: Uint8Array; mimeType: string };
}

/** Handed to a provider for each attempt. */
export interface AttemptContext {
  /** Fires on attempt timeout, call deadline, caller abort, or when a hedge sibling wins. */
  signal: AbortSignal;
  /** 1-based attempt number within the call (counts every attempt on every chain step). */
  attempt: number;
  /**
   * Epoch ms by which the whole call must be finished. In a streaming attempt it moves while the
   * input arrives (a TTS stream's deadline runs from the latest text piece): read it when a
   * request starts, never keep a copy from the attempt's start.
   */
  deadlineAt: number;
  /** Epoch ms at which this attempt times out (never after deadlineAt; in a stream it moves with it). */
  attemptDeadlineAt: number;
  /** Eval calls: the policy's pass mark, so the evaluator's instruction matches the core's check. */
  passMark?: number;
  /** Eval calls: the policy's output token cap (the budget reservation is sized by it). */
  maxOutputTokens?: number;
}

export interface SttProviderResult {
  transcript: string;
  /** 0..1 when the provider reports it. */
  confidence?: number;
  /** Billed / measured audio duration in milliseconds. */
  audioDurationMs: number;
  /**
   * Token-billed models (OpenAI gpt-4o-transcribe, gpt-4o-mini-transcribe): every input token
   * billed, audio included (`usage.input_tokens`). Priced by the model's token rows; per-second
   * models leave the token fields out.
   */
  tokensIn?: number;
  /** The audio part of tokensIn (`usage.input_token_details.audio_tokens`), priced apart where the table has an 'audio_token_in' row. */
  audioTokensIn?: number;
  /** Output (transcript) tokens billed (`usage.output_tokens`). */
  tokensOut?: number;
  /** Model actually used, when it differs from the provider's modelId. */
  modelId?: string;
}

export interface TtsProviderResult {
  audio: Uint8Array;
  encoding: TtsAudioEncoding;
  /** Characters billed. */
  characters: number;
  /** Duration of the produced audio in milliseconds, when known. */
  audioDurationMs?: number;
  /** Number of provider requests made (long text is split); default 1. */
  requests?: number;
  /** Voice/model actually used (prices by voice tier). */
  modelId?: string;
}

export interface EvalProviderResult {
  /** Parsed JSON from the model; the core checks it against the eval schema. */
  output: unknown;
  tokensIn: number;
  /** The audio part of tokensIn, when the request carried audio (some models price it apart). */
  audioTokensIn?: number;
  /** The part of tokensIn served from the provider's prompt cache, priced at the cached rate where the table has one. */
  cachedTokensIn?: number;
  /** Output tokens billed (candidates + thinking). */
  tokensOut: number;
  modelId?: string;
}

interface ProviderBase {
  /** Provider family for usage rows, e.g. 'gemini', 'google-stt', 'google-tts', 'whisper', 'http-tts'. */
  readonly name: string;
  /** Model or voice, priced by the price table, e.g. 'gemini-2.5-flash', 'ko-KR-Wavenet-A', 'whisper-1'. */
  readonly modelId: string;
  /**
   * What else makes this adapter's answers differ under the same provider key and model: a
   * default voice, a base URL, a config version. Part of every cache key (hashed, never stored
   * in clear), so changing it makes earlier cached answers unreachable. Default none.
   */
  readonly cacheIdentity?: string;
  /** Releases connections (gRPC channels, agents). `client.close()` calls it. */
  close?(): Promise<void>;
}

export interface SttProvider extends ProviderBase {
  readonly capability: 'stt';
  transcribe(req: SttRequest, ctx: AttemptContext): Promise<SttProviderResult>;
}
export interface TtsProvider extends ProviderBase {
  readonly capability: 'tts';
  /**
   * The model a request will be priced as, when it depends on the request (Google prices by
   * the requested voice's tier). Default: `modelId`.
   */
  modelIdFor?(req: TtsRequest): string;
  synthesize(req: TtsRequest, ctx: AttemptContext): Promise<TtsProviderResult>;
}
export interface EvalProvider extends ProviderBase {
  readonly capability: 'eval';
  evaluate(req: EvalRequest, ctx: AttemptContext): Promise<EvalProviderResult>;
}
export type Provider = SttProvider | TtsProvider | EvalProvider;

/** Options for one call. */
export interface CallOptions {
  /** Aborts the call: the in-flight attempt is aborted and the call fails with `cancelled`. */
  signal?: AbortSignal;
  /** Learner session id (UUID), used for the per-session budget and usage rows. */
  sessionId?: string;
  /** session_events row id (UUID) this call belongs to, for usage rows. */
  eventId?: string;
  /** Free-form data for sinks and events; never sent to providers. */
  metadata?: Record<string, unknown>;
  /** Override the capability's deadline for this call, in milliseconds. */
  deadlineMs?: number;
}

export type AttemptOutcome = 'success' | 'error' | 'skipped' | 'hedge_lost';

/** One attempt (or one skipped chain step) within a call. */
export interface AttemptInfo {
  /** 1-based, across the whole call. */
  attempt: number;
  /** The chain key (key of `providers`). */
  providerKey: string;
  /** The provider's name, e.g. 'gemini'. */
  provider: string;
  modelId: string;
  outcome: AttemptOutcome;
  /** Set unless outcome is 'success'. */
  errorCode?: string;
  retryable?: boolean;
  startedAt: number;
  latencyMs: number;
  costUsd: number;
}

export interface ResultMeta {
  callId: string;
  /** Name of the provider that answered. */
  provider: string;
  /** Chain key of the provider that answered. */
  providerKey: string;
  modelId: string;
  attempts: AttemptInfo[];
  /** Wall time of the whole call, in milliseconds. */
  latencyMs: number;
  /** Sum of every attempt's cost, in USD (exact to the micro-dollar). */
  costUsd: number;
  /**
   * Set when the policy caches this capability (`cache.tts`, `cache.eval`): 'hit' when the
   * SDK's cache answered (no provider call, `attempts` empty, `costUsd` 0), 'miss' when it ran.
   */
  cache?: 'hit' | 'miss';
}

export interface SttResult {
  transcript: string;
  confidence?: number;
  audioDurationMs: number;
  meta: ResultMeta;
}

export interface TtsResult {
  audio: Uint8Array;
  encoding: TtsAudioEncoding;
  characters: number;
  audioDurationMs?: number;
  meta: ResultMeta;
}

export interface EvalErrorItem {
  type: ErrorType;
  /** What is wrong, in the tutor's words. */
  message: string;
  /** The offending fragment of the answer, when the model points at one. */
  span?: string;
  /** The corrected fragment. */
  correction?: string;
}

export interface EvalResult {
  /** Integer 0..100. */
  score: number;
  /** score >= the policy's passMark. */
  passFail: boolean;
  primaryErrorType: ErrorType | null;
  errors: EvalErrorItem[];
  suggestions: string[];
  rationale: string;
  meta: ResultMeta;
}
