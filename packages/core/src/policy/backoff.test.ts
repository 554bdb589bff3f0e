import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('stays within [half, all] of the capped exponential delay, for any inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, initial, extra, r) => {
          const max = initial + extra;
          const d = backoffDelayMs(retry, { initialDelayMs: initial, maxDelayMs: max }, () => r);
          const exp = Math.min(max, initial * 2 ** (retry - 1));
          expect(d).toBeGreaterThanOrEqual(Math.floor(exp / 2));
          expect(d).toBeLessThanOrEqual(Math.ceil(exp));
          expect(d).toBeLessThanOrEqual(max);
          expect(Number.isInteger(d)).toBe(true);
        },
      ),
    );
  });

  it('grows exponentially until the cap', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, opts, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3].map((n) => backoffDelayMs(n, opts, () => 0))).toEqual([50, 100, 200]);
  });
});
