import { OPERATIONS, TTS_AUDIO_ENCODINGS, type TtsAudioEncoding, type TtsRequest } from '../spec/types.js';
import { requestError, type RequestCheckOptions } from './invalid-request.js';
import { MAX_VOICE_CHARS } from './limits.js';

export interface TtsCheckOptions extends RequestCheckOptions {
  /** Longest text in UTF-8 bytes (the policy's `maxTextBytes` in the client). Default: no limit. */
  maxTextBytes?: number;
  /** Encodings the endpoint takes. Default: every TtsAudioEncoding. */
  encodings?: readonly TtsAudioEncoding[];
}

/**
 * Checks a TTS request before anything is sent; throws `invalid_request` naming every bad
 * field: text that is not a string, blank, or over `maxTextBytes`; a voice that is not a string,
 * blank or over-long;
 * an unknown encoding; a speaking rate outside 0.25..4. Returns the text's UTF-8 size.
 */
export function validateTtsRequest(req: unknown, options: TtsCheckOptions = {}): { textBytes: number } {
  const who = options.who ?? OPERATIONS.tts;
  if (req === null || typeof req !== 'object') throw requestError(who, ['(request): must be an object'], options.provider);
  const r = req as Partial<TtsRequest>;
  let issues: string[] | undefined;
  if (typeof r.text !== 'string') (issues ??= []).push('text: must be a string');
  else if (r.text.trim().length === 0) (issues ??= []).push('text: must not be empty');
  if (r.voice !== undefined) {
    if (typeof r.voice !== 'string') (issues ??= []).push('voice: must be a string');
    else if (r.voice.trim().length === 0) (issues ??= []).push('voice: must not be empty');
    else if (r.voice.length > MAX_VOICE_CHARS) (issues ??= []).push(`voice: must be at most ${MAX_VOICE_CHARS} characters`);
  }
  const encodings = options.encodings ?? TTS_AUDIO_ENCODINGS;
  if (r.audioEncoding !== undefined && !encodings.includes(r.audioEncoding)) (issues ??= []).push(`audioEncoding: must be one of ${encodings.join(', ')}`);
  const rate = r.speakingRate;
  if (rate !== undefined) {
    if (typeof rate !== 'number' || Number.isNaN(rate)) (issues ??= []).push('speakingRate: must be a number');
    else if (rate < 0.25) (issues ??= []).push('speakingRate: must be >= 0.25');
    else if (rate > 4) (issues ??= []).push('speakingRate: must be <= 4');
  }
  if (issues) throw requestError(who, issues, options.provider);
  const textBytes = Buffer.byteLength(r.text as string, 'utf8');
  if (options.maxTextBytes !== undefined && textBytes > options.maxTextBytes) {
    throw requestError(who, [`text: ${textBytes} UTF-8 bytes exceeds the policy's maxTextBytes (${options.maxTextBytes})`], options.provider);
  }
  return { textBytes };
}
