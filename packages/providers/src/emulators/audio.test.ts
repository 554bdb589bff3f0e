import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audioDurationMs, parseWav, scanMp3 } from '@korean-together/core/provider-kit';
import * as providers from '../index.js';
import {
  detectAudioContainer,
  estimateAudioDurationMs,
  hearAudio,
  mp3Info,
  pcmToWav,
  readEmbeddedText,
  speechDurationMs,
  synthesizeMp3,
  synthesizePcm,
  synthesizeWav,
  truncateAudio,
  wavDurationMs,
  wavInfo,
} from './audio.js';
import * as emulators from './index.js';

const ascii = (b: Uint8Array, at: number, n: number) => Buffer.from(b.subarray(at, at + n)).toString('latin1');

/** Reads the chunk list of a RIFF file by the spec, independently of wavInfo. */
function riffChunks(b: Uint8Array): { id: string; size: number; at: number }[] {
  const v = Buffer.from(b);
  const out: { id: string; size: number; at: number }[] = [];
  for (let at = 12; at + 8 <= b.length; ) {
    const size = v.readUInt32LE(at + 4);
    out.push({ id: ascii(b, at, 4), size, at: at + 8 });
    at += 8 + size + (size % 2);
  }
  return out;
}

function rms(samples: Buffer, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples.readInt16LE(i * 2) ** 2;
  return Math.sqrt(sum / (to - from));
}

describe('synthesizeWav', () => {
  const text = '안녕하세요. 만나서 반갑습니다.';

  it('writes a RIFF/WAVE file with a correct PCM 16-bit mono header', () => {
    const wav = Buffer.from(synthesizeWav(text, { sampleRateHertz: 16_000 }));
    expect(ascii(wav, 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(ascii(wav, 8, 4)).toBe('WAVE');
    const chunks = riffChunks(wav);
    expect(chunks.map((c) => c.id)).toEqual(['fmt ', 'ktxt', 'data']);
    const fmt = chunks[0]!.at;
    expect(wav.readUInt16LE(fmt)).toBe(1); // PCM
    expect(wav.readUInt16LE(fmt + 2)).toBe(1); // mono
    expect(wav.readUInt32LE(fmt + 4)).toBe(16_000);
    expect(wav.readUInt32LE(fmt + 8)).toBe(32_000); // byte rate
    expect(wav.readUInt16LE(fmt + 12)).toBe(2); // block align
    expect(wav.readUInt16LE(fmt + 14)).toBe(16);
    const data = chunks[2]!;
    expect(data.at + data.size).toBe(wav.length);
    expect(Buffer.from(wav.subarray(chunks[1]!.at, chunks[1]!.at + chunks[1]!.size)).toString('utf8')).toBe(text);
  });

  it('lasts 150 ms per Hangul syllable plus pauses, scaled by speakingRate', () => {
    // 5 syllables + 2 edges of 100 ms.
    expect(speechDurationMs('안녕하세요')).toBe(950);
    expect(speechDurationMs('안녕하세요', 2)).toBe(575);
    const short = wavDurationMs(synthesizeWav('가나다'))!;
    const long = wavDurationMs(synthesizeWav('가나다가나다가나다'))!;
    expect(short).toBe(650);
    expect(long - 200).toBe(3 * (short - 200));
    expect(wavDurationMs(synthesizeWav(text, { sampleRateHertz: 8000 }))).toBe(speechDurationMs(text));
  });

  it('contains an audible tone for each syllable and silence at pauses', () => {
    const wav = Buffer.from(synthesizeWav('가 나', { sampleRateHertz: 16_000 }));
    const info = wavInfo(wav)!;
    const samples = wav.subarray(info.dataOffset);
    const at = (ms: number) => Math.round((ms * 16_000) / 1000);
    expect(rms(samples, 0, at(100))).toBe(0); // leading silence
    expect(rms(samples, at(110), at(240))).toBeGreaterThan(3000); // 가
    expect(rms(samples, at(255), at(325))).toBe(0); // the space
    expect(rms(samples, at(340), at(470))).toBeGreaterThan(3000); // 나
  });

  it('rejects sample rates and speaking rates Google would refuse', () => {
    expect(() => synthesizeWav('가', { sampleRateHertz: 100 })).toThrow(/sampleRateHertz/);
    expect(() => synthesizeWav('가', { speakingRate: 5 })).toThrow(/speakingRate/);
  });

  it('writes plain PCM without a header, same samples as the WAV', () => {
    const pcm = synthesizePcm('가나', { sampleRateHertz: 8000 });
    const wav = synthesizeWav('가나', { sampleRateHertz: 8000 });
    expect(Buffer.from(wav.subarray(wavInfo(wav)!.dataOffset)).equals(Buffer.from(pcm))).toBe(true);
    expect(hearAudio(pcm, { encoding: 'LINEAR16', sampleRateHertz: 8000 })).toEqual({ transcript: '', durationMs: 500, truncated: false });
  });
});

describe('synthesizeMp3', () => {
  it('writes an ID3v2.4 tag then valid MPEG-1 Layer III frames whose count gives the duration', () => {
    const text = '오늘 날씨가 좋네요.';
    const mp3 = Buffer.from(synthesizeMp3(text));
    expect(ascii(mp3, 0, 3)).toBe('ID3');
    expect(mp3[3]).toBe(4);
    const tagSize = 10 + ((mp3[6]! << 21) | (mp3[7]! << 14) | (mp3[8]! << 7) | mp3[9]!);
    const frameBytes = mp3.length - tagSize;
    expect(frameBytes % 144).toBe(0);
    const frames = frameBytes / 144;
    for (let i = 0; i < frames; i++) {
      const h = mp3.readUInt32BE(tagSize + i * 144);
      expect(h >>> 21).toBe(0x7ff); // frame sync
      expect((h >>> 19) & 3).toBe(3); // MPEG-1
      expect((h >>> 17) & 3).toBe(1); // Layer III
      expect((h >>> 12) & 15).toBe(1); // 32 kbps
      expect((h >>> 10) & 3).toBe(2); // 32 kHz
      expect((h >>> 6) & 3).toBe(3); // mono
    }
    const expectedFrames = Math.round((speechDurationMs(text) * 32) / 1152);
    expect(frames).toBe(expectedFrames);
    const info = mp3Info(mp3)!;
    expect(info).toMatchObject({ sampleRateHertz: 32_000, bitrateKbps: 32, frames, truncated: false, text });
    expect(info.durationMs).toBe(Math.round((frames * 1152 * 1000) / 32_000));
    expect(info.declaredDurationMs).toBe(info.durationMs);
    expect(Math.abs(info.durationMs - speechDurationMs(text))).toBeLessThanOrEqual(18);
  });

  it('grows in proportion to the text', () => {
    const one = mp3Info(synthesizeMp3('가나다라마바사아자차'))!.durationMs;
    const three = mp3Info(synthesizeMp3('가나다라마바사아자차 가나다라마바사아자차 가나다라마바사아자차'))!.durationMs;
    expect(three / one).toBeGreaterThan(2.5);
    expect(three / one).toBeLessThan(3.1);
  });
});

describe('reading audio back', () => {
  it('recovers the exact text from WAV and MP3', () => {
    const text = '저는 학생입니다. 한국어를 배워요!';
    expect(readEmbeddedText(synthesizeWav(text))).toBe(text);
    expect(readEmbeddedText(synthesizeMp3(text))).toBe(text);
    expect(hearAudio(synthesizeWav(text))).toEqual({ transcript: text, durationMs: speechDurationMs(text), truncated: false, embeddedText: text });
    expect(hearAudio(synthesizeMp3(text)).transcript).toBe(text);
  });

  it('hears nothing in audio without embedded text, and measures it from the header or size', () => {
    const wav = pcmToWav(new Uint8Array(32_000), 16_000);
    expect(readEmbeddedText(wav)).toBeUndefined();
    expect(hearAudio(wav)).toEqual({ transcript: '', durationMs: 1000, truncated: false });
    const ogg = new Uint8Array(8000);
    ogg.set([0x4f, 0x67, 0x67, 0x53]);
    expect(detectAudioContainer(ogg)).toBe('ogg');
    expect(estimateAudioDurationMs(ogg)).toBe(2000); // 8000 bytes at 32 kbps
  });

  it('recognises containers', () => {
    expect(detectAudioContainer(synthesizeWav('가'))).toBe('wav');
    expect(detectAudioContainer(synthesizeMp3('가'))).toBe('mp3');
    expect(detectAudioContainer(new Uint8Array([0x66, 0x4c, 0x61, 0x43, 0]))).toBe('flac');
    expect(detectAudioContainer(new Uint8Array([1, 2, 3, 4]))).toBe('unknown');
  });
});

describe('truncateAudio', () => {
  const text = '하나 둘 셋 넷 다섯 여섯 일곱 여덟';

  it('keeps the WAV header, which then promises more samples than are present', () => {
    const full = synthesizeWav(text);
    const cut = truncateAudio(full, 0.5);
    const info = wavInfo(cut)!;
    expect(info.declaredDataLength).toBe(wavInfo(full)!.declaredDataLength);
    expect(info.truncated).toBe(true);
    expect(info.dataLength).toBeLessThan(info.declaredDataLength!);
    const heard = hearAudio(cut);
    expect(heard.truncated).toBe(true);
    expect(heard.durationMs).toBeLessThan(speechDurationMs(text) * 0.55);
    // Only the words whose audio survived are heard.
    expect(heard.transcript).toBe('하나 둘 셋 넷');
  });

  it('ends an MP3 inside a frame', () => {
    const cut = truncateAudio(synthesizeMp3(text), 0.5);
    const info = mp3Info(cut)!;
    expect(info.truncated).toBe(true);
    expect(info.durationMs).toBeLessThan(info.declaredDurationMs!);
    expect(hearAudio(cut).transcript.length).toBeLessThan(text.length);
    expect(text.startsWith(hearAudio(cut).transcript)).toBe(true);
  });

  it('cuts an MP3 inside its first frame: no complete frame, 0 ms, the rate its header states', () => {
    const cut = truncateAudio(synthesizeMp3(text), 0);
    expect(mp3Info(cut)).toMatchObject({ frames: 0, durationMs: 0, bitrateKbps: 32, truncated: true });
    expect(estimateAudioDurationMs(cut)).toBe(0);
    expect(hearAudio(cut)).toEqual({ transcript: '', durationMs: 0, truncated: true, embeddedText: text });
  });
});

/** Real encoder output, shared with core's parser tests. */
const encoded = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../core/test/fixtures/audio/${name}`, import.meta.url)));

describe('audio read with core parsers', () => {
  it('measures FLAC and Ogg Opus from their headers, as the client does, not from their size', () => {
    for (const [name, encoding] of [['tone.flac', 'FLAC'], ['multipage.opus', 'OGG_OPUS']] as const) {
      const audio = encoded(name);
      expect(estimateAudioDurationMs(audio)).toBe(2_500);
      expect(estimateAudioDurationMs(audio)).toBe(audioDurationMs(audio, encoding));
      expect(hearAudio(audio)).toEqual({ transcript: '', durationMs: 2_500, truncated: false });
    }
    expect(detectAudioContainer(encoded('tone.webm'))).toBe('webm');
  });

  it('gives a WAV file as core parses it, plus its embedded text', () => {
    const wav = synthesizeWav('안녕', { sampleRateHertz: 16_000 });
    expect(wavInfo(wav)).toEqual({ ...parseWav(wav), text: '안녕' });
    expect(wavInfo(encoded('extensible.wav'))).toEqual(parseWav(encoded('extensible.wav')));
  });

  it('counts the audio frames of a VBR MP3 without its Xing frame, and cuts it inside a frame', () => {
    const mp3 = encoded('vbr-xing.mp3');
    const frames = scanMp3(mp3)!.frames.length;
    expect(mp3Info(mp3)).toMatchObject({ sampleRateHertz: 16_000, frames, durationMs: 2_592, truncated: false });
    const cut = mp3Info(truncateAudio(mp3, 0.5))!;
    expect(cut).toMatchObject({ frames: Math.floor(frames / 2), truncated: true });
  });

  it('the emulators entry shares no name with the main entry that means something else there', () => {
    const shared = Object.keys(emulators).filter((name) => name in providers);
    for (const name of shared) expect(emulators[name as keyof typeof emulators]).toBe(providers[name as keyof typeof providers]);
    expect('estimateAudioDurationMs' in providers).toBe(false);
    expect(providers.audioDurationMs).toBe(audioDurationMs);
  });
});

// @ts-expect-error WavInfo is core's type, exported by the main entry only (the emulators' is TaggedWavInfo)
type NoSecondWavInfo = import('./index.js').WavInfo;
