// The adapters check requests with the core's validators and limits (one set, shared with the
// client), which this package re-exports: the rules an adapter applies before any network call.
import { isAiError, type SttRequest } from '@korean-together/core';
import * as kit from '@korean-together/core/provider-kit';
import {
  GOOGLE_SYNC_STT_LIMITS,
  validateEvalRequest,
  validateSttRequest,
  validateTtsRequest,
  WHISPER_STT_LIMITS,
} from '@korean-together/providers';
import { describe, expect, it } from 'vitest';
import { pcmToWav, synthesizeMp3 } from '../src/emulators/audio.js';

function caught(fn: () => unknown): { code: string; message: string; retryable: boolean; provider: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (isAiError(e)) return { code: e.code, message: e.message, retryable: e.retryable, provider: e.provider };
    throw e;
  }
  throw new Error('expected a throw');
}

const MB = 1024 * 1024;
const google = { who: 'google-stt', provider: 'google-stt', limits: GOOGLE_SYNC_STT_LIMITS };
const whisper = { who: 'whisper', provider: 'whisper', limits: WHISPER_STT_LIMITS };
const stt = (r: Partial<SttRequest>) => ({ audio: new Uint8Array(10), encoding: 'LINEAR16' as const, sampleRateHertz: 16000, ...r });

describe('request validation', () => {
  it("is the core's: the same validators and the same limit objects", () => {
    expect(validateSttRequest).toBe(kit.validateSttRequest);
    expect(validateTtsRequest).toBe(kit.validateTtsRequest);
    expect(validateEvalRequest).toBe(kit.validateEvalRequest);
    expect(GOOGLE_SYNC_STT_LIMITS).toBe(kit.SYNC_STT_LIMITS);
    expect(WHISPER_STT_LIMITS).toBe(kit.WHISPER_STT_LIMITS);
  });

  it('rejects empty audio naming the field and the provider', () => {
    const e = caught(() => validateSttRequest(stt({ audio: new Uint8Array(0) }), google));
    expect(e).toEqual({ code: 'invalid_request', retryable: false, provider: 'google-stt', message: 'google-stt: invalid request: audio: must not be empty' });
  });

  it('rejects audio over 10 MB for synchronous Google STT but not for Whisper', () => {
    // Raw LINEAR16 at 8 kHz: any bytes are samples, and Whisper has no length limit of its own.
    const big = stt({ audio: new Uint8Array(11 * MB), sampleRateHertz: 8000 });
    expect(caught(() => validateSttRequest(big, google)).message).toMatch(/audio: must be at most 10485760 bytes \(10 MB\), the synchronous limit/);
    expect(() => validateSttRequest(big, whisper)).not.toThrow();
  });

  it('rejects audio longer than 60 s from the WAV header and from MP3 frames', () => {
    const wav = pcmToWav(new Uint8Array(8000 * 2 * 61), 8000);
    expect(caught(() => validateSttRequest(stt({ audio: wav, sampleRateHertz: undefined }), google)).message).toMatch(/audio: 61000 ms is longer than the 60000 ms synchronous limit/);
    const mp3 = synthesizeMp3('가'.repeat(420)); // 420 x 150 ms = 63 s
    expect(caught(() => validateSttRequest(stt({ audio: mp3, encoding: 'MP3' }), google)).code).toBe('invalid_request');
    expect(validateSttRequest(stt({ audio: pcmToWav(new Uint8Array(16000), 8000), sampleRateHertz: undefined }), google).durationMs).toBe(1000);
  });

  it('rejects an unsupported encoding and a bad sample rate', () => {
    expect(caught(() => validateSttRequest(stt({ encoding: 'AMR' as never }), whisper)).message).toMatch(/^whisper: invalid request: encoding: must be one of LINEAR16/);
    expect(caught(() => validateSttRequest(stt({ sampleRateHertz: 100 }), whisper)).message).toMatch(/sampleRateHertz: must be >= 8000/);
  });

  it('takes a language code in any case, and refuses one that is not a BCP-47 tag', () => {
    expect(() => validateSttRequest(stt({ languageCode: 'ko-kr' }), google)).not.toThrow();
    expect(() => validateSttRequest(stt({ languageCode: 'KO-KR' }), google)).not.toThrow();
    expect(caught(() => validateSttRequest(stt({ languageCode: 'ko_KR' }), google)).message).toMatch(/languageCode: must be a BCP-47 code/);
  });

  it('rejects empty TTS text, unknown encodings and speaking rates out of range', () => {
    const tts = { who: 'google-tts', provider: 'google-tts' };
    expect(caught(() => validateTtsRequest({ text: '  ' }, tts)).message).toBe('google-tts: invalid request: text: must not be empty');
    expect(caught(() => validateTtsRequest({ text: '안녕', audioEncoding: 'AAC' as never }, tts)).message).toMatch(/audioEncoding: must be one of/);
    expect(caught(() => validateTtsRequest({ text: '안녕', speakingRate: 9 }, tts)).message).toMatch(/speakingRate: must be <= 4/);
  });

  it('rejects eval requests without a task or answer, and bad audio', () => {
    const gemini = { who: 'gemini', provider: 'gemini' };
    expect(caught(() => validateEvalRequest({ prompt: '', learnerAnswer: 'x' }, gemini)).message).toMatch(/prompt: must not be empty/);
    expect(caught(() => validateEvalRequest({ prompt: 'p', learnerAnswer: ' ' }, gemini)).message).toMatch(/learnerAnswer: must not be empty/);
    expect(caught(() => validateEvalRequest({ prompt: 'p', learnerAnswer: 'x', audio: { data: new Uint8Array(4), mimeType: 'text/plain' } }, gemini)).message).toMatch(
      /audio\.mimeType/,
    );
    expect(() => validateEvalRequest({ prompt: 'p', learnerAnswer: '', audio: { data: new Uint8Array(4), mimeType: 'audio/wav' } }, gemini)).not.toThrow();
  });

  it('caps eval audio at 10 MB, the limit the client applies', () => {
    const audio = (bytes: number) => ({ data: new Uint8Array(bytes), mimeType: 'audio/wav' });
    const e = caught(() => validateEvalRequest({ prompt: 'p', learnerAnswer: '', audio: audio(11 * MB) }, { who: 'gemini', provider: 'gemini' }));
    expect(e).toMatchObject({ code: 'invalid_request', provider: 'gemini', message: expect.stringMatching(/audio\.data: must be at most 10 MB/) });
    expect(() => validateEvalRequest({ prompt: 'p', learnerAnswer: '', audio: audio(10 * MB) })).not.toThrow();
  });

  it('never quotes the learner content in its messages', () => {
    const secret = '제 비밀 대답입니다';
    const e = caught(() => validateEvalRequest({ prompt: secret, learnerAnswer: secret, targetFormality: 'polite' as never }, { who: 'gemini' }));
    expect(e.message).not.toContain(secret);
  });
});
