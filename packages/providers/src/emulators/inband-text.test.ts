import { describe, expect, it } from 'vitest';
import { hearAudio, pcmToWav, speechDurationMs, synthesizePcm } from './audio.js';
import { inbandTextPcm, readInbandText, synthesizeMicrophonePcm } from './inband-text.js';

const samples = (pcm: Uint8Array) => new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
const bytesOf = (s: Int16Array) => new Uint8Array(s.buffer);

/** Linear-interpolation resampling, as a capture pipeline might do it. */
function resample(pcm: Uint8Array, from: number, to: number): Uint8Array {
  const x = samples(pcm);
  const out = new Int16Array(Math.floor((x.length * to) / from));
  for (let i = 0; i < out.length; i++) {
    const t = (i * from) / to;
    const k = Math.floor(t);
    out[i] = Math.round(x[k]! + ((x[Math.min(k + 1, x.length - 1)] ?? 0) - x[k]!) * (t - k));
  }
  return bytesOf(out);
}

describe('in-band text (the tone code)', () => {
  const text = '저는 학생입니다. Hello 123!';

  it('reads back the text it writes, and where the speech starts (within 1 ms)', () => {
    const code = inbandTextPcm(text, 16_000);
    const found = readInbandText(code, 16_000)!;
    expect(found.text).toBe(text);
    // The onset is found to within a millisecond (16 samples at 16 kHz).
    expect(Math.abs(found.endSample - code.length / 2)).toBeLessThanOrEqual(16);
  });

  it('survives a microphone path: 48 kHz capture resampled to 16 kHz, half the gain, noise, and leading room noise', () => {
    const mic = synthesizeMicrophonePcm(text, { sampleRateHertz: 48_000 });
    const down = samples(resample(mic, 48_000, 16_000));
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 600;
    const lead = new Int16Array(4000).map(() => Math.round(noise()));
    const noisy = new Int16Array(lead.length + down.length);
    noisy.set(lead);
    down.forEach((v, i) => (noisy[lead.length + i] = Math.round(v * 0.5 + noise())));
    expect(readInbandText(bytesOf(noisy), 16_000)?.text).toBe(text);
  });

  it('is not found in plain speech, nor while the code is cut short', () => {
    expect(readInbandText(synthesizePcm('안녕하세요', { sampleRateHertz: 16_000 }), 16_000)).toBeUndefined();
    const code = inbandTextPcm(text, 16_000);
    expect(readInbandText(code.subarray(0, code.length - 400), 16_000)).toBeUndefined();
  });

  it('hearing: headerless LINEAR16 and an untagged WAV give the words whose speech is present', () => {
    const said = '안녕하세요 저는 학생입니다';
    const mic = synthesizeMicrophonePcm(said, { sampleRateHertz: 16_000 });
    const whole = hearAudio(mic, { encoding: 'LINEAR16', sampleRateHertz: 16_000 });
    expect(whole).toMatchObject({ transcript: said, embeddedText: said });
    const speechBytes = Math.round((speechDurationMs(said) * 16)) * 2;
    const half = hearAudio(mic.subarray(0, mic.length - Math.round(speechBytes * 0.45)), { encoding: 'LINEAR16', sampleRateHertz: 16_000 });
    expect(half.transcript).toBe('안녕하세요');
    expect(hearAudio(pcmToWav(mic, 16_000)).transcript).toBe(said);
    // Without the rate, headerless bytes cannot be heard.
    expect(hearAudio(mic).transcript).toBe('');
  });
});
