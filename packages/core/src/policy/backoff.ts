import type { RandomSource } from './clock.js';

export interface BackoffOptions {
  /** Delay before the first retry, before jitter, ms. */
  initialDelayMs: number;
  /** Upper bound of any delay, ms. */
  maxDelayMs: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (n >= 1) waits between half and
 * all of min(maxDelayMs, initialDelayMs * 2^(n-1)). Half is kept so retries never bunch
 * at zero; the random half spreads clients apart.
 */
export function backoffDelayMs(retry: number, options: BackoffOptions, random: RandomSource): number {
  const exp = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, retry - 1));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
