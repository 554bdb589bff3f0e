import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging, everythingShown } from '../../test/support/adapter-checks.js';
import { speechDurationMs, synthesizeMp3, mp3Info } from '../emulators/audio.js';
import { scanMp3, parseWav } from '@korean-together/core/provider-kit';
import { rejection, testAttempt } from '../shared/test-context.js';
import { codePoints, splitText } from '../shared/text-split.js';
import { httpTts } from './http-tts.js';

const SHORT = '다음 역은 시청입니다.';
const SENTENCE = '한국어를 배우는 것은 어렵지만 재미있습니다. ';
const OPENAI_KEY = `sk-proj-${'Zx9'.repeat(12)}`;

const emu = useEmulators();

const speech = (opts: Partial<Parameters<typeof httpTts>[0]> = {}) => httpTts({ baseUrl: emu.httpTts.baseUrl, apiKey: 'emulator', ...opts });

describe('httpTts against the OpenAI-compatible speech emulator', () => {
  it('synthesizes MP3 with the configured model and voice, and reports characters', async () => {
    const p = speech();
    expect([p.name, p.modelId]).toEqual(['http-tts', 'tts-1']);
    const res = await p.synthesize({ text: SHORT }, testAttempt().ctx);
    expect(res).toMatchObject({ encoding: 'MP3', characters: codePoints(SHORT), requests: 1, modelId: 'tts-1' });
    expect(scanMp3(res.audio)!.truncated).toBe(false);
    expect(Math.abs(res.audioDurationMs! - speechDurationMs(SHORT))).toBeLessThan(40);
    expect(emu.hits.count('http-tts', 'tts-1')).toBe(1);
    expect(emu.hits.count('http-tts', 'alloy')).toBe(1);
  });

  it('has a cacheIdentity that changes with the default voice or server, unless the host sets one', () => {
    const ids = [speech(), speech({ voice: 'nova' }), speech({ baseUrl: `${emu.httpTts.baseUrl}/other` }), speech({ format: 'OGG_OPUS' })].map((p) => p.cacheIdentity);
    expect(new Set(ids).size).toBe(4);
    expect(speech().cacheIdentity).toBe(ids[0]);
    expect(speech({ voice: 'nova', cacheIdentity: 'v1' }).cacheIdentity).toBe('v1');
  });

  it('returns WAV for LINEAR16 and sends speakingRate as speed', async () => {
    const res = await speech().synthesize({ text: SHORT, audioEncoding: 'LINEAR16', speakingRate: 2 }, testAttempt().ctx);
    const wav = parseWav(res.audio)!;
    expect(wav.truncated).toBe(false);
    expect(Math.abs(res.audioDurationMs! - speechDurationMs(SHORT, 2))).toBeLessThan(5);
  });

  it('ignores the request voice unless told to use it', async () => {
    await speech({ voice: 'nova' }).synthesize({ text: SHORT, voice: 'ko-KR-Wavenet-A' }, testAttempt().ctx);
    expect(emu.hits.count('http-tts', 'nova')).toBe(1);
    await speech({ useRequestVoice: true }).synthesize({ text: SHORT, voice: 'shimmer' }, testAttempt().ctx);
    expect(emu.hits.count('http-tts', 'shimmer')).toBe(1);
  });

  it('splits text over maxInputChars into several requests and joins the MP3 frames', async () => {
    const text = SENTENCE.repeat(12);
    const pieces = splitText(text, 100, codePoints);
    const res = await speech({ maxInputChars: 100 }).synthesize({ text }, testAttempt().ctx);
    expect(res.requests).toBe(pieces.length);
    expect(res.requests).toBeGreaterThan(2);
    expect(res.characters).toBe(codePoints(text));
    expect(emu.hits.count('http-tts', 'tts-1')).toBe(pieces.length);
    const frames = pieces.reduce((n, p) => n + mp3Info(synthesizeMp3(p))!.frames, 0);
    expect(scanMp3(res.audio)!.frames.length).toBe(frames);
  });

  it.each([
    [429, 'rate_limited', true],
    [500, 'unavailable', true],
    [502, 'unavailable', true],
    [400, 'invalid_request', false],
    [401, 'unauthenticated', false],
  ])('maps HTTP %i to %s after one request, with Retry-After', async (status, code, retryable) => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status, retryAfterSeconds: 4 } });
    const e = await rejection(() => speech().synthesize({ text: SHORT }, testAttempt().ctx));
    expect(e).toMatchObject({ code, retryable, status, provider: 'http-tts', retryAfterMs: 4000 });
    expect(emu.hits.count('http-tts')).toBe(1);
  });

  it('maps a 429 insufficient_quota (no credits) to unauthenticated, not retryable, after one request', async () => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'insufficient_quota' } });
    const e = await rejection(() => speech().synthesize({ text: SHORT }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 429, provider: 'http-tts' });
    expect(e.message).toContain('insufficient_quota');
    expect(emu.hits.count('http-tts')).toBe(1);
  });

  it('takes retryAfterMs from a 429 that carries only retry-after-ms', async () => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status: 429, retryAfterMs: 1500 } });
    expect(await rejection(() => speech().synthesize({ text: SHORT }, testAttempt().ctx))).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1500 });
  });

  it.each(['MP3', 'LINEAR16'] as const)('treats truncated %s audio as unavailable', async (audioEncoding) => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'truncated_audio' } });
    const e = await rejection(() => speech().synthesize({ text: SHORT, audioEncoding }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true, message: expect.stringMatching(/truncated audio/) });
  });

  it('times out a hanging request and the server sees it aborted', async () => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'hang' } });
    expect(await rejection(() => speech().synthesize({ text: SHORT }, testAttempt(300).ctx))).toMatchObject({ code: 'timeout', retryable: true });
    await vi.waitFor(() => expect(emu.hits.aborted('http-tts')).toBeGreaterThanOrEqual(1));
  });

  it('cancels on caller abort', async () => {
    expect(await abortWhileHanging(emu, 'http-tts', (ctx) => speech().synthesize({ text: SHORT }, ctx), 'loseHedge')).toMatchObject({ code: 'cancelled', retryable: false });
  });

  it('never puts the API key in an error', async () => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${OPENAI_KEY}` } });
    const e = await rejection(() => speech({ apiKey: OPENAI_KEY }).synthesize({ text: SHORT }, testAttempt().ctx));
    expect(everythingShown(e)).not.toContain(OPENAI_KEY);
  });

  it('validates before sending and requires a baseUrl', async () => {
    expect(await rejection(() => speech().synthesize({ text: '' }, testAttempt().ctx))).toMatchObject({ code: 'invalid_request' });
    const ogg = await rejection(() => speech({ maxInputChars: 10 }).synthesize({ text: SENTENCE, audioEncoding: 'OGG_OPUS' }, testAttempt().ctx));
    expect(ogg.message).toMatch(/OGG_OPUS audio cannot be joined/);
    expect(emu.hits.count('http-tts')).toBe(0);
    expect(() => httpTts({} as never)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});
