import { describe, expect, it } from 'vitest';
import { AiError, isAiError } from './ai-error.js';
import { codeForGrpcStatus, codeForHttpStatus, httpError, parseRetryAfter, parseRetryDelay, safeProviderText } from './map.js';

describe('AiError', () => {
  it('carries structured fields and default retryability by code', () => {
    const cause = new Error('socket hang up');
    const e = new AiError('rate_limited', 'gemini: 429', { provider: 'gemini', status: 429, retryAfterMs: 2_000, cause });
    expect(e).toBeInstanceOf(Error);
    expect(isAiError(e)).toBe(true);
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({ name: 'AiError', code: 'rate_limited', message: 'gemini: 429', retryable: true, provider: 'gemini', status: 429, retryAfterMs: 2_000 });
    expect(new AiError('invalid_request', 'x').retryable).toBe(false);
    expect(new AiError('unavailable', 'x', { retryable: false }).retryable).toBe(false);
    expect(isAiError(new Error('x'))).toBe(false);
    expect(isAiError({ code: 'timeout' })).toBe(false);
  });
});

describe('mapping helpers', () => {
  it('maps HTTP and gRPC statuses', () => {
    expect(codeForHttpStatus(429)).toEqual({ code: 'rate_limited', retryable: true });
    expect(codeForHttpStatus(503)).toEqual({ code: 'unavailable', retryable: true });
    expect(codeForHttpStatus(400)).toEqual({ code: 'invalid_request', retryable: false });
    expect(codeForHttpStatus(403)).toEqual({ code: 'unauthenticated', retryable: false });
    expect(codeForGrpcStatus(8)).toEqual({ code: 'rate_limited', retryable: true });
    expect(codeForGrpcStatus(14)).toEqual({ code: 'unavailable', retryable: true });
    expect(codeForGrpcStatus(4)).toEqual({ code: 'timeout', retryable: true });
    expect(codeForGrpcStatus(3)).toEqual({ code: 'invalid_request', retryable: false });
    expect(codeForGrpcStatus(16)).toEqual({ code: 'unauthenticated', retryable: false });
  });

  it('parses Retry-After and RetryInfo', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 12:00:10 GMT', Date.parse('2026-11-26T12:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryDelay('1.5s')).toBe(1_500);
    expect(parseRetryDelay({ seconds: '2', nanos: 500_000_000 })).toBe(2_500);
  });

  it('redacts secrets and truncates provider text', () => {
    const text = safeProviderText(`bad key AIzaSyA1234567890abcdefghijklmnop and Bearer sk-abcdef1234567890 at https://x/?key=SECRET123 ${'x'.repeat(500)}`);
    expect(text).not.toContain('AIzaSy');
    expect(text).not.toContain('sk-abcdef');
    expect(text).not.toContain('SECRET123');
    expect(text.length).toBeLessThanOrEqual(201);
    const e = httpError('whisper', 429, '{"error":"slow down"}', { retryAfterMs: 1_000 });
    expect(e).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 1_000, provider: 'whisper' });
  });
});
