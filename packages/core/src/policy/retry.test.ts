import { describe, expect, it } from 'vitest';
import { AiError } from '../errors/ai-error.js';
import { decideRetry } from './retry.js';

const policy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };
const one = () => 1;

describe('decideRetry', () => {
  it('retries retryable errors with backoff while attempts and time remain', () => {
    expect(decideRetry(new AiError('unavailable', 'x'), 1, policy, 10_000, one)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry(new AiError('timeout', 'x'), 2, policy, 10_000, one)).toEqual({ retry: true, delayMs: 200 });
  });
  it('never retries non-retryable errors', () => {
    for (const code of ['invalid_request', 'unauthenticated', 'cancelled'] as const) {
      expect(decideRetry(new AiError(code, 'x'), 1, policy, 10_000, one)).toEqual({ retry: false, reason: 'not_retryable' });
    }
  });
  it('stops when the step has used its attempts', () => {
    expect(decideRetry(new AiError('unavailable', 'x'), 3, policy, 10_000, one)).toEqual({ retry: false, reason: 'attempts_used' });
  });
  it('uses the provider-requested wait, up to maxRetryAfterMs', () => {
    expect(decideRetry(new AiError('rate_limited', 'x', { retryAfterMs: 3_000 }), 1, policy, 10_000, one)).toEqual({ retry: true, delayMs: 3_000 });
    expect(decideRetry(new AiError('rate_limited', 'x', { retryAfterMs: 6_000 }), 1, policy, 10_000, one)).toEqual({ retry: false, reason: 'retry_after_too_long' });
  });
  it('never sleeps past the deadline', () => {
    expect(decideRetry(new AiError('rate_limited', 'x', { retryAfterMs: 3_000 }), 1, policy, 2_999, one)).toEqual({ retry: false, reason: 'no_time_left' });
    expect(decideRetry(new AiError('unavailable', 'x'), 1, policy, 100, one)).toEqual({ retry: false, reason: 'no_time_left' });
    expect(decideRetry(new AiError('unavailable', 'x'), 1, policy, 101, one)).toEqual({ retry: true, delayMs: 100 });
  });
});
