import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { Clock } from './clock.js';

function manualClock(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, setTimeout: () => 0, clearTimeout: () => {} };
  return c;
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures; a success resets the count', () => {
    const clock = manualClock();
    const onBreak = vi.fn();
    const b = new CircuitBreaker('stt:a', { failureThreshold: 3, cooldownMs: 1_000 }, clock, { onBreak });
    b.onFailure(b.acquire());
    b.onFailure(b.acquire());
    b.onSuccess(b.acquire());
    b.onFailure(b.acquire());
    b.onFailure(b.acquire());
    expect(b.state).toBe('closed');
    b.onFailure(b.acquire());
    expect(b.state).toBe('open');
    expect(onBreak).toHaveBeenCalledWith({ key: 'stt:a', failures: 3, cooldownMs: 1_000 });
    expect(b.acquire()).toBe('rejected');
    expect(b.retryInMs()).toBe(1_000);
  });

  it('after the cooldown gives exactly one probe; success closes, failure re-opens for a new cooldown', () => {
    const clock = manualClock();
    const b = new CircuitBreaker('k', { failureThreshold: 1, cooldownMs: 1_000 }, clock);
    b.onFailure(b.acquire());
    clock.t = 999;
    expect(b.acquire()).toBe('rejected');
    clock.t = 1_000;
    expect(b.acquire()).toBe('probe');
    expect(b.acquire()).toBe('rejected');
    b.onFailure('probe');
    expect(b.state).toBe('open');
    clock.t = 1_999;
    expect(b.acquire()).toBe('rejected');
    clock.t = 2_000;
    expect(b.acquire()).toBe('probe');
    b.onSuccess('probe');
    expect(b.state).toBe('closed');
    expect(b.acquire()).toBe('call');
  });

  it('hands the probe to the next caller when the probe ends without a verdict', () => {
    const clock = manualClock();
    const b = new CircuitBreaker('k', { failureThreshold: 1, cooldownMs: 10 }, clock);
    b.onFailure(b.acquire());
    clock.t = 10;
    expect(b.acquire()).toBe('probe');
    b.onNeutral('probe');
    expect(b.acquire()).toBe('probe');
  });
});
