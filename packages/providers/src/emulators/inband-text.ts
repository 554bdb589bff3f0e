// Text carried inside the audio signal itself, for audio that loses every container tag on its
// way: a browser microphone (Chromium's fake capture device plays a WAV's samples, not its
// chunks), headerless PCM streams. A short tone code before the speech: a start marker, then the
// UTF-8 bytes' length and bytes as one tone per 4 bits (16 frequencies, 20 ms each), then an end
// marker. Any pipeline that keeps frequencies (resampling, float conversion, gain) keeps the
// text, and the STT emulators read it back with Goertzel filters.

import { SPEECH_TIMING, synthesizePcm } from './speech-synthesis.js';

const SYMBOL_MS = 20;
const MARKER_MS = 60;
const LEAD_SILENCE_MS = SPEECH_TIMING.edgeSilenceMs;
const START_HZ = 4400;
const END_HZ = 4700;
/** Nibble k is a tone at 1200 + 180 k Hz (1200..3900 Hz), inside 8 kHz audio's band. */
const nibbleHz = (k: number) => 1200 + 180 * k;
const AMPLITUDE = 0.3 * 32767;
const MAX_BYTES = 4096;

function tone(out: Int16Array, at: number, n: number, hz: number, rate: number): void {
  const fade = Math.max(1, Math.round(rate * 0.002));
  for (let k = 0; k < n; k++) {
    const env = Math.min(1, k / fade, (n - 1 - k) / fade);
    out[at + k] = Math.round(AMPLITUDE * env * Math.sin((2 * Math.PI * hz * k) / rate));
  }
}

/** The tone code of `text` at `rate` Hz: 16-bit mono PCM, lead silence included. */
export function inbandTextPcm(text: string, rate: number): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_BYTES) throw new RangeError(`inbandTextPcm: text is ${bytes.length} UTF-8 bytes; at most ${MAX_BYTES} fit`);
  const nibbles = [bytes.length >> 12, (bytes.length >> 8) & 15, (bytes.length >> 4) & 15, bytes.length & 15];
  for (const b of bytes) nibbles.push(b >> 4, b & 15);
  const ms = (x: number) => Math.round((x * rate) / 1000);
  const total = ms(LEAD_SILENCE_MS) + 2 * ms(MARKER_MS) + nibbles.length * ms(SYMBOL_MS);
  const out = new Int16Array(total);
  let at = ms(LEAD_SILENCE_MS);
  tone(out, at, ms(MARKER_MS), START_HZ, rate);
  at += ms(MARKER_MS);
  for (const k of nibbles) {
    tone(out, at, ms(SYMBOL_MS), nibbleHz(k), rate);
    at += ms(SYMBOL_MS);
  }
  tone(out, at, ms(MARKER_MS), END_HZ, rate);
  return new Uint8Array(out.buffer);
}

/**
 * What a microphone hears of someone saying `text`: the tone code, then the emulators' speech
 * (synthesizePcm), as headerless 16-bit mono PCM. Wrap it with pcmToWav (no text chunk) for a
 * fake capture device.
 */
export function synthesizeMicrophonePcm(text: string, opts: { sampleRateHertz?: number; speakingRate?: number } = {}): Uint8Array {
  const rate = opts.sampleRateHertz ?? 16_000;
  const code = inbandTextPcm(text, rate);
  const speech = synthesizePcm(text, { sampleRateHertz: rate, ...(opts.speakingRate !== undefined && { speakingRate: opts.speakingRate }) });
  const out = new Uint8Array(code.length + speech.length);
  out.set(code);
  out.set(speech, code.length);
  return out;
}

/** Power of `hz` in x[from, from+n), relative to the window's energy (about 1 for a pure tone at hz). */
function toneShare(x: Float32Array, from: number, n: number, hz: number, rate: number, energy: number): number {
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < from + n; i++) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return energy > 0 ? power / ((n / 2) * energy) : 0;
}

function energyOf(x: Float32Array, from: number, n: number): number {
  let e = 0;
  for (let i = from; i < from + n; i++) e += x[i]! * x[i]!;
  return e;
}

export interface InbandText {
  text: string;
  /** Sample index where the code ends (the speech starts). */
  endSample: number;
}

/** Reads the tone code from 16-bit mono little-endian PCM at `rate` Hz; undefined until a whole, valid code is present. */
export function readInbandText(pcm: Uint8Array, rate: number): InbandText | undefined {
  const count = Math.floor(pcm.length / 2);
  const view = new DataView(pcm.buffer, pcm.byteOffset, count * 2);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = view.getInt16(i * 2, true) / 32768;
  const win = Math.round((rate * SYMBOL_MS) / 1000);
  const hop = Math.max(1, Math.round(rate * 0.005));
  const quiet = 1e-4 * win;
  for (let pos = 0; pos + win <= count; pos += hop) {
    const e = energyOf(x, pos, win);
    if (e < quiet || toneShare(x, pos, win, START_HZ, rate, e) < 0.6) continue;
    // The marker's onset: the first loud sample of this window (the window may start in silence).
    let onset = pos;
    const loud = 0.05 * (AMPLITUDE / 32768);
    while (onset < pos + win && Math.abs(x[onset]!) < loud) onset++;
    // Back off to the start of the 2 ms fade-in.
    onset = Math.max(0, onset - Math.round(rate * 0.0005));
    const found = decodeFrom(x, onset + Math.round((rate * MARKER_MS) / 1000), rate);
    if (found === 'incomplete') return undefined;
    if (found) return found;
  }
  return undefined;
}

function decodeFrom(x: Float32Array, dataStart: number, rate: number): InbandText | 'incomplete' | undefined {
  const sym = Math.round((rate * SYMBOL_MS) / 1000);
  const edge = Math.round(rate * 0.003);
  const nibbleAt = (i: number): number | 'incomplete' => {
    const from = dataStart + i * sym + edge;
    const n = sym - 2 * edge;
    if (from + n > x.length) return 'incomplete';
    const e = energyOf(x, from, n);
    let best = -1;
    let bestShare = 0;
    for (let k = 0; k < 16; k++) {
      const share = toneShare(x, from, n, nibbleHz(k), rate, e);
      if (share > bestShare) [best, bestShare] = [k, share];
    }
    return bestShare > 0.5 ? best : -1;
  };
  const head: number[] = [];
  for (let i = 0; i < 4; i++) {
    const k = nibbleAt(i);
    if (k === 'incomplete') return 'incomplete';
    if (k < 0) return undefined;
    head.push(k);
  }
  const length = (head[0]! << 12) | (head[1]! << 8) | (head[2]! << 4) | head[3]!;
  if (length > MAX_BYTES) return undefined;
  const bytes = new Uint8Array(length);
  for (let b = 0; b < length; b++) {
    const hi = nibbleAt(4 + 2 * b);
    const lo = nibbleAt(5 + 2 * b);
    if (hi === 'incomplete' || lo === 'incomplete') return 'incomplete';
    if (hi < 0 || lo < 0) return undefined;
    bytes[b] = (hi << 4) | lo;
  }
  const endMarker = dataStart + (4 + 2 * length) * sym;
  const markerLen = Math.round((rate * MARKER_MS) / 1000);
  if (endMarker + markerLen > x.length) return 'incomplete';
  const e = energyOf(x, endMarker + edge, markerLen - 2 * edge);
  if (toneShare(x, endMarker + edge, markerLen - 2 * edge, END_HZ, rate, e) < 0.6) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return { text, endSample: endMarker + markerLen };
}
