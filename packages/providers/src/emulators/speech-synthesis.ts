// Speech the TTS emulators synthesise: real, playable audio with a tone per syllable and
// pauses at spaces and punctuation, timed by SPEECH_TIMING, as raw PCM, WAV or MP3. The WAV
// container is core's writer; the text rides along in the embedded-text tags.

import { buildWav, pcm16Fmt } from '@korean-together/core/provider-kit';
import { id3TextTag, withWavText } from './embedded-text.js';
import { isHangulSyllable, medialIndex } from './hangul.js';

/** Sample rate of synthesized WAV / PCM when none is requested (Google TTS and OpenAI default to 24 kHz). */
export const DEFAULT_SAMPLE_RATE_HERTZ = 24_000;
/** The MP3 the emulators write: MPEG-1 Layer III, mono, 32 kHz, 32 kbps, 144-byte frames of 1152 samples (36 ms). */
export const MP3_SAMPLE_RATE_HERTZ = 32_000;
export const MP3_BITRATE_KBPS = 32;
export const MP3_SAMPLES_PER_FRAME = 1152;
const MP3_FRAME_BYTES = (144 * MP3_BITRATE_KBPS * 1000) / MP3_SAMPLE_RATE_HERTZ;

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

/** The tone or pause one character adds, or undefined for characters that are not spoken. */
function segmentOf(ch: string, rate: number): Segment | undefined {
  // Pitch follows the vowel, so different words give audibly different patterns.
  if (isHangulSyllable(ch)) return { ms: SPEECH_TIMING.hangulSyllableMs / rate, hz: 180 + medialIndex(ch)! * 14 };
  if (/[\p{L}\p{N}]/u.test(ch)) return { ms: SPEECH_TIMING.otherLetterMs / rate, hz: 260 + (ch.codePointAt(0)! % 16) * 10 };
  if (SENTENCE_END.test(ch)) return { ms: SPEECH_TIMING.sentencePauseMs / rate, hz: 0 };
  if (CLAUSE_END.test(ch)) return { ms: SPEECH_TIMING.clausePauseMs / rate, hz: 0 };
  return undefined;
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
    const seg = segmentOf(ch, rate);
    if (seg) out.push(seg);
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

/** Writes `n` samples of a faded two-harmonic tone at `hz` from sample `pos`. */
function writeTone(view: DataView, pos: number, n: number, hz: number, rate: number): void {
  const fade = Math.round(rate * 0.008);
  for (let k = 0; k < n; k++) {
    const env = Math.min(1, k / fade, (n - 1 - k) / fade);
    const t = k / rate;
    const v = 0.7 * Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(4 * Math.PI * hz * t);
    view.setInt16((pos + k) * 2, Math.round(v * env * 0.3 * 32767), true);
  }
}

/** 16-bit mono little-endian PCM samples of `text`'s tone pattern, no header. */
export function synthesizePcm(text: string, opts: SynthesizeOptions = {}): Uint8Array {
  const rate = checkSampleRate(opts.sampleRateHertz ?? DEFAULT_SAMPLE_RATE_HERTZ);
  const segs = segments(text, opts.speakingRate);
  const counts = segs.map((s) => Math.round((s.ms * rate) / 1000));
  const out = new Uint8Array(counts.reduce((a, b) => a + b, 0) * 2);
  const view = new DataView(out.buffer);
  let pos = 0;
  segs.forEach((seg, i) => {
    if (seg.hz > 0) writeTone(view, pos, counts[i]!, seg.hz, rate);
    pos += counts[i]!;
  });
  return out;
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
  const wav = buildWav(pcm16Fmt(sampleRateHertz), pcm);
  return text === undefined ? wav : withWavText(wav, text);
}

/**
 * An MP3 of `text`: an ID3v2.4 tag carrying the text, then silent MPEG-1 Layer III frames
 * (mono, 32 kHz, 32 kbps, 144 bytes each, valid headers and empty side information) whose
 * count gives the speech duration: frames x 1152 / 32000 s.
 */
export function synthesizeMp3(text: string, opts: Pick<SynthesizeOptions, 'speakingRate'> = {}): Uint8Array {
  const ms = speechDurationMs(text, opts.speakingRate);
  const frames = Math.max(1, Math.round((ms * MP3_SAMPLE_RATE_HERTZ) / 1000 / MP3_SAMPLES_PER_FRAME));
  const tag = id3TextTag(text, Math.round((frames * MP3_SAMPLES_PER_FRAME * 1000) / MP3_SAMPLE_RATE_HERTZ));
  const out = new Uint8Array(tag.length + frames * MP3_FRAME_BYTES);
  out.set(tag, 0);
  // 0xFFFB: sync, MPEG-1, Layer III, no CRC. 0x18: 32 kbps, 32 kHz, no padding. 0xC0: mono.
  for (let i = 0; i < frames; i++) out.set([0xff, 0xfb, 0x18, 0xc0], tag.length + i * MP3_FRAME_BYTES);
  return out;
}
