import { describe, expect, it } from 'vitest';
import { synthesizeWav } from '../emulators/audio.js';
import { buildWav, joinWav, parseWav, pcm16Fmt, wavData } from '@korean-together/core/provider-kit';

describe('WAV helpers', () => {
  it('reads a header with extra chunks before the data', () => {
    const wav = synthesizeWav('안녕하세요', { sampleRateHertz: 16000 });
    const info = parseWav(wav)!;
    expect(info).toMatchObject({ format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, truncated: false });
    expect(info.durationMs).toBeGreaterThan(500);
  });

  it('flags a file cut short and measures only what is present', () => {
    const wav = buildWav(pcm16Fmt(8000), new Uint8Array(16000)); // 1 s
    const cut = wav.subarray(0, wav.length - 8000);
    const info = parseWav(cut)!;
    expect(info.truncated).toBe(true);
    expect(info.declaredDataLength).toBe(16000);
    expect(info.durationMs).toBe(500);
  });

  it('accepts streamed WAVs whose data size is unknown (0xFFFFFFFF)', () => {
    const wav = buildWav(pcm16Fmt(8000), new Uint8Array(8000));
    new DataView(wav.buffer).setUint32(40, 0xffffffff, true);
    const info = parseWav(wav)!;
    expect(info.truncated).toBe(false);
    expect(info.durationMs).toBe(500);
  });

  it('joins pieces under one header sized for the total', () => {
    const a = synthesizeWav('하나', { sampleRateHertz: 24000 });
    const b = synthesizeWav('둘 셋', { sampleRateHertz: 24000 });
    const joined = joinWav([a, b]);
    const info = parseWav(joined)!;
    const ia = parseWav(a)!;
    const ib = parseWav(b)!;
    expect(info.dataLength).toBe(ia.dataLength + ib.dataLength);
    expect(info.truncated).toBe(false);
    const dv = new DataView(joined.buffer, joined.byteOffset);
    expect(dv.getUint32(4, true)).toBe(joined.length - 8);
    expect(Buffer.from(wavData(joined, info))).toEqual(Buffer.concat([wavData(a, ia), wavData(b, ib)]));
  });

  it('refuses to join different formats', () => {
    expect(() => joinWav([synthesizeWav('가', { sampleRateHertz: 16000 }), synthesizeWav('가', { sampleRateHertz: 24000 })])).toThrow(/different format/);
  });

  it('is not fooled by non-WAV bytes', () => {
    expect(parseWav(new TextEncoder().encode('RIFF....AVI LIST'))).toBeUndefined();
    expect(parseWav(new Uint8Array(3))).toBeUndefined();
  });
});
