import { isAiError } from '@korean-together/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging, everythingShown } from '../../test/support/adapter-checks.js';
import { pcmToWav, synthesizeMp3, synthesizePcm, synthesizeWav } from '../emulators/audio.js';
import { closedPort, rejection, testAttempt } from '../shared/test-context.js';
import { parseWav } from '@korean-together/core/provider-kit';
import { durationToMs, googleStt, type GoogleStt } from './google-stt.js';
import type { SpeechClientOptions } from './options.js';

const TEXT = '안녕하세요. 저는 한국어를 공부하는 학생입니다.';

const emu = useEmulators();
const open = (opts: Parameters<typeof googleStt>[0] = {}) => emu.closeAfterAll(googleStt({ clientOptions: emu.google.clientOptions as SpeechClientOptions, ...opts }));
let stt: GoogleStt;
beforeAll(() => {
  stt = open();
});

const wavReq = (text = TEXT) => ({ audio: synthesizeWav(text), encoding: 'LINEAR16' as const });

describe('googleStt against the Speech gRPC emulator', () => {
  it('transcribes a WAV (sample rate from its header), joins results and keeps confidence', async () => {
    const res = await stt.transcribe(wavReq(), testAttempt().ctx);
    // The emulator answers one result per sentence; the adapter joins them.
    expect(res.transcript).toBe(TEXT);
    expect(res.confidence).toBeCloseTo(0.92, 5);
    expect(emu.hits.count('google-stt')).toBe(1);
  });

  it('reports audioDurationMs from totalBilledTime (whole seconds, as Google bills)', async () => {
    const req = wavReq();
    const res = await stt.transcribe(req, testAttempt().ctx);
    const measured = parseWav(req.audio)!.durationMs;
    expect(measured % 1000).not.toBe(0);
    expect(res.audioDurationMs).toBe(Math.ceil(measured / 1000) * 1000);
    expect(durationToMs({ seconds: '3', nanos: 500_000_000 })).toBe(3500);
  });

  it('transcribes MP3 and headerless LINEAR16 with an explicit rate', async () => {
    const mp3 = await stt.transcribe({ audio: synthesizeMp3('반갑습니다'), encoding: 'MP3' }, testAttempt().ctx);
    expect(mp3.transcript).toBe('반갑습니다');
    const pcm = await stt.transcribe({ audio: synthesizePcm('네', { sampleRateHertz: 16000 }), encoding: 'LINEAR16', sampleRateHertz: 16000 }, testAttempt().ctx);
    expect(pcm.audioDurationMs).toBeGreaterThan(0);
  });

  it('sends the configured model and reports it in modelId', async () => {
    const short = open({ model: 'latest_short' });
    expect([short.name, short.modelId, stt.modelId]).toEqual(['google-stt', 'google-stt/latest_short', 'google-stt/default']);
    await short.transcribe(wavReq('네'), testAttempt().ctx);
    expect(emu.hits.count('google-stt', 'latest_short')).toBe(1);
  });

  it.each([
    [8, 'rate_limited', true],
    [14, 'unavailable', true],
    [13, 'unavailable', true],
    [4, 'timeout', true],
    [3, 'invalid_request', false],
    [16, 'unauthenticated', false],
    [7, 'unauthenticated', false],
  ])('maps gRPC status %i to %s (retryable %s), with exactly one request', async (status, code, retryable) => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status } });
    const e = await rejection(() => stt.transcribe(wavReq(), testAttempt().ctx));
    expect(isAiError(e)).toBe(true);
    expect(e).toMatchObject({ code, retryable, status, provider: 'google-stt' });
    expect(e.message).toMatch(/^google-stt: Recognize failed with gRPC [A-Z_]+ \(\d+\)/);
    // google-gax would retry UNAVAILABLE and DEADLINE_EXCEEDED on its own: retry: null keeps it to one.
    expect(emu.hits.count('google-stt')).toBe(1);
  });

  it("maps Google's bad-key answer (INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID in the trailer) to unauthenticated", async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'api_key_invalid' } });
    const e = await rejection(() => stt.transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 3, provider: 'google-stt' });
    expect(e.message).toMatch(/^google-stt: Recognize failed with gRPC INVALID_ARGUMENT \(3\), reason API_KEY_INVALID: API key not valid/);
    expect(emu.hits.count('google-stt')).toBe(1);
    // The same code without the detail stays a bad request: the detail decides, not the message.
    emu.faults.clear();
    emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 3, message: 'API key not valid. Please pass a valid API key.' } });
    expect(await rejection(() => stt.transcribe(wavReq(), testAttempt().ctx))).toMatchObject({ code: 'invalid_request', retryable: false });
  });

  it('takes retryAfterMs from the RetryInfo status detail', async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 8, retryAfterSeconds: 2.5 } });
    expect(await rejection(() => stt.transcribe(wavReq(), testAttempt().ctx))).toMatchObject({ code: 'rate_limited', retryAfterMs: 2500 });
  });

  it('times out at the attempt deadline and cancels the call on the server', async () => {
    emu.faults.add({ target: 'google-stt', fault: { kind: 'hang' } });
    const e = await rejection(() => stt.transcribe(wavReq(), testAttempt(300).ctx));
    expect(e).toMatchObject({ code: 'timeout', retryable: true, provider: 'google-stt' });
    await vi.waitFor(() => expect(emu.hits.aborted('google-stt')).toBe(1));
    expect(emu.hits.count('google-stt')).toBe(1);
  });

  it('cancels the call when the caller aborts', async () => {
    expect(await abortWhileHanging(emu, 'google-stt', (ctx) => stt.transcribe(wavReq(), ctx))).toMatchObject({ code: 'cancelled', retryable: false });
    await vi.waitFor(() => expect(emu.hits.aborted('google-stt')).toBe(1));
  });

  it('validates before sending: empty audio, over 60 s, unsupported encoding, headerless LINEAR16 without a rate', async () => {
    const cases = [
      [{ audio: new Uint8Array(0), encoding: 'LINEAR16' as const }, /audio: must not be empty/],
      [{ audio: pcmToWav(new Uint8Array(16000 * 2 * 61), 16000), encoding: 'LINEAR16' as const }, /audio: 61000 ms is longer than the 60000 ms synchronous limit/],
      [{ audio: new Uint8Array(100), encoding: 'AMR' as never }, /encoding: must be one of LINEAR16/],
      [{ audio: synthesizePcm('네'), encoding: 'LINEAR16' as const }, /sampleRateHertz: required for LINEAR16/],
    ] as const;
    for (const [req, message] of cases) {
      const e = await rejection(() => stt.transcribe(req, testAttempt().ctx));
      expect(e).toMatchObject({ code: 'invalid_request', retryable: false });
      expect(e.message).toMatch(message);
    }
    expect(emu.hits.count('google-stt')).toBe(0);
  });

  it('never quotes a key the server echoes in its status message', async () => {
    const key = `AIzaSy${'K'.repeat(33)}`;
    emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 16, message: `API key not valid: ${key}` } });
    const e = await rejection(() => stt.transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated' });
    expect(everythingShown(e)).not.toContain(key);
  });

  it('maps an unreachable endpoint to unavailable', async () => {
    const dead = open({ clientOptions: { ...(emu.google.clientOptions as SpeechClientOptions), port: await closedPort() } });
    expect(await rejection(() => dead.transcribe(wavReq(), testAttempt(3000).ctx))).toMatchObject({ code: 'unavailable', retryable: true });
  });
});
