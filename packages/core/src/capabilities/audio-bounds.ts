import { audioDurationMs } from '../audio/audio-info.js';
import type { AudioEncoding } from '../spec/types.js';

/** Lowest bitrate assumed when sizing audio whose container does not state its length: 6 kbit/s (Opus' floor). */
const MIN_AUDIO_BYTES_PER_SECOND = 750;

/**
 * Audio length in ms for a worst case: `knownMs` (measured from the container) when given,
 * else the longest the bytes could play at 6 kbit/s.
 */
export function worstAudioMs(audio: Uint8Array, knownMs: number | undefined): number {
  return knownMs ?? Math.ceil((audio.byteLength / MIN_AUDIO_BYTES_PER_SECOND) * 1000);
}

const ENCODING_BY_MIME: Record<string, AudioEncoding> = {
  'audio/wav': 'LINEAR16',
  'audio/x-wav': 'LINEAR16',
  'audio/wave': 'LINEAR16',
  'audio/mpeg': 'MP3',
  'audio/mp3': 'MP3',
  'audio/flac': 'FLAC',
  'audio/ogg': 'OGG_OPUS',
  'audio/webm': 'WEBM_OPUS',
};

/** The length of an attachment given by MIME type, measured when its container says. */
export function attachmentDurationMs(data: Uint8Array, mimeType: string): number | undefined {
  const encoding = ENCODING_BY_MIME[mimeType.toLowerCase()];
  return encoding ? audioDurationMs(data, encoding) : undefined;
}
