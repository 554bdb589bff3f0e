import { describe, expect, it } from 'vitest';
import { buildWav, pcm16Fmt } from '../audio/wav.js';
import { createAiClient } from '../client.js';
import { isAiError, type AiError } from '../errors/ai-error.js';
import { fakeEval, fakeStt } from '../testing/fakes.js';
import { callOptionsError } from './call-options.js';
import { validateEvalRequest } from './eval-request.js';
import { GOOGLE_SYNC_STT_LIMITS, MAX_EVAL_AUDIO_BYTES, WHISPER_STT_LIMITS } from './limits.js';
import { validateSttRequest } from './stt-request.js';
import { validateTtsRequest } from './tts-request.js';

function caught(fn: () => unknown): AiError {
  try {
    fn();
  } catch (e) {
    if (isAiError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

const wav = (seconds: number) => buildWav(pcm16Fmt(16_000), new Uint8Array(16_000 * 2 * seconds));

describe('one set of request validators, for the client and the adapters', () => {
  it('names the adapter and its limits: 10 MB for Google sync, 25 MB for Whisper, 60 s only for sync', () => {
    const big = { audio: new Uint8Array(11 * 1024 * 1024), encoding: 'WEBM_OPUS' as const };
    const e = caught(() => validateSttRequest(big, { who: 'google-stt', provider: 'google-stt', limits: GOOGLE_SYNC_STT_LIMITS }));
    expect(e).toMatchObject({ code: 'invalid_request', retryable: false, provider: 'google-stt' });
    expect(e.message).toBe('google-stt: invalid request: audio: must be at most 10485760 bytes (10 MB), the synchronous limit');
    // WebM states no length; at 11 MB it is under Whisper's 25 MB (the container check still runs).
    const long = { audio: wav(61), encoding: 'LINEAR16' as const };
    expect(caught(() => validateSttRequest(long, { who: 'google-stt', limits: GOOGLE_SYNC_STT_LIMITS })).message).toMatch(/audio: 61000 ms is longer than the 60000 ms synchronous limit/);
    expect(validateSttRequest(long, { who: 'whisper', limits: WHISPER_STT_LIMITS })).toEqual({ durationMs: 61_000 });
  });

  it('reports what it measured, so nothing parses the audio twice', () => {
    expect(validateSttRequest({ audio: wav(2), encoding: 'LINEAR16' })).toEqual({ durationMs: 2_000 });
    expect(validateSttRequest({ audio: new Uint8Array(3200), encoding: 'LINEAR16', sampleRateHertz: 16_000 })).toEqual({ durationMs: 100 });
  });

  it('takes BCP-47 language tags in any case, as the standard does', () => {
    const req = { audio: wav(1), encoding: 'LINEAR16' as const };
    for (const languageCode of ['ko-KR', 'ko-kr', 'KO-KR', 'cmn-Hans-CN']) expect(() => validateSttRequest({ ...req, languageCode })).not.toThrow();
    expect(caught(() => validateSttRequest({ ...req, languageCode: 'korean please' })).message).toContain("languageCode: must be a BCP-47 code such as 'ko-KR'");
  });

  it('names every bad field at once, never quoting the content', () => {
    const secret = '제 비밀 대답입니다';
    const e = caught(() => validateEvalRequest({ prompt: ' ', learnerAnswer: secret, targetFormality: 'polite', level: secret.repeat(10) }));
    expect(e.message).toBe("eval.evaluate: invalid request: prompt: must not be empty; targetFormality: must be 'hapsyo', 'haeyo' or 'banmal'; level: must be at most 50 characters");
    expect(e.message).not.toContain(secret);
    const t = caught(() => validateTtsRequest({ text: 3, voice: ' ', speakingRate: 9 }, { who: 'google-tts' }));
    expect(t.message).toBe('google-tts: invalid request: text: must be a string; voice: must not be empty; speakingRate: must be <= 4');
    expect(caught(() => validateTtsRequest({ text: '안녕', audioEncoding: 'AAC' }, { encodings: ['MP3'] })).message).toContain('audioEncoding: must be one of MP3');
  });

  it('lets a spoken answer come as audio alone, and caps eval audio at 10 MB', async () => {
    const audio = { data: wav(1), mimeType: 'audio/wav' };
    expect(() => validateEvalRequest({ prompt: '따라 하세요: 안녕하세요', learnerAnswer: '', audio })).not.toThrow();
    expect(caught(() => validateEvalRequest({ prompt: 'p', learnerAnswer: '' })).message).toContain('learnerAnswer: must not be empty');
    expect(caught(() => validateEvalRequest({ prompt: 'p', learnerAnswer: 'x', audio: { data: new Uint8Array(MAX_EVAL_AUDIO_BYTES + 1), mimeType: 'audio/wav' } })).message).toContain(
      'audio.data: must be at most 10 MB',
    );
    // Through the client: the audio-only answer reaches the evaluator.
    const e = fakeEval([{ ok: true }]);
    const client = createAiClient({ providers: { e } });
    const res = await client.eval.evaluate({ prompt: '따라 하세요: 안녕하세요', learnerAnswer: '', audio });
    expect(res.score).toBe(85);
    expect(e.calls).toHaveLength(1);
    await client.close();
  });

  it('accepts KO-KR through the client', async () => {
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ providers: { a } });
    await expect(client.stt.transcribe({ audio: wav(1), encoding: 'LINEAR16', languageCode: 'KO-KR' })).resolves.toMatchObject({ transcript: '안녕하세요' });
    await client.close();
  });

  it('checks call options by hand, naming each bad one', () => {
    expect(callOptionsError('stt.transcribe', undefined)).toBeUndefined();
    expect(callOptionsError('stt.transcribe', { sessionId: 's', metadata: { a: 1 }, deadlineMs: 5 })).toBeUndefined();
    expect(callOptionsError('stt.transcribe', { deadlineMs: 1.5, metadata: [], eventId: 'x'.repeat(201) })?.message).toBe(
      'stt.transcribe: invalid call options: options.eventId: must be at most 200 characters; options.metadata: must be an object; options.deadlineMs: must be an integer',
    );
    expect(callOptionsError('tts.synthesize', 'fast')?.message).toBe('tts.synthesize: invalid call options: options.(options): must be an object');
  });
});
