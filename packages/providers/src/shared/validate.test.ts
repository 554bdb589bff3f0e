import { isAiError, type SttRequest } from '@korean-together/core';
import { describe, expect, it } from 'vitest';
import { pcmToWav, synthesizeMp3 } from '../emulators/audio.js';
import { GOOGLE_SYNC_STT_LIMITS, validateEvalRequest, validateSttRequest, validateTtsRequest, WHISPER_STT_LIMITS } from './validate.js';

function caught(fn: () => unknown): { code: string; message: string; retryable: boolean } {
  try {
    fn();
  } catch (e) {
    if (isAiError(e)) return { code: e.code, message: e.message, retryable: e.retryable };
    throw e;
  }
  throw new Error('expected a throw');
}

const stt = (r: Partial<SttRequest>) => ({ audio: new Uint8Array(10), encoding: 'LINEAR16' as const, sampleRateHertz: 16000, ...r });

describe('request validation', () => {
  it('rejects empty audio naming the field', () => {
    const e = caught(() => validateSttRequest('google-stt', stt({ audio: new Uint8Array(0) }), GOOGLE_SYNC_STT_LIMITS));
    expect(e).toEqual({ code: 'invalid_request', retryable: false, message: expect.stringMatching(/^google-stt: invalid request: audio is empty/) });
  });

  it('rejects audio over 10 MB for synchronous Google STT but not for Whisper', () => {
    const big = stt({ audio: new Uint8Array(11 * 1024 * 1024), encoding: 'WEBM_OPUS' });
    expect(caught(() => validateSttRequest('google-stt', big, GOOGLE_SYNC_STT_LIMITS)).message).toMatch(/audio is 11\.0 MB, over the 10\.0 MB limit/);
    expect(() => validateSttRequest('whisper', big, WHISPER_STT_LIMITS)).not.toThrow();
  });

  it('rejects audio longer than 60 s from the WAV header and from MP3 frames', () => {
    const wav = pcmToWav(new Uint8Array(8000 * 2 * 61), 8000);
    expect(caught(() => validateSttRequest('google-stt', stt({ audio: wav, sampleRateHertz: undefined }), GOOGLE_SYNC_STT_LIMITS)).message).toMatch(
      /audio lasts 61\.0 s, over the 60 s limit/,
    );
    const mp3 = synthesizeMp3('가'.repeat(420)); // 420 x 150 ms = 63 s
    expect(caught(() => validateSttRequest('google-stt', stt({ audio: mp3, encoding: 'MP3' }), GOOGLE_SYNC_STT_LIMITS)).code).toBe('invalid_request');
    expect(validateSttRequest('google-stt', stt({ audio: pcmToWav(new Uint8Array(16000), 8000), sampleRateHertz: undefined }), GOOGLE_SYNC_STT_LIMITS).durationMs).toBe(1000);
  });

  it('rejects an unsupported encoding and a bad sample rate', () => {
    expect(caught(() => validateSttRequest('whisper', stt({ encoding: 'AMR' as never }), WHISPER_STT_LIMITS)).message).toMatch(/encoding 'AMR' is not supported/);
    expect(caught(() => validateSttRequest('whisper', stt({ sampleRateHertz: 100 }), WHISPER_STT_LIMITS)).message).toMatch(/sampleRateHertz must be an integer/);
  });

  it('rejects empty TTS text, unknown encodings and speaking rates out of range', () => {
    expect(caught(() => validateTtsRequest('google-tts', { text: '  ' })).message).toBe('google-tts: invalid request: text is empty');
    expect(caught(() => validateTtsRequest('google-tts', { text: '안녕', audioEncoding: 'AAC' as never })).message).toMatch(/audioEncoding 'AAC'/);
    expect(caught(() => validateTtsRequest('google-tts', { text: '안녕', speakingRate: 9 })).message).toMatch(/speakingRate must be a number from 0.25 to 4/);
  });

  it('rejects eval requests without a task or answer, and bad audio', () => {
    expect(caught(() => validateEvalRequest('gemini', { prompt: '', learnerAnswer: 'x' })).message).toMatch(/prompt must be a non-empty string/);
    expect(caught(() => validateEvalRequest('gemini', { prompt: 'p', learnerAnswer: ' ' })).message).toMatch(/learnerAnswer is empty and no audio/);
    expect(caught(() => validateEvalRequest('gemini', { prompt: 'p', learnerAnswer: 'x', audio: { data: new Uint8Array(4), mimeType: 'text/plain' } })).message).toMatch(
      /audio.mimeType/,
    );
    expect(() => validateEvalRequest('gemini', { prompt: 'p', learnerAnswer: '', audio: { data: new Uint8Array(4), mimeType: 'audio/wav' } })).not.toThrow();
  });

  it('never quotes the learner content in its messages', () => {
    const secret = '제 비밀 대답입니다';
    const e = caught(() => validateEvalRequest('gemini', { prompt: secret, learnerAnswer: secret, targetFormality: 'polite' as never }));
    expect(e.message).not.toContain(secret);
  });
});
