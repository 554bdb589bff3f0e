import type { AudioEncoding } from '../spec/types.js';
import { id3v2Length, scanMp3 } from './mp3.js';
import { parseWav } from './wav.js';

/** Duration from a FLAC STREAMINFO block, in ms; undefined when absent or the total is unknown. */
export function flacDurationMs(b: Uint8Array): number | undefined {
  // Some taggers put an ID3v2 tag in front of "fLaC"; flacProblem accepts it, so it is skipped here too.
  const at = id3v2Length(b);
  // "fLaC", then a metadata block header (1 byte type, 3 bytes length) whose first block is STREAMINFO.
  if (b.length < at + 42 || b[at] !== 0x66 || b[at + 1] !== 0x4c || b[at + 2] !== 0x61 || b[at + 3] !== 0x43 || (b[at + 4]! & 0x7f) !== 0) return undefined;
  const s = at + 8; // STREAMINFO body
  const sampleRate = (b[s + 10]! << 12) | (b[s + 11]! << 4) | (b[s + 12]! >> 4);
  const totalSamples = (b[s + 13]! & 0x0f) * 2 ** 32 + new DataView(b.buffer, b.byteOffset + s + 14, 4).getUint32(0, false);
  if (!sampleRate || !totalSamples) return undefined;
  return Math.round((totalSamples * 1000) / sampleRate);
}

/** Duration of an Ogg Opus file from its last page's granule position, in ms. */
export function oggOpusDurationMs(b: Uint8Array): number | undefined {
  const isOggS = (at: number) => b[at] === 0x4f && b[at + 1] === 0x67 && b[at + 2] === 0x67 && b[at + 3] === 0x53;
  if (b.length < 47 || !isOggS(0)) return undefined;
  // OpusHead sits in the first page after a 27-byte header and the segment table.
  const headAt = 27 + b[26]!;
  if (String.fromCharCode(...b.subarray(headAt, headAt + 8)) !== 'OpusHead') return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const preSkip = dv.getUint16(headAt + 10, true);
  for (let at = b.length - 27; at > 0; at--) {
    if (!isOggS(at)) continue;
    const granule = Number(dv.getBigInt64(at + 6, true));
    if (granule < 0) continue;
    // Opus granule positions always count 48 kHz samples.
    return Math.max(0, Math.round(((granule - preSkip) * 1000) / 48_000));
  }
  return undefined;
}

/**
 * Audio duration in milliseconds read from the container (WAV, MP3 frames, FLAC STREAMINFO,
 * Ogg Opus granule), or computed from `sampleRateHertz` for headerless LINEAR16 (mono).
 * Undefined when the bytes do not say (WEBM, unknown headers).
 */
export function audioDurationMs(audio: Uint8Array, encoding: AudioEncoding, sampleRateHertz?: number): number | undefined {
  switch (encoding) {
    case 'LINEAR16': {
      const wav = parseWav(audio);
      if (wav) return wav.durationMs;
      return sampleRateHertz ? Math.round((Math.floor(audio.length / 2) * 1000) / sampleRateHertz) : undefined;
    }
    case 'MP3': {
      const scan = scanMp3(audio);
      return scan && scan.frames.length ? scan.durationMs : undefined;
    }
    case 'FLAC':
      return flacDurationMs(audio);
    case 'OGG_OPUS':
      return oggOpusDurationMs(audio);
    default:
      return undefined;
  }
}
