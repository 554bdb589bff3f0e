import { describe, expect, it } from 'vitest';
import { classifyProviderError, googleErrorDetails, httpError, openAiErrorDetails, parseRetryDelay, retryAfterFromHeaders } from './map.js';

const ERROR_INFO = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } };

describe('googleErrorDetails', () => {
  it("reads ErrorInfo and RetryInfo from a JSON error body's details", () => {
    expect(googleErrorDetails([ERROR_INFO, { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid.' }])).toEqual({
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
    });
    expect(
      googleErrorDetails([
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'x' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '26s' },
      ]),
    ).toEqual({ retryAfterMs: 26_000 });
  });

  it("reads google-gax's decoded messages (no '@type', int64 as Long) and its promoted reason", () => {
    const long = { toNumber: () => 3 };
    const decoded = [{ retryDelay: { seconds: long, nanos: 250_000_000 } }, { reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com', metadata: {} }];
    expect(googleErrorDetails(decoded)).toEqual({ reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com', retryAfterMs: 3_250 });
    expect(googleErrorDetails(undefined, { reason: 'API_KEY_INVALID', domain: 'googleapis.com' })).toEqual({ reason: 'API_KEY_INVALID', domain: 'googleapis.com' });
    expect(googleErrorDetails('not a list', {})).toEqual({});
    expect(parseRetryDelay({ seconds: long })).toBe(3_000);
  });
});

describe('openAiErrorDetails', () => {
  it("takes the error code, else the type, in OpenAI's domain", () => {
    expect(openAiErrorDetails({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } })).toEqual({
      reason: 'insufficient_quota',
      domain: 'openai',
    });
    expect(openAiErrorDetails({ error: { message: 'm', type: 'requests', code: null } })).toEqual({ reason: 'requests', domain: 'openai' });
    expect(openAiErrorDetails({ detail: 'FastAPI' })).toEqual({});
    expect(openAiErrorDetails(null)).toEqual({});
  });
});

describe('classifyProviderError', () => {
  it('lets an account reason decide over the status', () => {
    const badKey = googleErrorDetails([ERROR_INFO]);
    expect(classifyProviderError({ http: 400 }, badKey)).toEqual({ code: 'unauthenticated', retryable: false });
    expect(classifyProviderError({ grpc: 3 }, badKey)).toEqual({ code: 'unauthenticated', retryable: false });
    expect(classifyProviderError({ http: 429 }, { reason: 'insufficient_quota', domain: 'openai' })).toEqual({ code: 'unauthenticated', retryable: false });
  });

  it('falls back to the status for other reasons, or a reason in another domain', () => {
    expect(classifyProviderError({ http: 400 })).toEqual({ code: 'invalid_request', retryable: false });
    expect(classifyProviderError({ http: 429 }, { reason: 'rate_limit_exceeded', domain: 'openai' })).toEqual({ code: 'rate_limited', retryable: true });
    expect(classifyProviderError({ http: 400 }, { reason: 'API_KEY_INVALID', domain: 'example.com' })).toEqual({ code: 'invalid_request', retryable: false });
    expect(classifyProviderError({ grpc: 8 }, { reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com' })).toEqual({ code: 'rate_limited', retryable: true });
  });

  it('feeds httpError', () => {
    const quota = httpError('whisper', 429, 'insufficient_quota: no credits', { details: { reason: 'insufficient_quota', domain: 'openai' } });
    expect(quota).toMatchObject({ code: 'unauthenticated', retryable: false, status: 429 });
    expect(httpError('gemini', 503, 'overloaded', { details: { retryAfterMs: 2_000 } })).toMatchObject({ code: 'unavailable', retryAfterMs: 2_000 });
  });
});

describe('retryAfterFromHeaders', () => {
  it('reads retry-after-ms first, then Retry-After seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '1500' }), now)).toBe(1_500);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250.4', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Tue, 01 Dec 2026 12:00:05 GMT' }), now)).toBe(5_000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': 'soon', 'retry-after': '1' }), now)).toBe(1_000);
    expect(retryAfterFromHeaders(new Headers(), now)).toBeUndefined();
    expect(retryAfterFromHeaders(undefined)).toBeUndefined();
  });
});
