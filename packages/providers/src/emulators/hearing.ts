// What the STT emulators "hear": the embedded text of a WAV or MP3, cut to the words whose
// audio is present, and the length present; and how the truncated_audio fault cuts audio
// short while its header still promises the whole.

import { parseWav, scanMp3 } from '@korean-together/core/provider-kit';
import { estimateAudioDurationMs, mp3Info, wavInfo } from './audio-reading.js';
import { readInbandText, type InbandText } from './inband-text.js';
import { SPEECH_TIMING, speechDurationMs } from './speech-synthesis.js';

export interface HeardAudio {
  /** What the audio says: its embedded text, cut to the part actually present; '' when it carries none. */
  transcript: string;
  /** Duration of the audio present, in ms. */
  durationMs: number;
  /** True when the audio is shorter than its header promises. */
  truncated: boolean;
  /** The whole text the audio carries (its tag, or its in-band tone code), heard or not yet; undefined when it carries none. */
  embeddedText?: string;
}

/**
 * Hears 16-bit mono PCM that carries its text in-band (synthesizeMicrophonePcm): the words
 * spoken in the speech present after the tone code.
 */
export function hearPcm(pcm: Uint8Array, sampleRateHertz: number, code: InbandText | undefined = readInbandText(pcm, sampleRateHertz)): HeardAudio {
  const durationMs = Math.round((Math.floor(pcm.length / 2) / sampleRateHertz) * 1000);
  if (!code) return { transcript: '', durationMs, truncated: false };
  const speechMs = ((Math.floor(pcm.length / 2) - code.endSample) / sampleRateHertz) * 1000;
  const fraction = Math.max(0, speechMs) / speechDurationMs(code.text);
  return { transcript: fraction > 0 ? spokenPrefix(code.text, fraction) : '', durationMs, truncated: false, embeddedText: code.text };
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
 * audio is present when the file was cut short) and the duration present; for headerless
 * LINEAR16 (with its rate) and untagged 16-bit WAV, the in-band tone code's text (the words
 * whose speech follows it). Audio without either yields an empty transcript.
 */
export function hearAudio(bytes: Uint8Array, hint: { encoding?: string; sampleRateHertz?: number } = {}): HeardAudio {
  const wav = wavInfo(bytes);
  if (wav) {
    const fraction = wav.declaredDataLength ? wav.dataLength / wav.declaredDataLength : 1;
    if (!wav.text && wav.bitsPerSample === 16 && wav.channels === 1) {
      // A recording (a microphone, a fake capture device) has no tag, but may carry the tone code.
      const heard = hearPcm(bytes.subarray(wav.dataOffset, wav.dataOffset + wav.dataLength), wav.sampleRate);
      return { ...heard, durationMs: wav.durationMs, truncated: wav.truncated };
    }
    return { transcript: wav.text ? spokenPrefix(wav.text, fraction) : '', durationMs: wav.durationMs, truncated: wav.truncated, ...(wav.text !== undefined && { embeddedText: wav.text }) };
  }
  const mp3 = mp3Info(bytes);
  if (mp3) {
    const declared = mp3.declaredDurationMs ?? mp3.durationMs;
    const fraction = declared > 0 ? Math.min(1, mp3.durationMs / declared) : 1;
    return { transcript: mp3.text ? spokenPrefix(mp3.text, fraction) : '', durationMs: mp3.durationMs, truncated: mp3.truncated || fraction < 1, ...(mp3.text !== undefined && { embeddedText: mp3.text }) };
  }
  if (hint.encoding === 'LINEAR16' && hint.sampleRateHertz) return hearPcm(bytes, hint.sampleRateHertz);
  return { transcript: '', durationMs: estimateAudioDurationMs(bytes, hint), truncated: false };
}

/**
 * Cuts audio short while keeping its header (which then promises more than is present):
 * WAV keeps `fraction` of its samples; MP3 keeps `fraction` of its frames and ends inside
 * the next one. Other bytes are cut at `fraction` of their length.
 */
export function truncateAudio(bytes: Uint8Array, fraction = 0.5): Uint8Array {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`truncateAudio: fraction must be within [0, 1) (got ${fraction})`);
  const wav = parseWav(bytes);
  if (wav) {
    const keep = Math.floor((wav.dataLength * fraction) / wav.blockAlign) * wav.blockAlign;
    return bytes.slice(0, wav.dataOffset + keep);
  }
  const frames = scanMp3(bytes)?.frames ?? [];
  if (frames.length) {
    // fraction < 1, so the frame cut in half always exists.
    const cut = frames[Math.floor(frames.length * fraction)]!;
    return bytes.slice(0, cut.offset + Math.floor(cut.length / 2));
  }
  return bytes.slice(0, Math.floor(bytes.length * fraction));
}
