import type { AiError } from '../errors/ai-error.js';
import type { RetryPolicy } from './ai-policy.js';
import { backoffDelayMs } from './backoff.js';
import type { RandomSource } from './clock.js';

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'not_retryable' | 'attempts_used' | 'retry_after_too_long' | 'no_time_left' };

/**
 * Decides whether the same provider gets another attempt after `error`. Pure: the engine
 * sleeps, this only decides. Retryability comes from the error (decided once, where the
 * provider's error was mapped); a provider-requested wait is honoured up to
 * maxRetryAfterMs; no sleep may end past the call deadline.
 *
 * @param attemptsMade attempts already made on this chain step
 * @param timeLeftMs ms until the call deadline
 * @param minAttemptMs the least time worth giving a new attempt after the sleep
 */
export function decideRetry(
  error: AiError,
  attemptsMade: number,
  policy: RetryPolicy,
  timeLeftMs: number,
  random: RandomSource,
  minAttemptMs = 1,
): RetryDecision {
  if (!error.retryable) return { retry: false, reason: 'not_retryable' };
  if (attemptsMade >= policy.maxAttempts) return { retry: false, reason: 'attempts_used' };
  let delayMs: number;
  if (error.retryAfterMs !== undefined) {
    if (error.retryAfterMs > policy.maxRetryAfterMs) return { retry: false, reason: 'retry_after_too_long' };
    delayMs = error.retryAfterMs;
  } else {
    delayMs = backoffDelayMs(attemptsMade, policy, random);
  }
  if (delayMs + minAttemptMs > timeLeftMs) return { retry: false, reason: 'no_time_left' };
  return { retry: true, delayMs };
}
