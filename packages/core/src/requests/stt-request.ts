import { audioDurationMs } from '../audio/audio-info.js';
import { audioContainerProblem } from '../audio/container-check.js';
import { parseWav } from '../audio/wav.js';
import { OPERATIONS, AUDIO_ENCODINGS, type AudioEncoding, type SttRequest } from '../spec/types.js';
import { requestError, type RequestCheckOptions } from './invalid-request.js';
import { SYNC_STT_LIMITS, type SttLimits } from './limits.js';

/** BCP-47, case-insensitive as the standard says ('ko-KR', 'ko-kr', 'cmn-Hans-CN'). */
const LANGUAGE_TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;
const ENCODING_LIST = AUDIO_ENCODINGS.join(', ');

/** What checking an STT request learnt, so nothing parses the audio twice. */
export interface SttAudioFacts {
  /** Length from the container (WAV, MP3 frames, FLAC STREAMINFO, Ogg granule) or the sample rate; undefined when the bytes do not say (WEBM). */
  durationMs: number | undefined;
}

export interface SttCheckOptions extends RequestCheckOptions {
  /** Default: SYNC_STT_LIMITS (60 s, 10 MB), the client's limit for every call. */
  limits?: SttLimits;
}

const mb = (bytes: number): string => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/**
 * Checks an STT request before anything is sent or billed; throws `invalid_request` naming
 * every bad field: audio that is not bytes, empty or over `limits`, an unknown encoding, bytes
 * that do not parse as the encoding given, LINEAR16 without a rate (and no WAV header), a
 * sample rate outside 8000..48000, a language that is not a BCP-47 tag, audio longer than
 * `limits.maxDurationMs`. Plain checks, no schema library: this runs on every call.
 */
export function validateSttRequest(req: unknown, options: SttCheckOptions = {}): SttAudioFacts {
  const who = options.who ?? OPERATIONS.stt;
  const limits = options.limits ?? SYNC_STT_LIMITS;
  if (req === null || typeof req !== 'object') throw requestError(who, ['(request): must be an object'], options.provider);
  const r = req as Partial<SttRequest>;
  let issues: string[] | undefined;
  const audio = r.audio;
  if (!(audio instanceof Uint8Array)) (issues ??= []).push('audio: must be a Uint8Array (or Buffer)');
  else if (audio.byteLength === 0) (issues ??= []).push('audio: must not be empty');
  else if (audio.byteLength > limits.maxBytes) (issues ??= []).push(`audio: must be at most ${limits.maxBytes} bytes (${mb(limits.maxBytes)}), the ${limits.label} limit`);
  const encodings = limits.encodings ?? AUDIO_ENCODINGS;
  if (!encodings.includes(r.encoding as AudioEncoding)) (issues ??= []).push(`encoding: must be one of ${encodings === AUDIO_ENCODINGS ? ENCODING_LIST : encodings.join(', ')}`);
  const rate = r.sampleRateHertz;
  if (rate !== undefined) {
    if (typeof rate !== 'number' || !Number.isSafeInteger(rate)) (issues ??= []).push('sampleRateHertz: must be an integer');
    else if (rate < 8_000) (issues ??= []).push('sampleRateHertz: must be >= 8000');
    else if (rate > 48_000) (issues ??= []).push('sampleRateHertz: must be <= 48000');
  }
  if (r.languageCode !== undefined && (typeof r.languageCode !== 'string' || !LANGUAGE_TAG.test(r.languageCode))) {
    (issues ??= []).push("languageCode: must be a BCP-47 code such as 'ko-KR'");
  }
  if (issues) throw requestError(who, issues, options.provider);

  const value = req as SttRequest;
  // Bytes that are not what the encoding claims (text, an image, zeros) would be sent and
  // billed, or fail at every provider as 'exhausted': refuse them here, naming the claim.
  const problem = audioContainerProblem(value.audio, value.encoding);
  if (problem) throw requestError(who, [`audio: does not parse as ${value.encoding}, the encoding given: ${problem}`], options.provider);
  if (value.encoding === 'LINEAR16' && value.sampleRateHertz === undefined && !parseWav(value.audio)) {
    throw requestError(who, ['sampleRateHertz: required for LINEAR16 audio without a WAV header'], options.provider);
  }
  // Every container that states its length is measured, so no provider is sent (and bills)
  // more than the limit; WEBM does not say, and is bounded by size instead.
  const durationMs = audioDurationMs(value.audio, value.encoding, value.sampleRateHertz);
  if (limits.maxDurationMs !== undefined && durationMs !== undefined && durationMs > limits.maxDurationMs) {
    throw requestError(who, [`audio: ${durationMs} ms is longer than the ${limits.maxDurationMs} ms ${limits.label} limit`], options.provider);
  }
  return { durationMs };
}
