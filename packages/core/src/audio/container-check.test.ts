import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AudioEncoding } from '../spec/types.js';
import { audioContainerProblem } from './container-check.js';
import { buildWav, pcm16Fmt } from './wav.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../test/fixtures/audio/${name}`, import.meta.url)));
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(2_000).fill(7)]);
const TEXT = new TextEncoder().encode('This is not audio. '.repeat(200));
/** Deterministic noise (xorshift), so a failure is reproducible. */
function noise(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const withBytes = (b: Uint8Array, at: number, bytes: number[]): Uint8Array => {
  const c = b.slice();
  c.set(bytes, at);
  return c;
};
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('audioContainerProblem accepts real encoder output', () => {
  it.each<[string, AudioEncoding]>([
    ['vbr-xing.mp3', 'MP3'],
    ['cbr-id3v2.mp3', 'MP3'],
    ['extensible.wav', 'LINEAR16'],
    ['tone.flac', 'FLAC'],
    ['multipage.opus', 'OGG_OPUS'],
    ['tone.webm', 'WEBM_OPUS'],
  ])('%s as %s', (name, encoding) => {
    expect(audioContainerProblem(fixture(name), encoding)).toBeUndefined();
  });

  it('a file cut off inside its last frame or page, and an MP3 ending in an ID3v1 tag', () => {
    const opus = fixture('multipage.opus');
    expect(audioContainerProblem(opus.subarray(0, opus.length - 100), 'OGG_OPUS')).toBeUndefined();
    const mp3 = fixture('cbr-id3v2.mp3');
    expect(audioContainerProblem(mp3.subarray(0, mp3.length - 50), 'MP3')).toBeUndefined();
    const id3v1 = concat(mp3, new TextEncoder().encode('TAG'), new Uint8Array(125));
    expect(audioContainerProblem(id3v1, 'MP3')).toBeUndefined();
  });

  it('raw LINEAR16 samples without a header, whatever they hold (silence included)', () => {
    expect(audioContainerProblem(new Uint8Array(3_200), 'LINEAR16')).toBeUndefined();
    expect(audioContainerProblem(noise(3_200), 'LINEAR16')).toBeUndefined();
    expect(audioContainerProblem(TEXT, 'LINEAR16')).toBeUndefined();
  });
});

describe('audioContainerProblem refuses what does not parse as its encoding', () => {
  it.each<[string, Uint8Array, AudioEncoding, RegExp]>([
    ['text labelled MP3', TEXT, 'MP3', /no run of MPEG audio frames/],
    ['10 MB of zeros labelled MP3', new Uint8Array(10_400_000), 'MP3', /no run of MPEG audio frames/],
    ['random bytes labelled MP3', noise(200_000), 'MP3', /MPEG audio frames/],
    ['a PNG labelled FLAC', PNG, 'FLAC', /no "fLaC" marker/],
    ['random bytes labelled OGG_OPUS', noise(50_000), 'OGG_OPUS', /no Ogg page/],
    ['random bytes labelled WEBM_OPUS', noise(50_000), 'WEBM_OPUS', /no EBML header/],
    ['a WebM file labelled OGG_OPUS', fixture('tone.webm'), 'OGG_OPUS', /no Ogg page/],
    ['an Ogg Opus file labelled WEBM_OPUS', fixture('multipage.opus'), 'WEBM_OPUS', /no EBML header/],
    ['a FLAC file labelled MP3', fixture('tone.flac'), 'MP3', /no run of MPEG audio frames/],
    ['an MP3 labelled FLAC', fixture('vbr-xing.mp3'), 'FLAC', /no "fLaC" marker/],
  ])('%s', (_name, audio, encoding, reason) => {
    expect(audioContainerProblem(audio, encoding)).toMatch(reason);
  });

  it('a few MP3 frames in front of megabytes of zeros', () => {
    const mp3 = fixture('cbr-id3v2.mp3');
    expect(audioContainerProblem(concat(mp3.subarray(0, 2_000), new Uint8Array(2_000_000)), 'MP3')).toMatch(/frames stop at byte/);
  });

  it('FLAC: a STREAMINFO that is not first or holds impossible values, and no frames after the metadata', () => {
    const flac = fixture('tone.flac');
    expect(audioContainerProblem(withBytes(flac, 4, [0x04]), 'FLAC')).toMatch(/first metadata block is not a STREAMINFO/);
    // Sample rate 0 (20 bits at STREAMINFO bytes 10..12).
    expect(audioContainerProblem(withBytes(flac, 18, [0, 0, flac[20]! & 0x0f]), 'FLAC')).toMatch(/impossible values/);
    expect(audioContainerProblem(flac.subarray(0, 42), 'FLAC')).toMatch(/cut short|no audio frames/);
    expect(audioContainerProblem(concat(flac.subarray(0, 8 + 34), new Uint8Array(10_000)), 'FLAC')).toBeDefined();
  });

  it('Ogg: a corrupt first page, a stream that is not Opus, zeros after the header pages', () => {
    const opus = fixture('multipage.opus');
    expect(audioContainerProblem(withBytes(opus, 40, [opus[40]! ^ 0xff]), 'OGG_OPUS')).toMatch(/CRC/);
    const firstPageEnd = 27 + opus[26]! + [...opus.subarray(27, 27 + opus[26]!)].reduce((a, b) => a + b, 0);
    expect(audioContainerProblem(concat(opus.subarray(0, firstPageEnd), new Uint8Array(20_000)), 'OGG_OPUS')).toMatch(/no Ogg page where one should start/);
    expect(audioContainerProblem(opus.subarray(0, firstPageEnd), 'OGG_OPUS')).toMatch(/no audio pages/);
  });

  it('WebM: another DocType, and a header with nothing after it', () => {
    const webm = fixture('tone.webm');
    const at = Buffer.from(webm).indexOf('webm');
    expect(audioContainerProblem(withBytes(webm, at, [...Buffer.from('weba')]), 'WEBM_OPUS')).toBe("its EBML DocType is not 'webm'");
    expect(audioContainerProblem(concat(webm.subarray(0, 40), new Uint8Array(5_000)), 'WEBM_OPUS')).toBeDefined();
  });

  it('LINEAR16: a broken or empty WAV, and another container labelled as raw samples', () => {
    const wav = buildWav(pcm16Fmt(16_000), new Uint8Array(3_200));
    expect(audioContainerProblem(wav.subarray(0, 30), 'LINEAR16')).toMatch(/RIFF\/WAVE header does not parse/);
    expect(audioContainerProblem(buildWav(pcm16Fmt(16_000), new Uint8Array(0)), 'LINEAR16')).toMatch(/holds no audio/);
    expect(audioContainerProblem(fixture('tone.flac'), 'LINEAR16')).toMatch(/starts with a FLAC header/);
  });
});
