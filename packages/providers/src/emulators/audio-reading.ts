// The emulators' view of an audio file: its container and length from core's parsers (the
// same ones the client validates and bills with), plus the embedded text and promised length
// the emulators' own TTS audio carries.

import { type AudioEncoding } from '@korean-together/core';
import { audioDurationMs, id3v2Length, parseMp3FrameHeader, parseWav, scanMp3, type Mp3Scan, type WavInfo } from '@korean-together/core/provider-kit';
import { id3Text, wavText } from './embedded-text.js';

/** Core's WavInfo plus the text of the file's `ktxt` chunk, when it has one. */
export interface TaggedWavInfo extends WavInfo {
  text?: string;
}

/** Parses a RIFF/WAVE header (core's parseWav) and its `ktxt` text; undefined when the bytes are not a WAV file. */
export function wavInfo(bytes: Uint8Array): TaggedWavInfo | undefined {
  const info = parseWav(bytes);
  if (!info) return undefined;
  const text = wavText(bytes);
  return text === undefined ? info : { ...info, text };
}

/** Duration in ms of the samples present in a WAV file; undefined when not a WAV. */
export function wavDurationMs(bytes: Uint8Array): number | undefined {
  return parseWav(bytes)?.durationMs;
}

export interface Mp3Info {
  sampleRateHertz: number;
  /** Average bit rate of the complete frames, in kbps (the nominal rate for CBR); the first frame's when none is complete. */
  bitrateKbps: number;
  /** Complete audio frames present (a leading Xing/Info frame is not audio and not counted). */
  frames: number;
  /** Duration of the complete frames, in ms. */
  durationMs: number;
  /** Duration promised by the ID3 TLEN frame, when present. */
  declaredDurationMs?: number;
  /** True when the data ends inside a frame (the file was cut short). */
  truncated: boolean;
  /** Text from the ID3 TXXX frame, when present. */
  text?: string;
}

/** Frame bytes x 8 over their playing time; for a file cut inside its first frame, that frame's header's rate. */
function averageKbps(bytes: Uint8Array, scan: Mp3Scan): number {
  if (scan.durationMs > 0) return Math.round((scan.frames.reduce((n, f) => n + f.length, 0) * 8) / scan.durationMs);
  const first = parseMp3FrameHeader(bytes, scan.infoFrame ? scan.infoFrame.offset + scan.infoFrame.length : id3v2Length(bytes));
  return first ? Math.round((first.length * 8 * first.sampleRate) / first.samples / 1000) : 0;
}

/** Walks the MPEG audio frames (core's scanMp3) after an optional ID3v2 tag; undefined when no frame is found. */
export function mp3Info(bytes: Uint8Array): Mp3Info | undefined {
  const scan = scanMp3(bytes);
  if (!scan) return undefined;
  const tag = id3Text(bytes);
  return {
    sampleRateHertz: scan.sampleRate,
    bitrateKbps: averageKbps(bytes, scan),
    frames: scan.frames.length,
    durationMs: scan.durationMs,
    truncated: scan.truncated,
    ...(tag?.declaredDurationMs !== undefined && { declaredDurationMs: tag.declaredDurationMs }),
    ...(tag?.text !== undefined && { text: tag.text }),
  };
}

/** Duration in ms of the complete MP3 frames present; undefined when not MP3. */
export function mp3DurationMs(bytes: Uint8Array): number | undefined {
  return mp3Info(bytes)?.durationMs;
}

export type AudioContainer = 'wav' | 'mp3' | 'ogg' | 'flac' | 'webm' | 'unknown';

const startsWith = (b: Uint8Array, at: number, magic: readonly number[]): boolean => magic.every((byte, i) => b[at + i] === byte);

/** Recognises the container from its header (an ID3v2 tag may precede MP3 or FLAC). */
export function detectAudioContainer(bytes: Uint8Array): AudioContainer {
  if (parseWav(bytes)) return 'wav';
  const tag = id3v2Length(bytes);
  if (startsWith(bytes, tag, [0x66, 0x4c, 0x61, 0x43])) return 'flac';
  if (tag > 0 || parseMp3FrameHeader(bytes, 0)) return 'mp3';
  if (startsWith(bytes, 0, [0x4f, 0x67, 0x67, 0x53])) return 'ogg';
  if (startsWith(bytes, 0, [0x1a, 0x45, 0xdf, 0xa3])) return 'webm';
  return 'unknown';
}

/** Bit rate assumed for audio whose container does not state its length (WebM, unknown bytes): 32 kbps. */
export const ASSUMED_COMPRESSED_BYTES_PER_SECOND = 4000;

/** Containers core's audioDurationMs measures (MP3 is measured by its frames, below). */
const ENCODING_OF: Partial<Record<AudioContainer, AudioEncoding>> = { wav: 'LINEAR16', flac: 'FLAC', ogg: 'OGG_OPUS' };

/**
 * Best-effort duration in ms, as the emulators bill it: MP3 from its frames (core's scanMp3),
 * WAV, FLAC and Ogg Opus from their headers (core's audioDurationMs), raw LINEAR16 from
 * `sampleRateHertz` (16-bit mono), anything else (WebM, unknown bytes) from its size at 32 kbps.
 */
export function estimateAudioDurationMs(bytes: Uint8Array, hint: { encoding?: string; sampleRateHertz?: number } = {}): number {
  const container = detectAudioContainer(bytes);
  // An MP3 cut inside its first frame plays for 0 ms (core's audioDurationMs leaves it unmeasured).
  const mp3 = container === 'mp3' ? scanMp3(bytes) : undefined;
  if (mp3) return mp3.durationMs;
  const encoding = ENCODING_OF[container] ?? (container === 'unknown' && hint.encoding === 'LINEAR16' ? 'LINEAR16' : undefined);
  const measured = encoding && audioDurationMs(bytes, encoding, hint.sampleRateHertz);
  return measured ?? Math.round((bytes.length / ASSUMED_COMPRESSED_BYTES_PER_SECOND) * 1000);
}
