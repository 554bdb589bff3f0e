import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging } from '../../test/support/adapter-checks.js';
import { mp3Info, speechDurationMs, synthesizeMp3, synthesizePcm } from '../emulators/audio.js';
import { googleStt, type GoogleStt } from '../google-stt/google-stt.js';
import { scanMp3, parseWav, wavData } from '@korean-together/core/provider-kit';
import { rejection, testAttempt } from '../shared/test-context.js';
import { codePoints, splitText, utf8Bytes } from '../shared/text-split.js';
import { googleTts, languageOfVoice, type GoogleTts } from './google-tts.js';
import type { TextToSpeechClientOptions } from './options.js';

const SHORT = '안녕하세요. 만나서 반갑습니다.';
const SENTENCE = '오늘은 날씨가 정말 좋아서 친구와 함께 한강 공원에 가서 자전거를 탔습니다. ';
const LONG = SENTENCE.repeat(110); // about 12,000 UTF-8 bytes: three requests

const emu = useEmulators();
const open = (opts: Parameters<typeof googleTts>[0] = {}) => emu.closeAfterAll(googleTts({ clientOptions: emu.google.clientOptions as TextToSpeechClientOptions, ...opts }));
let tts: GoogleTts;
let stt: GoogleStt;
beforeAll(() => {
  tts = open();
  stt = emu.closeAfterAll(googleStt({ clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }));
});

describe('googleTts against the TextToSpeech gRPC emulator', () => {
  it('synthesizes MP3 with the default voice and reports characters, requests and duration', async () => {
    const res = await tts.synthesize({ text: SHORT }, testAttempt().ctx);
    expect(res).toMatchObject({ encoding: 'MP3', characters: codePoints(SHORT), requests: 1, modelId: 'ko-KR-Wavenet-A' });
    const scan = scanMp3(res.audio)!;
    expect(scan.truncated).toBe(false);
    expect(res.audioDurationMs).toBe(scan.durationMs);
    expect(Math.abs(res.audioDurationMs! - speechDurationMs(SHORT))).toBeLessThan(40);
    expect(emu.hits.count('google-tts', 'ko-KR-Wavenet-A')).toBe(1);
  });

  it('round-trips through the Speech emulator', async () => {
    const res = await tts.synthesize({ text: SHORT }, testAttempt().ctx);
    const heard = await stt.transcribe({ audio: res.audio, encoding: 'MP3' }, testAttempt().ctx);
    expect(heard.transcript).toBe(SHORT);
  });

  it('uses the request voice, derives its language and reports it as modelId', async () => {
    expect(languageOfVoice('ko-KR-Chirp3-HD-Aoede')).toBe('ko-KR');
    const res = await tts.synthesize({ text: SHORT, voice: 'ko-KR-Neural2-A', audioEncoding: 'LINEAR16', speakingRate: 2 }, testAttempt().ctx);
    expect(res.modelId).toBe('ko-KR-Neural2-A');
    const wav = parseWav(res.audio)!;
    expect(wav.truncated).toBe(false);
    expect(Math.abs(res.audioDurationMs! - speechDurationMs(SHORT, 2))).toBeLessThan(5);
    expect(emu.hits.count('google-tts', 'ko-KR-Neural2-A')).toBe(1);
  });

  it('splits a long Korean text at sentence ends into several requests and joins playable WAV audio', async () => {
    expect(utf8Bytes(LONG)).toBeGreaterThan(10_000);
    const pieces = splitText(LONG, 5000);
    expect(pieces.length).toBe(3);
    const res = await tts.synthesize({ text: LONG, audioEncoding: 'LINEAR16' }, testAttempt().ctx);
    expect(res).toMatchObject({ encoding: 'LINEAR16', requests: 3, characters: codePoints(LONG) });
    expect(emu.hits.count('google-tts')).toBe(3);
    // One header sized for the total, and exactly the pieces' samples in order.
    const wav = parseWav(res.audio)!;
    expect(wav.truncated).toBe(false);
    expect(new DataView(res.audio.buffer, res.audio.byteOffset).getUint32(4, true)).toBe(res.audio.length - 8);
    const expected = Buffer.concat(pieces.map((p) => synthesizePcm(p.trim())));
    expect(Buffer.from(wavData(res.audio, wav)).equals(expected)).toBe(true);
    expect(res.audioDurationMs).toBe(wav.durationMs);
  });

  it('joins MP3 pieces into one stream of frames', async () => {
    const res = await tts.synthesize({ text: LONG }, testAttempt().ctx);
    expect(res.requests).toBe(3);
    const scan = scanMp3(res.audio)!;
    expect(scan.truncated).toBe(false);
    const frames = splitText(LONG, 5000).reduce((n, p) => n + mp3Info(synthesizeMp3(p.trim()))!.frames, 0);
    expect(scan.frames.length).toBe(frames);
    expect(res.audioDurationMs).toBe(scan.durationMs);
  });

  it('refuses to split OGG_OPUS and text with an unbreakable run, before any request', async () => {
    const ogg = await rejection(() => tts.synthesize({ text: LONG, audioEncoding: 'OGG_OPUS' }, testAttempt().ctx));
    expect(ogg).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(ogg.message).toMatch(/OGG_OPUS audio cannot be joined/);
    const word = await rejection(() => tts.synthesize({ text: '가'.repeat(2000) }, testAttempt().ctx));
    expect(word.message).toMatch(/cannot fit in one 5000-byte request/);
    expect(emu.hits.count('google-tts')).toBe(0);
  });

  it('fails the whole attempt when one piece fails, naming the piece', async () => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status: 14 }, times: 1 });
    const e = await rejection(() => tts.synthesize({ text: LONG }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true, status: 14 });
    expect(e.message).toMatch(/SynthesizeSpeech \(piece \d of 3\)/);
  });

  it.each([
    [8, 'rate_limited', true],
    [14, 'unavailable', true],
    [3, 'invalid_request', false],
    [16, 'unauthenticated', false],
  ])('maps gRPC status %i to %s with exactly one request', async (status, code, retryable) => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status, retryAfterSeconds: 1 } });
    const e = await rejection(() => tts.synthesize({ text: SHORT }, testAttempt().ctx));
    expect(e).toMatchObject({ code, retryable, status, provider: 'google-tts', retryAfterMs: 1000 });
    expect(emu.hits.count('google-tts')).toBe(1);
  });

  it("maps Google's bad-key answer (INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID in the trailer) to unauthenticated", async () => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'api_key_invalid' } });
    const e = await rejection(() => tts.synthesize({ text: SHORT }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 3, provider: 'google-tts' });
    expect(e.message).toMatch(/^google-tts: SynthesizeSpeech failed with gRPC INVALID_ARGUMENT \(3\), reason API_KEY_INVALID: API key not valid/);
    expect(emu.hits.count('google-tts')).toBe(1);
  });

  it('reports the characters of pieces already billed when a later piece fails', async () => {
    // The first piece comes back cut short (it was still synthesized and billed); the rest fail or are aborted.
    emu.faults.add({ target: 'google-tts', fault: { kind: 'truncated_audio' }, times: 1 });
    emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status: 14 } });
    const one = open({ maxConcurrentRequests: 1 });
    const e = await rejection(() => one.synthesize({ text: LONG }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable' });
    const billed = (e.usage as { characters: number }).characters;
    const pieces = splitText(LONG, 5000, utf8Bytes);
    expect(billed).toBeGreaterThanOrEqual(codePoints(pieces[0]!));
    expect(billed).toBeLessThan(codePoints(LONG));
  });

  it('bills nothing extra when the only request fails', async () => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status: 14 } });
    const e = await rejection(() => tts.synthesize({ text: SHORT }, testAttempt().ctx));
    expect(e.usage).toBeUndefined();
  });

  it.each(['MP3', 'LINEAR16'] as const)('treats truncated %s audio as unavailable', async (audioEncoding) => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'truncated_audio' } });
    const e = await rejection(() => tts.synthesize({ text: SHORT, audioEncoding }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true });
    expect(e.message).toMatch(/truncated audio/);
  });

  it('times out hanging pieces and the server sees every one aborted', async () => {
    emu.faults.add({ target: 'google-tts', fault: { kind: 'hang' } });
    const e = await rejection(() => tts.synthesize({ text: LONG }, testAttempt(300).ctx));
    expect(e).toMatchObject({ code: 'timeout', retryable: true });
    // Two pieces were in flight (maxConcurrentRequests 2); the third was never sent.
    await vi.waitFor(() => expect(emu.hits.aborted('google-tts')).toBe(2));
    expect(emu.hits.count('google-tts')).toBe(2);
  });

  it('cancels on caller abort', async () => {
    expect(await abortWhileHanging(emu, 'google-tts', (ctx) => tts.synthesize({ text: SHORT }, ctx))).toMatchObject({ code: 'cancelled', retryable: false });
    await vi.waitFor(() => expect(emu.hits.aborted('google-tts')).toBe(1));
  });

  it('validates text and voice before sending', async () => {
    expect(await rejection(() => tts.synthesize({ text: ' ' }, testAttempt().ctx))).toMatchObject({ code: 'invalid_request' });
    expect((await rejection(() => tts.synthesize({ text: SHORT, voice: 'alloy' }, testAttempt().ctx))).message).toMatch(/voice: 'alloy' is not a Google voice/);
    expect(emu.hits.count('google-tts')).toBe(0);
    expect(() => googleTts({ voice: 'Wavenet' })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});
