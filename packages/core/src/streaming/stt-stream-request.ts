import { requestError } from '../requests/invalid-request.js';
import type { SttStreamRequest } from '../spec/streaming.js';
import { AUDIO_ENCODINGS, type AudioEncoding } from '../spec/types.js';
import { OggDuration } from './ogg-duration.js';

/** Longest audio one recognition stream may declare (`maxAudioMs`): one hour. */
export const MAX_STREAM_AUDIO_MS = 3_600_000;
export const STT_STREAM_OPERATION = 'stt.transcribeStream';

const LANGUAGE_TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;

/** True for anything `for await` can read. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Checks a streaming recognition request before anything is reserved or sent; throws
 * `invalid_request` naming every bad field. The audio chunks are checked as they arrive.
 */
export function validateSttStreamRequest(audio: unknown, req: unknown): SttStreamRequest {
  const who = STT_STREAM_OPERATION;
  const issues: string[] = [];
  if (!isAsyncIterable(audio)) issues.push('audio: must be an AsyncIterable<Uint8Array>');
  if (req === null || typeof req !== 'object') throw requestError(who, [...issues, '(request): must be an object']);
  const r = req as Partial<SttStreamRequest>;
  if (!AUDIO_ENCODINGS.includes(r.encoding as AudioEncoding)) issues.push(`encoding: must be one of ${AUDIO_ENCODINGS.join(', ')}`);
  const rate = r.sampleRateHertz;
  if (rate !== undefined) {
    if (typeof rate !== 'number' || !Number.isSafeInteger(rate)) issues.push('sampleRateHertz: must be an integer');
    else if (rate < 8_000 || rate > 48_000) issues.push('sampleRateHertz: must be from 8000 to 48000');
  } else if (r.encoding === 'LINEAR16') issues.push('sampleRateHertz: required for LINEAR16 (raw PCM carries no header)');
  if (r.languageCode !== undefined && (typeof r.languageCode !== 'string' || !LANGUAGE_TAG.test(r.languageCode))) issues.push("languageCode: must be a BCP-47 code such as 'ko-KR'");
  const max = r.maxAudioMs;
  if (max === undefined) issues.push('maxAudioMs: required for a stream (the budget reserves this much audio)');
  else if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0) issues.push('maxAudioMs: must be a positive integer number of milliseconds');
  else if (max > MAX_STREAM_AUDIO_MS) issues.push(`maxAudioMs: must be at most ${MAX_STREAM_AUDIO_MS}`);
  if (r.interimResults !== undefined && typeof r.interimResults !== 'boolean') issues.push('interimResults: must be a boolean');
  if (r.singleUtterance !== undefined && typeof r.singleUtterance !== 'boolean') issues.push('singleUtterance: must be a boolean');
  if (issues.length > 0) throw requestError(who, issues);
  return r as SttStreamRequest;
}

/**
 * The most bits per second a stream's audio is taken to carry, container included, by encoding.
 * Opus tops out at 510 kbit/s (RFC 6716), MP3 at 320 kbit/s (the highest MPEG-1 Layer III
 * bitrate; free-format streams are not accepted); FLAC is bounded by 16-bit mono PCM at the
 * sample rate (48 kHz when the request names none), plus 1/16 for frame headers and verbatim
 * frames. Stereo or 24-bit FLAC that compresses badly may meet the bound before `maxAudioMs`.
 */
export const STREAM_AUDIO_MAX_BITS_PER_SECOND: Readonly<Record<Exclude<AudioEncoding, 'LINEAR16' | 'FLAC'>, number>> = {
  OGG_OPUS: 512_000,
  WEBM_OPUS: 512_000,
  MP3: 320_000,
};
/** Bytes of headers (OpusHead/OpusTags, the WebM EBML header and Tracks, an ID3 tag) allowed on top of compressed audio. */
export const STREAM_AUDIO_HEADER_BYTES = 4_096;

/**
 * The most bytes `maxAudioMs` of audio in `encoding` can take: exact for LINEAR16 (16-bit mono at
 * `sampleRateHertz`), for compressed audio its highest bitrate
 * (`STREAM_AUDIO_MAX_BITS_PER_SECOND`, FLAC as 17 bits per sample) plus
 * `STREAM_AUDIO_HEADER_BYTES`. More bytes than this cannot be `maxAudioMs` of audio however fast
 * they are sent, so a stream past it is refused (`invalid_request`).
 */
export function streamAudioByteLimit(req: Pick<SttStreamRequest, 'encoding' | 'sampleRateHertz' | 'maxAudioMs'>): number {
  const rate = req.sampleRateHertz ?? 48_000;
  if (req.encoding === 'LINEAR16') return (req.maxAudioMs * rate * 2) / 1000;
  const bitsPerSecond = req.encoding === 'FLAC' ? rate * 17 : STREAM_AUDIO_MAX_BITS_PER_SECOND[req.encoding];
  return Math.ceil((req.maxAudioMs * bitsPerSecond) / 8000) + STREAM_AUDIO_HEADER_BYTES;
}

/**
 * Measures the audio of a stream as it arrives and refuses what breaks the request: a chunk that
 * is not bytes, audio past `maxAudioMs`. LINEAR16 is measured by its bytes (16-bit mono);
 * compressed audio by the time since its first chunk (a microphone delivers in real time), OGG_OPUS
 * by its pages' granule positions when they say more, and refused past `streamAudioByteLimit`,
 * as a client may send it faster than real time.
 */
export class AudioMeter {
  bytes = 0;
  private firstAt: number | undefined;
  private readonly byteLimit: number;
  private readonly ogg: OggDuration | undefined;

  constructor(
    private readonly req: SttStreamRequest,
    private readonly now: () => number,
  ) {
    this.byteLimit = streamAudioByteLimit(req);
    this.ogg = req.encoding === 'OGG_OPUS' ? new OggDuration() : undefined;
  }

  /** Audio received so far, ms. */
  get audioMs(): number {
    if (this.req.encoding === 'LINEAR16') return Math.floor((this.bytes / 2 / this.req.sampleRateHertz!) * 1000);
    const sinceFirstMs = this.firstAt === undefined ? 0 : this.now() - this.firstAt;
    return Math.max(sinceFirstMs, this.ogg?.audioMs ?? 0);
  }

  /** Counts one chunk; throws `invalid_request` naming the field when the chunk breaks the request. */
  add(chunk: unknown, index: number): void {
    if (!(chunk instanceof Uint8Array)) throw requestError(STT_STREAM_OPERATION, [`audio: chunk ${index} must be a Uint8Array (or Buffer)`]);
    this.firstAt ??= this.now();
    this.bytes += chunk.byteLength;
    this.ogg?.add(chunk);
    const max = this.req.maxAudioMs;
    if (this.req.encoding !== 'LINEAR16' && this.bytes > this.byteLimit) {
      throw requestError(STT_STREAM_OPERATION, [`audio: ${this.bytes} bytes of ${this.req.encoding} are more than the request's maxAudioMs (${max} ms) can hold (at most ${this.byteLimit} bytes)`]);
    }
    if (this.audioMs > max) throw requestError(STT_STREAM_OPERATION, [`audio: longer than the request's maxAudioMs (${max} ms)`]);
  }
}
