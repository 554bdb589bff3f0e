import { requestError } from '../requests/invalid-request.js';
import { MAX_VOICE_CHARS } from '../requests/limits.js';
import type { TtsStreamRequest } from '../spec/streaming.js';
import { isAsyncIterable } from './stt-stream-request.js';

export const TTS_STREAM_OPERATION = 'tts.synthesizeStream';
/** The encodings a synthesis stream's chunks can be in (one per stream). */
export const TTS_STREAM_ENCODINGS = ['LINEAR16', 'OGG_OPUS'] as const;

/**
 * Checks a streaming synthesis request before anything is reserved or sent; throws
 * `invalid_request` naming every bad field. Text pieces are checked as they arrive.
 */
export function validateTtsStreamRequest(text: unknown, req: unknown, maxTextBytes: number): TtsStreamRequest {
  const who = TTS_STREAM_OPERATION;
  const issues: string[] = [];
  if (typeof text === 'string') {
    if (text.trim().length === 0) issues.push('text: must not be empty');
    else if (Buffer.byteLength(text, 'utf8') > maxTextBytes) issues.push(`text: more than the policy's maxTextBytes (${maxTextBytes} UTF-8 bytes)`);
  } else if (!isAsyncIterable(text)) issues.push('text: must be a string or an AsyncIterable<string>');
  if (req === null || typeof req !== 'object') throw requestError(who, [...issues, '(request): must be an object']);
  const r = req as Partial<TtsStreamRequest>;
  if (r.voice !== undefined && (typeof r.voice !== 'string' || r.voice.trim().length === 0 || r.voice.length > MAX_VOICE_CHARS)) issues.push(`voice: must be a non-empty string of at most ${MAX_VOICE_CHARS} characters`);
  if (r.audioEncoding !== undefined && !(TTS_STREAM_ENCODINGS as readonly string[]).includes(r.audioEncoding)) issues.push(`audioEncoding: must be one of ${TTS_STREAM_ENCODINGS.join(', ')} (one encoding for every chunk)`);
  const rate = r.sampleRateHertz;
  if (rate !== undefined && (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < 8_000 || rate > 48_000)) issues.push('sampleRateHertz: must be an integer from 8000 to 48000');
  const sr = r.speakingRate;
  if (sr !== undefined && (typeof sr !== 'number' || Number.isNaN(sr) || sr < 0.25 || sr > 4)) issues.push('speakingRate: must be a number from 0.25 to 4');
  if (issues.length > 0) throw requestError(who, issues);
  return r as TtsStreamRequest;
}

/** Counts the text of a stream as it arrives and refuses what breaks the request. */
export class TextMeter {
  bytes = 0;
  characters = 0;
  blank = true;

  constructor(private readonly maxTextBytes: number) {}

  add(piece: unknown, index: number): void {
    if (typeof piece !== 'string') throw requestError(TTS_STREAM_OPERATION, [`text: piece ${index} must be a string`]);
    this.bytes += Buffer.byteLength(piece, 'utf8');
    for (const _ of piece) this.characters++;
    if (this.blank && piece.trim().length > 0) this.blank = false;
    if (this.bytes > this.maxTextBytes) throw requestError(TTS_STREAM_OPERATION, [`text: more than the policy's maxTextBytes (${this.maxTextBytes} UTF-8 bytes)`]);
  }
}
