// A success that was admitted before the breaker opened says nothing about the provider now:
// only the probe's answer may close it.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

describe('the circuit breaker and late answers', () => {
  it('a late success from a call admitted before the breaker opened does not close it', () => {
    let t = 0;
    const b = new CircuitBreaker('k', { failureThreshold: 1, cooldownMs: 1_000 }, { now: () => t, setTimeout: () => 0, clearTimeout: () => {} });
    const early = b.acquire();
    b.onFailure(b.acquire());
    expect(b.state).toBe('open');
    b.onSuccess(early);
    expect(b.state).toBe('open');
    t = 1_000;
    const probe = b.acquire();
    expect(probe).toBe('probe');
    b.onSuccess(probe);
    expect(b.state).toBe('closed');
  });
});
