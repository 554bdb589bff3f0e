import type { AiErrorCode } from '../errors/ai-error.js';
import type { CircuitBreakerPolicy } from './ai-policy.js';
import { emit } from '../events.js';
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What `acquire` lets the caller do. */
export type BreakerPermit = 'call' | 'probe' | 'rejected';

/** Errors that say something about the provider's health; others (bad request, caller abort) do not count. */
const HEALTH_CODES: ReadonlySet<AiErrorCode> = new Set(['timeout', 'unavailable', 'rate_limited']);

export function countsAsBreakerFailure(code: AiErrorCode): boolean {
  return HEALTH_CODES.has(code);
}

/** The breaker's events (a part of AiClientEvents); fired through the guarded `emit`, so a throwing handler never changes a call. */
export interface BreakerEvents {
  onBreak?(e: { key: string; failures: number; cooldownMs: number }): void;
  onHalfOpen?(e: { key: string }): void;
  onReset?(e: { key: string }): void;
}

/**
 * A consecutive-failure circuit breaker for one provider. Closed: every call goes through.
 * After `failureThreshold` consecutive health failures it opens: calls are rejected
 * without touching the provider. After `cooldownMs` exactly one caller gets a 'probe'
 * permit (half-open); its success closes the breaker, its failure re-opens it for another
 * cooldown, and a probe that ends without a verdict (aborted) hands the probe to the next caller.
 */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private current: BreakerState = 'closed';

  constructor(
    readonly key: string,
    private readonly policy: CircuitBreakerPolicy,
    private readonly clock: Clock,
    private readonly events: BreakerEvents = {},
  ) {}

  get state(): BreakerState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.policy.cooldownMs) return 'half_open';
    return this.current;
  }

  /** Milliseconds until an open breaker allows a probe (0 when not open). */
  retryInMs(): number {
    return this.current === 'open' ? Math.max(0, this.openedAt + this.policy.cooldownMs - this.clock.now()) : 0;
  }

  acquire(): BreakerPermit {
    const state = this.state;
    if (state === 'closed') return 'call';
    if (state === 'open' || this.probeInFlight) return 'rejected';
    if (this.current === 'open') {
      this.current = 'half_open';
      emit(this.events, 'onHalfOpen', { key: this.key });
    }
    this.probeInFlight = true;
    return 'probe';
  }

  onSuccess(permit: BreakerPermit): void {
    this.consecutiveFailures = 0;
    // Only the probe may close an open breaker: a late success from a call admitted before it
    // opened says nothing about the provider now, and must not skip the cooldown.
    if (permit === 'probe') {
      this.probeInFlight = false;
      if (this.current !== 'closed') {
        this.current = 'closed';
        emit(this.events, 'onReset', { key: this.key });
      }
    }
  }

  onFailure(permit: BreakerPermit): void {
    this.consecutiveFailures++;
    if (permit === 'probe') {
      this.probeInFlight = false;
      this.open();
      return;
    }
    if (this.current === 'closed' && this.consecutiveFailures >= this.policy.failureThreshold) this.open();
  }

  /** The attempt ended without saying anything about the provider (caller abort, bad request). */
  onNeutral(permit: BreakerPermit): void {
    if (permit === 'probe') this.probeInFlight = false;
  }

  private open(): void {
    this.current = 'open';
    this.openedAt = this.clock.now();
    emit(this.events, 'onBreak', { key: this.key, failures: this.consecutiveFailures, cooldownMs: this.policy.cooldownMs });
  }
}
