import { describe, expect, it } from 'vitest';
import { mp3Info, synthesizeMp3 } from '../emulators/audio.js';
import { id3v2Length, joinMp3, parseMp3FrameHeader, scanMp3 } from '@korean-together/core/provider-kit';

describe('MP3 helpers', () => {
  it('skips the ID3 tag and measures the frames', () => {
    const mp3 = synthesizeMp3('안녕하세요 반갑습니다');
    expect(id3v2Length(mp3)).toBeGreaterThan(10);
    const scan = scanMp3(mp3)!;
    expect(scan.truncated).toBe(false);
    expect(scan.sampleRate).toBe(32000);
    expect(scan.durationMs).toBe(mp3Info(mp3)!.durationMs);
  });

  it('flags a last frame cut short', () => {
    const mp3 = synthesizeMp3('안녕하세요');
    expect(scanMp3(mp3.subarray(0, mp3.length - 50))!.truncated).toBe(true);
  });

  it('joins files into one frame stream without inner tags', () => {
    const a = synthesizeMp3('하나 둘');
    const b = synthesizeMp3('셋 넷 다섯');
    const joined = joinMp3([a, b]);
    expect(id3v2Length(joined)).toBe(0);
    const scan = scanMp3(joined)!;
    expect(scan.truncated).toBe(false);
    expect(scan.frames.length).toBe(scanMp3(a)!.frames.length + scanMp3(b)!.frames.length);
    expect(scan.frames[scan.frames.length - 1]!.offset + 144).toBe(joined.length);
  });

  it('drops a leading Xing/Info frame when joining', () => {
    const frame = () => {
      const f = new Uint8Array(144);
      f.set([0xff, 0xfb, 0x18, 0xc0]);
      return f;
    };
    const info = frame();
    info.set(new TextEncoder().encode('Info'), 4 + 17);
    const file = new Uint8Array(144 * 3);
    file.set(info, 0);
    file.set(frame(), 144);
    file.set(frame(), 288);
    const scan = scanMp3(file)!;
    expect(scan.infoFrame).toEqual({ offset: 0, length: 144 });
    expect(scan.frames.length).toBe(2);
    expect(joinMp3([file, file]).length).toBe(144 * 4);
  });

  it('reads MPEG-2 Layer III headers (576 samples per frame)', () => {
    // 0xFFF3: MPEG-2 Layer III; 0x48: 32 kbps at 22050 Hz index 0... 0x40 -> bitrate index 4 (32 kbps), 22.05 kHz.
    const h = parseMp3FrameHeader(new Uint8Array([0xff, 0xf3, 0x40, 0xc0]), 0)!;
    expect(h).toMatchObject({ sampleRate: 22050, samples: 576, length: Math.floor((72 * 32000) / 22050) });
  });

  it('finds nothing in random bytes', () => {
    expect(scanMp3(new Uint8Array(1000).fill(7))).toBeUndefined();
  });
});
