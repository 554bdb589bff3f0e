import { parseWav } from '@korean-together/core/provider-kit';
import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging, everythingShown } from '../../test/support/adapter-checks.js';
import { withEnv } from '../../test/support/env.js';
import { synthesizeMp3, synthesizePcm, synthesizeWav } from '../emulators/audio.js';
import { closedPort, rejection, testAttempt } from '../shared/test-context.js';
import { openAiErrorText } from './errors.js';
import { whisperStt } from './whisper-stt.js';

const TEXT = '저는 서울에 살아요. 한국 음식을 좋아해요.';
const OPENAI_KEY = `sk-proj-${'a1B2'.repeat(10)}`;
const ODD_KEY = 'tenant-42:very-secret-value';

const emu = useEmulators();

const whisper = (opts: Parameters<typeof whisperStt>[0] = {}) => whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator', ...opts });
const wavReq = () => ({ audio: synthesizeWav(TEXT), encoding: 'LINEAR16' as const });

describe('whisperStt against the OpenAI-compatible transcription emulator', () => {
  it('transcribes a WAV and bills the seconds OpenAI says it billed (usage.seconds, not duration), in one request', async () => {
    const p = whisper();
    expect([p.name, p.modelId]).toEqual(['whisper', 'whisper-1']);
    const req = wavReq();
    const res = await p.transcribe(req, testAttempt().ctx);
    expect(res.transcript).toBe(TEXT);
    // verbose_json says duration 3.47 (say) and usage { type: 'duration', seconds: 4 }: 4 s were billed.
    const wavMs = synthesizeWavDuration(req.audio);
    expect(wavMs % 1000).not.toBe(0);
    expect(res.audioDurationMs).toBe(Math.ceil(wavMs / 1000) * 1000);
    expect(res).not.toHaveProperty('tokensIn');
    expect(emu.hits.count('whisper', 'whisper-1')).toBe(1);
  });

  it('falls back to the verbose_json duration when the server reports no usage (self-hosted)', async () => {
    const req = wavReq();
    const res = await whisper({ model: 'Systran/faster-whisper-large-v3', modelId: 'self-hosted/faster-whisper-large-v3' }).transcribe(req, testAttempt().ctx);
    // verbose_json carries seconds with two decimals.
    expect(Math.abs(res.audioDurationMs - synthesizeWavDuration(req.audio))).toBeLessThanOrEqual(5);
  });

  it.each(['gpt-4o-transcribe', 'gpt-4o-mini-transcribe'])('asks %s for json (all it accepts) and reports the tokens it billed', async (model) => {
    const req = wavReq();
    const res = await whisper({ model }).transcribe(req, testAttempt().ctx);
    expect(res.transcript).toBe(TEXT);
    const audioTokens = Math.ceil((synthesizeWavDuration(req.audio) / 1000) * 10);
    expect(res).toMatchObject({ tokensIn: audioTokens, audioTokensIn: audioTokens, tokensOut: expect.any(Number) });
    expect(res.tokensOut).toBeGreaterThan(0);
    // json has no duration: the audio header's stands in.
    expect(Math.abs(res.audioDurationMs - synthesizeWavDuration(req.audio))).toBeLessThanOrEqual(1);
    expect(emu.hits.count('whisper', model)).toBe(1);
    // What every call got before: OpenAI refuses verbose_json for these models.
    const forced = await rejection(() => whisper({ model, responseFormat: 'verbose_json' }).transcribe(req, testAttempt().ctx));
    expect(forced).toMatchObject({ code: 'invalid_request', status: 400, message: expect.stringContaining('unsupported_value') });
  });

  it('refuses a responseFormat it cannot read', () => {
    expect(() => whisperStt({ responseFormat: 'srt' as never })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('responseFormat') }));
  });

  it('uploads MP3, and headerless LINEAR16 wrapped in a WAV header', async () => {
    expect((await whisper().transcribe({ audio: synthesizeMp3('감사합니다'), encoding: 'MP3' }, testAttempt().ctx)).transcript).toBe('감사합니다');
    const pcm = synthesizePcm('네', { sampleRateHertz: 16000 });
    const res = await whisper().transcribe({ audio: pcm, encoding: 'LINEAR16', sampleRateHertz: 16000 }, testAttempt().ctx);
    // Billed in whole seconds, rounded up.
    expect(res.audioDurationMs).toBe(Math.ceil(pcm.length / 2 / 16000) * 1000);
  });

  it('sends the server model and reports the priced modelId (self-hosted at zero cost)', async () => {
    const p = whisper({ model: 'Systran/faster-whisper-large-v3', modelId: 'self-hosted/faster-whisper-large-v3' });
    expect(p.modelId).toBe('self-hosted/faster-whisper-large-v3');
    await p.transcribe(wavReq(), testAttempt().ctx);
    expect(emu.hits.count('whisper', 'Systran/faster-whisper-large-v3')).toBe(1);
  });

  it('accepts a base URL that already ends in /v1', async () => {
    const res = await whisper({ baseUrl: `${emu.whisper.baseUrl}/v1/` }).transcribe(wavReq(), testAttempt().ctx);
    expect(res.transcript).toBe(TEXT);
  });

  it.each([
    [429, 'rate_limited', true],
    [500, 'unavailable', true],
    [503, 'unavailable', true],
    [400, 'invalid_request', false],
    [413, 'invalid_request', false],
    [401, 'unauthenticated', false],
    [403, 'unauthenticated', false],
  ])('maps HTTP %i to %s (retryable %s) after one request', async (status, code, retryable) => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'status', status, retryAfterSeconds: 2 } });
    const e = await rejection(() => whisper().transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code, retryable, status, provider: 'whisper', retryAfterMs: 2000 });
    expect(e.message).toMatch(new RegExp(`^whisper: transcription failed with HTTP ${status}`));
    expect(emu.hits.count('whisper')).toBe(1);
  });

  it('maps a 429 insufficient_quota (no credits) to unauthenticated, not retryable, after one request', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'insufficient_quota' } });
    const e = await rejection(() => whisper().transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 429, provider: 'whisper' });
    expect(e.message).toMatch(/^whisper: transcription failed with HTTP 429: insufficient_quota: You exceeded your current quota/);
    expect(e.retryAfterMs).toBeUndefined();
    expect(emu.hits.count('whisper')).toBe(1);
  });

  it('takes retryAfterMs from retry-after-ms, before Retry-After', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'status', status: 429, retryAfterMs: 1500 }, times: 1 });
    expect(await rejection(() => whisper().transcribe(wavReq(), testAttempt().ctx))).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1500 });
    emu.faults.add({ target: 'whisper', fault: { kind: 'status', status: 429, retryAfterMs: 250, retryAfterSeconds: 9 }, times: 1 });
    expect(await rejection(() => whisper().transcribe(wavReq(), testAttempt().ctx))).toMatchObject({ retryAfterMs: 250 });
  });

  it('maps a 200 whose body is not JSON to unavailable', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'malformed_json' } });
    const e = await rejection(() => whisper().transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true });
    expect(e.message).not.toContain('서울');
  });

  it('times out a hanging request and the server sees it aborted', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'hang' } });
    expect(await rejection(() => whisper().transcribe(wavReq(), testAttempt(300).ctx))).toMatchObject({ code: 'timeout', retryable: true });
    await vi.waitFor(() => expect(emu.hits.aborted('whisper')).toBe(1));
  });

  it('cancels on caller abort', async () => {
    expect(await abortWhileHanging(emu, 'whisper', (ctx) => whisper().transcribe(wavReq(), ctx))).toMatchObject({ code: 'cancelled', retryable: false });
    await vi.waitFor(() => expect(emu.hits.aborted('whisper')).toBe(1));
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    for (const key of [OPENAI_KEY, ODD_KEY]) {
      emu.faults.add({ target: 'whisper', fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${key}` }, times: 1 });
      const e = await rejection(() => whisper({ apiKey: key }).transcribe(wavReq(), testAttempt().ctx));
      expect(e).toMatchObject({ code: 'unauthenticated' });
      expect(everythingShown(e)).not.toContain(key);
    }
  });

  it('sends OPENAI_API_KEY from the environment only to api.openai.com', async () => {
    // A key the emulator would answer 401 to, were it sent.
    await withEnv({ OPENAI_API_KEY: 'not a valid bearer' }, async () => {
      const res = await whisperStt({ baseUrl: emu.whisper.baseUrl }).transcribe(wavReq(), testAttempt().ctx);
      expect(res.transcript).toBe(TEXT);
    });
  });

  it('validates before sending', async () => {
    expect(await rejection(() => whisper().transcribe({ audio: new Uint8Array(0), encoding: 'MP3' }, testAttempt().ctx))).toMatchObject({
      code: 'invalid_request',
      message: 'whisper: invalid request: audio: must not be empty',
    });
    expect(emu.hits.count('whisper')).toBe(0);
  });

  it('maps a refused connection to unavailable', async () => {
    const dead = whisperStt({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const e = await rejection(() => dead.transcribe(wavReq(), testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('reads OpenAI and FastAPI error bodies', () => {
    expect(openAiErrorText({ error: { message: 'm', code: 'c' } })).toBe('c: m');
    expect(openAiErrorText({ detail: 'd' })).toBe('d');
    expect(openAiErrorText('x')).toBeUndefined();
  });
});

/** The WAV's exact duration in milliseconds, unrounded (parseWav's durationMs is rounded to whole ms). */
function synthesizeWavDuration(wav: Uint8Array): number {
  const info = parseWav(wav)!;
  return (info.dataLength / info.blockAlign / info.sampleRate) * 1000;
}
