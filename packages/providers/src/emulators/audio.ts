// Audio the emulators speak and hear. The TTS emulators return real, playable audio (a WAV
// with a tone per syllable, or MP3 frames) that also carries its text: a custom RIFF chunk
// `ktxt` in WAV, an ID3v2 TXXX frame in MP3. The STT emulators read that text back, so a
// TTS -> STT round trip is exact without a speech model. Tests and demos use the same
// helpers to fabricate learner audio.

import { isHangulSyllable, medialIndex } from './hangul.js';

/** Sample rate of synthesized WAV / PCM when none is requested (Google TTS and OpenAI default to 24 kHz). */
export const DEFAULT_SAMPLE_RATE_HERTZ = 24_000;
/** The MP3 the emulators write: MPEG-1 Layer III, mono, 32 kHz, 32 kbps, 144-byte frames of 1152 samples (36 ms). */
export const MP3_SAMPLE_RATE_HERTZ = 32_000;
export const MP3_BITRATE_KBPS = 32;
export const MP3_SAMPLES_PER_FRAME = 1152;
const MP3_FRAME_BYTES = (144 * MP3_BITRATE_KBPS * 1000) / MP3_SAMPLE_RATE_HERTZ;

/** RIFF chunk id holding the spoken text (UTF-8). Players skip unknown chunks. */
export const WAV_TEXT_CHUNK_ID = 'ktxt';
/** Description of the ID3v2 TXXX frame holding the spoken text. */
export const ID3_TEXT_DESCRIPTION = 'korean-together:text';

/** Milliseconds per unit of text at speakingRate 1. */
export const SPEECH_TIMING = {
  /** Each Hangul syllable: one tone. */
  hangulSyllableMs: 150,
  /** Each other letter or digit: a shorter tone. */
  otherLetterMs: 70,
  /** A run of whitespace: a short pause. */
  spaceMs: 80,
  /** . ! ? and similar: a sentence pause. */
  sentencePauseMs: 300,
  /** , ; : and similar: a clause pause. */
  clausePauseMs: 150,
  /** Silence before and after the speech. */
  edgeSilenceMs: 100,
} as const;

export interface SynthesizeOptions {
  /** Output sample rate in Hz (WAV / PCM only), 8000..48000. Default 24000. */
  sampleRateHertz?: number;
  /** 0.25..4; durations are divided by it. Default 1. */
  speakingRate?: number;
}

interface Segment {
  ms: number;
  /** Tone frequency in Hz, or 0 for silence. */
  hz: number;
}

const SENTENCE_END = /[.!?。！？…]/u;
const CLAUSE_END = /[,;:、，；：]/u;

function clampRate(rate: number | undefined): number {
  if (rate === undefined || rate === 0) return 1;
  if (!Number.isFinite(rate) || rate < 0.25 || rate > 4) throw new RangeError(`speakingRate must be within 0.25..4 (got ${rate})`);
  return rate;
}

/** The tone/silence timeline for speaking `text`: one tone per syllable, pauses at spaces and punctuation. */
function segments(text: string, speakingRate = 1): Segment[] {
  const rate = clampRate(speakingRate);
  const out: Segment[] = [{ ms: SPEECH_TIMING.edgeSilenceMs, hz: 0 }];
  let inSpace = false;
  for (const ch of text) {
    if (/\s/u.test(ch)) {
      if (!inSpace) out.push({ ms: SPEECH_TIMING.spaceMs / rate, hz: 0 });
      inSpace = true;
      continue;
    }
    inSpace = false;
    if (isHangulSyllable(ch)) {
      // Pitch follows the vowel, so different words give audibly different patterns.
      out.push({ ms: SPEECH_TIMING.hangulSyllableMs / rate, hz: 180 + medialIndex(ch)! * 14 });
    } else if (/[\p{L}\p{N}]/u.test(ch)) {
      out.push({ ms: SPEECH_TIMING.otherLetterMs / rate, hz: 260 + (ch.codePointAt(0)! % 16) * 10 });
    } else if (SENTENCE_END.test(ch)) {
      out.push({ ms: SPEECH_TIMING.sentencePauseMs / rate, hz: 0 });
    } else if (CLAUSE_END.test(ch)) {
      out.push({ ms: SPEECH_TIMING.clausePauseMs / rate, hz: 0 });
    }
  }
  out.push({ ms: SPEECH_TIMING.edgeSilenceMs, hz: 0 });
  return out;
}

/** How long the emulators take to "say" `text`, in milliseconds (proportional to its syllables). */
export function speechDurationMs(text: string, speakingRate = 1): number {
  return Math.round(segments(text, speakingRate).reduce((sum, s) => sum + s.ms, 0));
}

function checkSampleRate(rate: number): number {
  if (!Number.isInteger(rate) || rate < 8000 || rate > 48_000) throw new RangeError(`sampleRateHertz must be an integer within 8000..48000 (got ${rate})`);
  return rate;
}

/** 16-bit mono little-endian PCM samples of `text`'s tone pattern, no header. */
export function synthesizePcm(text: string, opts: SynthesizeOptions = {}): Uint8Array {
  const rate = checkSampleRate(opts.sampleRateHertz ?? DEFAULT_SAMPLE_RATE_HERTZ);
  const segs = segments(text, opts.speakingRate);
  const counts = segs.map((s) => Math.round((s.ms * rate) / 1000));
  const total = counts.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(total * 2);
  const view = new DataView(out.buffer);
  const fade = Math.round(rate * 0.008);
  let pos = 0;
  segs.forEach((seg, i) => {
    const n = counts[i]!;
    if (seg.hz > 0) {
      for (let k = 0; k < n; k++) {
        const env = Math.min(1, k / fade, (n - 1 - k) / fade);
        const t = k / rate;
        const v = 0.7 * Math.sin(2 * Math.PI * seg.hz * t) + 0.3 * Math.sin(4 * Math.PI * seg.hz * t);
        view.setInt16((pos + k) * 2, Math.round(v * env * 0.3 * 32767), true);
      }
    }
    pos += n;
  });
  return out;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function ascii(bytes: Uint8Array, at: number, len: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + len));
}

/**
 * A playable WAV (RIFF, PCM 16-bit mono) of `text`: one tone per syllable, pauses at spaces
 * and punctuation, duration from `speechDurationMs`. The text is stored in a `ktxt` chunk
 * before the audio data.
 */
export function synthesizeWav(text: string, opts: SynthesizeOptions = {}): Uint8Array {
  const rate = checkSampleRate(opts.sampleRateHertz ?? DEFAULT_SAMPLE_RATE_HERTZ);
  return pcmToWav(synthesizePcm(text, { ...opts, sampleRateHertz: rate }), rate, text);
}

/** Wraps 16-bit mono PCM in a WAV container, optionally with the `ktxt` text chunk. */
export function pcmToWav(pcm: Uint8Array, sampleRateHertz: number, text?: string): Uint8Array {
  const textBytes = text === undefined ? new Uint8Array(0) : utf8.encode(text);
  const textChunk = text === undefined ? 0 : 8 + textBytes.length + (textBytes.length % 2);
  const size = 12 + 24 + textChunk + 8 + pcm.length + (pcm.length % 2);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => out.set(utf8.encode(s), at);
  put(0, 'RIFF');
  v.setUint32(4, size - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRateHertz, true);
  v.setUint32(28, sampleRateHertz * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  let at = 36;
  if (text !== undefined) {
    put(at, WAV_TEXT_CHUNK_ID);
    v.setUint32(at + 4, textBytes.length, true);
    out.set(textBytes, at + 8);
    at += textChunk;
  }
  put(at, 'data');
  v.setUint32(at + 4, pcm.length, true);
  out.set(pcm, at + 8);
  return out;
}

export interface WavInfo {
  sampleRateHertz: number;
  channels: number;
  bitsPerSample: number;
  /** Format tag: 1 = PCM. */
  audioFormat: number;
  /** Byte offset of the sample data. */
  dataOffset: number;
  /** Sample bytes the header promises. */
  declaredDataBytes: number;
  /** Sample bytes actually present (less than declared when the file was cut short). */
  availableDataBytes: number;
  /** Duration the header promises, in ms. */
  declaredDurationMs: number;
  /** Duration of the samples present, in ms. */
  durationMs: number;
  /** Text from the `ktxt` chunk, when present. */
  text?: string;
}

/** Parses a RIFF/WAVE header; undefined when the bytes are not a WAV file. */
export function wavInfo(bytes: Uint8Array): WavInfo | undefined {
  if (bytes.length < 12 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  let fmt: Pick<WavInfo, 'sampleRateHertz' | 'channels' | 'bitsPerSample' | 'audioFormat'> | undefined;
  let text: string | undefined;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at, 4);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      fmt = {
        audioFormat: v.getUint16(body, true),
        channels: v.getUint16(body + 2, true),
        sampleRateHertz: v.getUint32(body + 4, true),
        bitsPerSample: v.getUint16(body + 14, true),
      };
    } else if (id === WAV_TEXT_CHUNK_ID) {
      text = utf8Decoder.decode(bytes.subarray(body, Math.min(bytes.length, body + size)));
    } else if (id === 'data') {
      if (!fmt || fmt.sampleRateHertz === 0) return undefined;
      const available = Math.min(size, bytes.length - body);
      const bytesPerMs = (fmt.sampleRateHertz * fmt.channels * Math.max(1, fmt.bitsPerSample / 8)) / 1000;
      return {
        ...fmt,
        dataOffset: body,
        declaredDataBytes: size,
        availableDataBytes: available,
        declaredDurationMs: Math.round(size / bytesPerMs),
        durationMs: Math.round(available / bytesPerMs),
        ...(text !== undefined && { text }),
      };
    }
    at = body + size + (size % 2);
  }
  return undefined;
}

/** Duration in ms of the samples present in a WAV file; undefined when not a WAV. */
export function wavDurationMs(bytes: Uint8Array): number | undefined {
  return wavInfo(bytes)?.durationMs;
}

// ---- MP3 -------------------------------------------------------------------------------

function syncsafe(n: number): number[] {
  return [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
}
function readSyncsafe(b: Uint8Array, at: number): number {
  return ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f);
}

function id3Frame(id: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + body.length);
  out.set(utf8.encode(id), 0);
  out.set(syncsafe(body.length), 4);
  out.set(body, 10);
  return out;
}

/** An ID3v2.4 tag with the text (TXXX, UTF-8) and the length in ms (TLEN). */
function id3Tag(text: string, durationMs: number): Uint8Array {
  const txxx = id3Frame('TXXX', new Uint8Array([3, ...utf8.encode(ID3_TEXT_DESCRIPTION), 0, ...utf8.encode(text)]));
  const tlen = id3Frame('TLEN', new Uint8Array([3, ...utf8.encode(String(durationMs))]));
  const size = txxx.length + tlen.length;
  const out = new Uint8Array(10 + size);
  out.set([0x49, 0x44, 0x33, 4, 0, 0, ...syncsafe(size)], 0);
  out.set(txxx, 10);
  out.set(tlen, 10 + txxx.length);
  return out;
}

/**
 * An MP3 of `text`: an ID3v2.4 tag carrying the text, then silent MPEG-1 Layer III frames
 * (mono, 32 kHz, 32 kbps, 144 bytes each, valid headers and empty side information) whose
 * count gives the speech duration: frames x 1152 / 32000 s.
 */
export function synthesizeMp3(text: string, opts: Pick<SynthesizeOptions, 'speakingRate'> = {}): Uint8Array {
  const ms = speechDurationMs(text, opts.speakingRate);
  const frames = Math.max(1, Math.round((ms * MP3_SAMPLE_RATE_HERTZ) / 1000 / MP3_SAMPLES_PER_FRAME));
  const tag = id3Tag(text, Math.round((frames * MP3_SAMPLES_PER_FRAME * 1000) / MP3_SAMPLE_RATE_HERTZ));
  const out = new Uint8Array(tag.length + frames * MP3_FRAME_BYTES);
  out.set(tag, 0);
  // 0xFFFB: sync, MPEG-1, Layer III, no CRC. 0x18: 32 kbps, 32 kHz, no padding. 0xC0: mono.
  for (let i = 0; i < frames; i++) out.set([0xff, 0xfb, 0x18, 0xc0], tag.length + i * MP3_FRAME_BYTES);
  return out;
}

const MP3_BITRATES: Record<string, number[]> = {
  // kbps by bitrate index, for [version][layer]: V1 = MPEG-1, V2 = MPEG-2 / 2.5.
  V1L1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  V1L2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  V1L3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  V2L1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  V2L2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  V2L3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface FrameHeader {
  bytes: number;
  samples: number;
  sampleRateHertz: number;
  bitrateKbps: number;
}

function frameHeader(b: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
  const layer = (b[at + 1]! >> 1) & 3; // 3 = I, 2 = II, 1 = III
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  const padding = (b[at + 2]! >> 1) & 1;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const layerNo = 4 - layer;
  const bitrateKbps = MP3_BITRATES[`${version === 3 ? 'V1' : 'V2'}L${layerNo}`]![bitrateIndex]!;
  const sampleRateHertz = MP3_SAMPLE_RATES[version]![rateIndex]!;
  let samples: number;
  let bytes: number;
  if (layerNo === 1) {
    samples = 384;
    bytes = (Math.floor((12 * bitrateKbps * 1000) / sampleRateHertz) + padding) * 4;
  } else {
    samples = layerNo === 3 && version !== 3 ? 576 : 1152;
    bytes = Math.floor(((samples / 8) * bitrateKbps * 1000) / sampleRateHertz) + padding;
  }
  return { bytes, samples, sampleRateHertz, bitrateKbps };
}

interface Id3Info {
  /** Bytes taken by the tag (header, frames, footer). */
  size: number;
  text?: string;
  tlenMs?: number;
}

function id3Info(b: Uint8Array): Id3Info | undefined {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return undefined;
  const major = b[3]!;
  const footer = (b[5]! & 0x10) !== 0;
  const size = 10 + readSyncsafe(b, 6) + (footer ? 10 : 0);
  const end = Math.min(b.length, 10 + readSyncsafe(b, 6));
  const info: Id3Info = { size };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 10;
  while (at + 10 <= end && b[at] !== 0) {
    const id = ascii(b, at, 4);
    const len = major >= 4 ? readSyncsafe(b, at + 4) : v.getUint32(at + 4);
    const body = b.subarray(at + 10, Math.min(end, at + 10 + len));
    if (body[0] === 3 || body[0] === 0) {
      if (id === 'TXXX') {
        const sep = body.indexOf(0, 1);
        if (sep > 0 && utf8Decoder.decode(body.subarray(1, sep)) === ID3_TEXT_DESCRIPTION) info.text = utf8Decoder.decode(body.subarray(sep + 1));
      } else if (id === 'TLEN') {
        const n = Number(utf8Decoder.decode(body.subarray(1)).replace(/\0+$/, ''));
        if (Number.isFinite(n)) info.tlenMs = n;
      }
    }
    at += 10 + len;
  }
  return info;
}

export interface Mp3Info {
  sampleRateHertz: number;
  bitrateKbps: number;
  /** Complete frames present. */
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

/** Walks the MPEG audio frames after an optional ID3v2 tag; undefined when no frame is found. */
export function mp3Info(bytes: Uint8Array): Mp3Info | undefined {
  const tag = id3Info(bytes);
  let at = tag?.size ?? 0;
  const first = frameHeader(bytes, at);
  if (!first) return undefined;
  let frames = 0;
  let samples = 0;
  let truncated = false;
  while (at < bytes.length) {
    const h = frameHeader(bytes, at);
    if (!h) break;
    if (at + h.bytes > bytes.length) {
      truncated = true;
      break;
    }
    frames++;
    samples += h.samples;
    at += h.bytes;
  }
  return {
    sampleRateHertz: first.sampleRateHertz,
    bitrateKbps: first.bitrateKbps,
    frames,
    durationMs: Math.round((samples * 1000) / first.sampleRateHertz),
    truncated,
    ...(tag?.tlenMs !== undefined && { declaredDurationMs: tag.tlenMs }),
    ...(tag?.text !== undefined && { text: tag.text }),
  };
}

/** Duration in ms of the complete MP3 frames present; undefined when not MP3. */
export function mp3DurationMs(bytes: Uint8Array): number | undefined {
  return mp3Info(bytes)?.durationMs;
}

// ---- Reading audio back --------------------------------------------------------------------

/** The text a WAV (`ktxt` chunk) or MP3 (ID3 TXXX frame) carries, or undefined. */
export function readEmbeddedText(bytes: Uint8Array): string | undefined {
  return wavInfo(bytes)?.text ?? id3Info(bytes)?.text;
}

export type AudioContainer = 'wav' | 'mp3' | 'ogg' | 'flac' | 'webm' | 'unknown';

/** Recognises the container from its magic bytes. */
export function detectAudioContainer(bytes: Uint8Array): AudioContainer {
  if (wavInfo(bytes)) return 'wav';
  if (id3Info(bytes) || frameHeader(bytes, 0)) return 'mp3';
  const magic = ascii(bytes, 0, 4);
  if (magic === 'OggS') return 'ogg';
  if (magic === 'fLaC') return 'flac';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  return 'unknown';
}

/** Bit rate assumed for compressed audio the emulators cannot measure (FLAC, Opus, WebM): 32 kbps. */
export const ASSUMED_COMPRESSED_BYTES_PER_SECOND = 4000;

/**
 * Best-effort duration in ms: WAV and MP3 from their headers and frames, raw LINEAR16 from
 * `sampleRateHertz` (16-bit mono), anything else from its size at 32 kbps.
 */
export function audioDurationMs(bytes: Uint8Array, hint: { encoding?: string; sampleRateHertz?: number } = {}): number {
  const wav = wavInfo(bytes);
  if (wav) return wav.durationMs;
  const mp3 = mp3Info(bytes);
  if (mp3) return mp3.durationMs;
  if (hint.encoding === 'LINEAR16' && hint.sampleRateHertz) return Math.round((bytes.length / 2 / hint.sampleRateHertz) * 1000);
  return Math.round((bytes.length / ASSUMED_COMPRESSED_BYTES_PER_SECOND) * 1000);
}

export interface HeardAudio {
  /** What the audio says: its embedded text, cut to the part actually present; '' when it carries none. */
  transcript: string;
  /** Duration of the audio present, in ms. */
  durationMs: number;
  /** True when the audio is shorter than its header promises. */
  truncated: boolean;
}

/** Keeps the words of `text` spoken within the first `fraction` of its duration. */
function spokenPrefix(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const total = speechDurationMs(text) - 2 * SPEECH_TIMING.edgeSilenceMs;
  const words = text.split(/\s+/u).filter(Boolean);
  const kept: string[] = [];
  let elapsed = 0;
  for (const w of words) {
    elapsed += speechDurationMs(w) - 2 * SPEECH_TIMING.edgeSilenceMs + (kept.length ? SPEECH_TIMING.spaceMs : 0);
    if (elapsed > fraction * total + 1e-6) break;
    kept.push(w);
  }
  return kept.join(' ');
}

/**
 * What the STT emulators "hear": the embedded text of a WAV or MP3 (only the words whose
 * audio is present when the file was cut short) and the duration present. Audio without
 * embedded text yields an empty transcript.
 */
export function hearAudio(bytes: Uint8Array, hint: { encoding?: string; sampleRateHertz?: number } = {}): HeardAudio {
  const wav = wavInfo(bytes);
  if (wav) {
    const fraction = wav.declaredDataBytes > 0 ? wav.availableDataBytes / wav.declaredDataBytes : 1;
    return { transcript: wav.text ? spokenPrefix(wav.text, fraction) : '', durationMs: wav.durationMs, truncated: fraction < 1 };
  }
  const mp3 = mp3Info(bytes);
  if (mp3) {
    const declared = mp3.declaredDurationMs ?? mp3.durationMs;
    const fraction = declared > 0 ? Math.min(1, mp3.durationMs / declared) : 1;
    return { transcript: mp3.text ? spokenPrefix(mp3.text, fraction) : '', durationMs: mp3.durationMs, truncated: mp3.truncated || fraction < 1 };
  }
  return { transcript: '', durationMs: audioDurationMs(bytes, hint), truncated: false };
}

/**
 * Cuts audio short while keeping its header (which then promises more than is present):
 * WAV keeps `fraction` of its samples; MP3 keeps `fraction` of its frames and ends inside
 * the next one. Other bytes are cut at `fraction` of their length.
 */
export function truncateAudio(bytes: Uint8Array, fraction = 0.5): Uint8Array {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`truncateAudio: fraction must be within [0, 1) (got ${fraction})`);
  const wav = wavInfo(bytes);
  if (wav) {
    const keep = Math.floor((wav.availableDataBytes * fraction) / 2) * 2;
    return bytes.slice(0, wav.dataOffset + keep);
  }
  const tag = id3Info(bytes);
  const start = tag?.size ?? 0;
  const mp3 = mp3Info(bytes);
  if (mp3) {
    const first = frameHeader(bytes, start)!;
    const keepFrames = Math.floor(mp3.frames * fraction);
    return bytes.slice(0, start + keepFrames * first.bytes + Math.floor(first.bytes / 2));
  }
  return bytes.slice(0, Math.floor(bytes.length * fraction));
}
