// Core's audio parsers on real encoder output (fixtures/audio/README.md says how each file was
// made): the durations they read agree with music-metadata, an independent, well-kept reader,
// and with what the encoders were given; the container checks accept each file as its encoding.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBuffer, parseFile } from 'music-metadata';
import { describe, expect, it } from 'vitest';
import type { AudioEncoding } from '../src/index.js';
import { audioContainerProblem, audioDurationMs, id3v2Length, parseWav, scanMp3 } from '../src/provider-kit.js';

const path = (name: string): string => fileURLToPath(new URL(`./fixtures/audio/${name}`, import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path(name)));
const readerMs = async (name: string): Promise<number> => 1000 * (await parseFile(path(name), { duration: true })).format.duration!;

/**
 * One MPEG-2 Layer III frame at 16 kHz: 576 samples = 36 ms. MP3 readers may differ by a frame
 * (whether the Xing/Info frame is counted, whether LAME's gapless fields are applied); neither
 * core nor music-metadata removes the encoder delay and padding, so today they agree exactly.
 */
const MP3_FRAME_MS = (576 * 1000) / 16_000;
/**
 * LAME adds its encoder delay (576 samples) plus the decoder delay (529) in front of the audio
 * and pads the end to a whole frame (under 576 samples): an MP3 plays at most this much longer
 * than its source, never shorter.
 */
const LAME_EXTRA_MS = ((576 + 529 + 576) * 1000) / 16_000;
/** The other containers state exact sample counts; core rounds to whole milliseconds. */
const ROUNDING_MS = 1;

describe('durations of real encoder output', () => {
  it.each<[string, AudioEncoding, number, number]>([
    // file, encoding, the source's length (make-fixtures.sh), tolerance against music-metadata
    ['vbr-xing.mp3', 'MP3', 2_500, MP3_FRAME_MS],
    ['cbr-id3v2.mp3', 'MP3', 2_500, MP3_FRAME_MS],
    ['extensible.wav', 'LINEAR16', 1_500, ROUNDING_MS],
    ['tone.flac', 'FLAC', 2_500, ROUNDING_MS],
    // Granule of the last page less OpusHead's pre-skip, at 48 kHz: the source's exact length.
    ['multipage.opus', 'OGG_OPUS', 2_500, ROUNDING_MS],
  ])('%s as %s', async (name, encoding, sourceMs, tolerance) => {
    const audio = fixture(name);
    expect(audioContainerProblem(audio, encoding)).toBeUndefined();
    const ms = audioDurationMs(audio, encoding)!;
    expect(Math.abs(ms - (await readerMs(name)))).toBeLessThanOrEqual(tolerance);
    if (encoding === 'MP3') {
      expect(ms).toBeGreaterThanOrEqual(sourceMs);
      expect(ms).toBeLessThanOrEqual(sourceMs + LAME_EXTRA_MS);
    } else {
      expect(Math.abs(ms - sourceMs)).toBeLessThanOrEqual(ROUNDING_MS);
    }
  });

  it('WebM is accepted but not measured: its length is an optional float in Segment Info, which live recorders leave out', async () => {
    const webm = fixture('tone.webm');
    expect(audioContainerProblem(webm, 'WEBM_OPUS')).toBeUndefined();
    expect(audioDurationMs(webm, 'WEBM_OPUS')).toBeUndefined();
    // music-metadata does read ffmpeg's Duration element, so the file itself is sound.
    expect(Math.abs((await readerMs('tone.webm')) - 2_500)).toBeLessThanOrEqual(20);
  });
});

describe('what the parsers read from each header', () => {
  it('VBR MP3: the Xing frame is not audio, and the frames walked are the frames Xing counts', () => {
    const mp3 = fixture('vbr-xing.mp3');
    const scan = scanMp3(mp3)!;
    expect(scan.infoFrame).toEqual({ offset: 0, length: scan.infoFrame!.length });
    // Mono MPEG-2: "Xing" 4 + 9 bytes into the frame, then flags, then the frame count (big-endian).
    const xing = Buffer.from(mp3.subarray(13));
    expect(xing.toString('latin1', 0, 4)).toBe('Xing');
    expect(xing.readUInt32BE(4) & 1).toBe(1);
    expect(scan.frames).toHaveLength(xing.readUInt32BE(8));
    expect(scan).toMatchObject({ sampleRate: 16_000, truncated: false });
  });

  it('CBR MP3: the frames start right after the ID3v2 tag and run up to the ID3v1 tag', () => {
    const mp3 = fixture('cbr-id3v2.mp3');
    const scan = scanMp3(mp3)!;
    expect(scan.frames[0]!.offset).toBe(id3v2Length(mp3));
    const last = scan.frames.at(-1)!;
    expect(last.offset + last.length).toBe(mp3.length - 128);
    expect(Buffer.from(mp3.subarray(mp3.length - 128, mp3.length - 125)).toString('latin1')).toBe('TAG');
  });

  it('WAVE_FORMAT_EXTENSIBLE: 24-bit samples under format tag 0xFFFE', async () => {
    const wav = parseWav(fixture('extensible.wav'))!;
    const reader = await parseFile(path('extensible.wav'));
    expect(wav).toMatchObject({ format: 0xfffe, channels: 1, sampleRate: 16_000, bitsPerSample: 24, blockAlign: 3, truncated: false });
    expect(wav.dataLength / wav.blockAlign).toBe(reader.format.numberOfSamples);
  });

  it('FLAC behind an ID3v2 tag (some taggers write one; the container check accepts it) is measured like the bare file', async () => {
    const flac = fixture('tone.flac');
    const mp3 = fixture('cbr-id3v2.mp3');
    const tagged = Buffer.concat([mp3.subarray(0, id3v2Length(mp3)), flac]);
    expect(audioContainerProblem(tagged, 'FLAC')).toBeUndefined();
    const reader = await parseBuffer(tagged, { mimeType: 'audio/flac' }, { duration: true });
    expect(Math.abs(audioDurationMs(tagged, 'FLAC')! - 1000 * reader.format.duration!)).toBeLessThanOrEqual(ROUNDING_MS);
    expect(audioDurationMs(tagged, 'FLAC')).toBe(audioDurationMs(flac, 'FLAC'));
  });
});
