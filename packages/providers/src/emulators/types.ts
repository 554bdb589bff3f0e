// The emulators' public types: what startEmulators() returns and how faults are scripted.
// Adapters' tests and host apps' CI code against these.

/** Which emulated endpoint a fault or hit counter is about. */
export type EmulatorTarget = 'gemini' | 'google-stt' | 'google-tts' | 'whisper' | 'http-tts';

/** What an emulated endpoint does instead of answering normally. */
export type Fault =
  /** Answer normally, but only after `ms` milliseconds. */
  | { kind: 'delay'; ms: number }
  /** Never answer; the request ends only when the client aborts it (counted in hits.aborted). */
  | { kind: 'hang' }
  /**
   * Fail with an HTTP status (REST targets) or gRPC status code (google-stt / google-tts over gRPC;
   * HTTP statuses are mapped to the matching gRPC code there). `retryAfterSeconds` sets the
   * Retry-After header (REST) and a google.rpc.RetryInfo detail (Gemini error body / gRPC).
   */
  | { kind: 'status'; status: number; message?: string; retryAfterSeconds?: number }
  /** Gemini: a 200 whose candidate text is not JSON. Whisper: a 200 with a non-JSON body. */
  | { kind: 'malformed_json' }
  /** Gemini: valid JSON that breaks the evaluation schema (score 150, unknown error type). */
  | { kind: 'schema_invalid' }
  /** Gemini: a 200 with `candidates: []`. */
  | { kind: 'empty_candidates' }
  /** Gemini: a candidate with finishReason 'SAFETY' and no text. */
  | { kind: 'safety' }
  /** TTS targets: audio cut short (header promises more bytes than sent). */
  | { kind: 'truncated_audio' };

export interface FaultRule {
  target: EmulatorTarget;
  /** Only requests for this model / voice (Gemini model name, STT model, TTS voice name). */
  model?: string;
  fault: Fault;
  /** Apply to the next N matching requests, then retire. Default: every matching request. */
  times?: number;
  /** Apply with this probability (0..1), drawn from the emulators' seeded random source. Default 1. */
  probability?: number;
}

export interface Faults {
  /** Adds a rule; rules are checked in the order added, the first that applies wins. Returns a remover. */
  add(rule: FaultRule): () => void;
  /** Removes every rule. */
  clear(): void;
}

export interface Hits {
  /** Requests received (faulted or not) by a target, optionally for one model / voice. */
  count(target: EmulatorTarget, model?: string): number;
  /** Requests the client aborted or cancelled before the emulator answered. */
  aborted(target: EmulatorTarget, model?: string): number;
  /** Sets every counter back to zero. */
  reset(): void;
}

export interface StartEmulatorsOptions {
  /** Host to bind, default '127.0.0.1'. */
  host?: string;
  /** Seed for probabilistic faults, default 1. */
  seed?: number;
  /** Ports, default 0 (a free port) each. */
  ports?: { gemini?: number; grpc?: number; whisper?: number; httpTts?: number };
}

export interface Emulators {
  /** Pass as `geminiEvaluator({ apiKey: 'emulator', httpOptions })`. */
  gemini: { baseUrl: string; httpOptions: { baseUrl: string; apiVersion: string } };
  /** Pass as `googleStt({ clientOptions })` / `googleTts({ clientOptions })`: gRPC, insecure, no metadata-server probe. */
  google: { port: number; clientOptions: Record<string, unknown> };
  /** OpenAI-compatible POST /v1/audio/transcriptions. */
  whisper: { baseUrl: string };
  /** OpenAI-compatible POST /v1/audio/speech. */
  httpTts: { baseUrl: string };
  faults: Faults;
  hits: Hits;
  close(): Promise<void>;
}
