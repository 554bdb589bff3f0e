import {
  AiError,
  AUDIO_ENCODINGS,
  TTS_AUDIO_ENCODINGS,
  type AudioEncoding,
  type EvalRequest,
  type SttRequest,
  type TtsAudioEncoding,
  type TtsRequest,
} from '@korean-together/core';
import { audioDurationMs } from '@korean-together/core';

/** The AiError for a request the provider would reject anyway: names the field, never quotes its content. */
export function invalidRequest(provider: string, field: string, problem: string): AiError {
  return new AiError('invalid_request', `${provider}: invalid request: ${field} ${problem}`, { provider, retryable: false });
}

const MB = 1024 * 1024;
const fmtMb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/** Limits of one speech-to-text endpoint. */
export interface SttLimits {
  /** Largest audio in bytes. */
  maxBytes: number;
  /** Longest audio in ms, checked when the container states its duration. */
  maxDurationMs?: number;
  /** Encodings the endpoint accepts. */
  encodings: readonly AudioEncoding[];
}

/** Google synchronous Recognize: 60 s or 10 MB. */
export const GOOGLE_SYNC_STT_LIMITS: SttLimits = { maxBytes: 10 * MB, maxDurationMs: 60_000, encodings: AUDIO_ENCODINGS };
/** OpenAI /v1/audio/transcriptions: 25 MB files, no length limit of its own. */
export const WHISPER_STT_LIMITS: SttLimits = { maxBytes: 25 * MB, encodings: AUDIO_ENCODINGS };

/** What validation learnt from the audio, so adapters need not parse it twice. */
export interface SttAudioFacts {
  /** Duration from the container or sample rate, when it can be known. */
  durationMs: number | undefined;
}

/** Rejects an STT request before any network call: empty or oversized audio, bad encoding or rate. */
export function validateSttRequest(provider: string, req: SttRequest, limits: SttLimits): SttAudioFacts {
  if (!req || typeof req !== 'object') throw invalidRequest(provider, 'request', 'must be an object');
  if (!(req.audio instanceof Uint8Array)) throw invalidRequest(provider, 'audio', 'must be a Uint8Array');
  if (req.audio.length === 0) throw invalidRequest(provider, 'audio', 'is empty (0 bytes)');
  if (req.audio.length > limits.maxBytes) {
    throw invalidRequest(provider, 'audio', `is ${fmtMb(req.audio.length)}, over the ${fmtMb(limits.maxBytes)} limit of one synchronous request`);
  }
  if (!limits.encodings.includes(req.encoding)) {
    throw invalidRequest(provider, 'encoding', `'${String(req.encoding)}' is not supported (use one of ${limits.encodings.join(', ')})`);
  }
  if (req.sampleRateHertz !== undefined && (!Number.isInteger(req.sampleRateHertz) || req.sampleRateHertz < 8000 || req.sampleRateHertz > 48000)) {
    throw invalidRequest(provider, 'sampleRateHertz', `must be an integer from 8000 to 48000, got ${String(req.sampleRateHertz)}`);
  }
  if (req.languageCode !== undefined && (typeof req.languageCode !== 'string' || !/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(req.languageCode))) {
    throw invalidRequest(provider, 'languageCode', 'must be a BCP-47 tag such as ko-KR');
  }
  const durationMs = audioDurationMs(req.audio, req.encoding, req.sampleRateHertz);
  if (limits.maxDurationMs !== undefined && durationMs !== undefined && durationMs > limits.maxDurationMs) {
    throw invalidRequest(
      provider,
      'audio',
      `lasts ${(durationMs / 1000).toFixed(1)} s, over the ${limits.maxDurationMs / 1000} s limit of synchronous recognition`,
    );
  }
  return { durationMs };
}

/** Rejects a TTS request before any network call: empty text, unknown encoding, rate out of range. */
export function validateTtsRequest(provider: string, req: TtsRequest, encodings: readonly TtsAudioEncoding[] = TTS_AUDIO_ENCODINGS): void {
  if (!req || typeof req !== 'object') throw invalidRequest(provider, 'request', 'must be an object');
  if (typeof req.text !== 'string') throw invalidRequest(provider, 'text', 'must be a string');
  if (req.text.trim() === '') throw invalidRequest(provider, 'text', 'is empty');
  if (req.audioEncoding !== undefined && !encodings.includes(req.audioEncoding)) {
    throw invalidRequest(provider, 'audioEncoding', `'${String(req.audioEncoding)}' is not supported (use one of ${encodings.join(', ')})`);
  }
  if (req.speakingRate !== undefined && (typeof req.speakingRate !== 'number' || !(req.speakingRate >= 0.25 && req.speakingRate <= 4))) {
    throw invalidRequest(provider, 'speakingRate', `must be a number from 0.25 to 4, got ${String(req.speakingRate)}`);
  }
  if (req.voice !== undefined && (typeof req.voice !== 'string' || req.voice.trim() === '')) {
    throw invalidRequest(provider, 'voice', 'must be a non-empty string');
  }
}

/** Largest inline audio an evaluation request may carry (Gemini caps a whole request at 20 MB). */
export const MAX_EVAL_AUDIO_BYTES = 15 * MB;

/** Rejects an evaluation request before any network call. */
export function validateEvalRequest(provider: string, req: EvalRequest): void {
  if (!req || typeof req !== 'object') throw invalidRequest(provider, 'request', 'must be an object');
  if (typeof req.prompt !== 'string' || req.prompt.trim() === '') throw invalidRequest(provider, 'prompt', 'must be a non-empty string');
  if (typeof req.learnerAnswer !== 'string') throw invalidRequest(provider, 'learnerAnswer', 'must be a string');
  if (req.learnerAnswer.trim() === '' && !req.audio) {
    throw invalidRequest(provider, 'learnerAnswer', 'is empty and no audio was given');
  }
  if (req.targetFormality !== undefined && !['hapsyo', 'haeyo', 'banmal'].includes(req.targetFormality)) {
    throw invalidRequest(provider, 'targetFormality', `must be 'hapsyo', 'haeyo' or 'banmal', got '${String(req.targetFormality)}'`);
  }
  if (req.audio !== undefined) {
    if (!(req.audio.data instanceof Uint8Array) || req.audio.data.length === 0) throw invalidRequest(provider, 'audio.data', 'must be non-empty bytes');
    if (req.audio.data.length > MAX_EVAL_AUDIO_BYTES) {
      throw invalidRequest(provider, 'audio.data', `is ${fmtMb(req.audio.data.length)}, over the ${fmtMb(MAX_EVAL_AUDIO_BYTES)} inline limit`);
    }
    if (typeof req.audio.mimeType !== 'string' || !/^audio\/[\w.+-]+$/.test(req.audio.mimeType)) {
      throw invalidRequest(provider, 'audio.mimeType', 'must be an audio MIME type such as audio/wav');
    }
  }
}
