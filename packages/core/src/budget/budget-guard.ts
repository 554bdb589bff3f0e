import { AiError } from '../errors/ai-error.js';
import type { AiPolicy } from '../policy/ai-policy.js';
import { microToUsd, usdToMicro } from '../pricing/cost.js';
import { sleep, type Clock } from '../policy/clock.js';
import type { BudgetLimit, BudgetStore } from './budget-store.js';

const DAY_MS = 86_400_000;
const SETTLE_RETRY_DELAYS_MS = [250, 1_000, 4_000];
/** Session totals are kept this long after their last change. */
const SESSION_TTL_MS = 7 * DAY_MS;

/**
 * Applies the policy's budget caps to one call through a BudgetStore: reserve the
 * worst case before the first attempt, top up before every further attempt, settle to
 * the real cost at the end. Does nothing (no store round trips) when no cap is set.
 */
export class BudgetGuard {
  private readonly perSessionMicro: number | undefined;
  private readonly perDayMicro: number | undefined;

  constructor(
    budget: AiPolicy['budget'],
    private readonly store: BudgetStore,
  ) {
    this.perSessionMicro = budget.perSessionUsd === undefined ? undefined : usdToMicro(budget.perSessionUsd);
    this.perDayMicro = budget.perDayUsd === undefined ? undefined : usdToMicro(budget.perDayUsd);
    this.enabled = this.perSessionMicro !== undefined || this.perDayMicro !== undefined;
  }

  /** A cap is set: calls reserve, top up and settle. */
  readonly enabled: boolean;
  /** Today's key ('day:2026-11-26') and the UTC day it is for, kept between calls. */
  private dayKey = '';
  private dayNumber = -1;

  /** The caps a call counts against: the session's (when it has a sessionId) and today's (UTC). */
  limitsFor(sessionId: string | undefined, nowMs: number): BudgetLimit[] {
    const limits: BudgetLimit[] = [];
    if (this.perSessionMicro !== undefined && sessionId) limits.push({ key: `session:${sessionId}`, capMicro: this.perSessionMicro, ttlMs: SESSION_TTL_MS });
    if (this.perDayMicro !== undefined) {
      const dayNumber = Math.floor(nowMs / DAY_MS);
      if (dayNumber !== this.dayNumber) {
        this.dayNumber = dayNumber;
        this.dayKey = `day:${new Date(dayNumber * DAY_MS).toISOString().slice(0, 10)}`;
      }
      const endOfDay = dayNumber * DAY_MS + DAY_MS;
      limits.push({ key: this.dayKey, capMicro: this.perDayMicro, ttlMs: endOfDay - nowMs + DAY_MS });
    }
    return limits;
  }

  /**
   * Reserves `amountMicro` under `id`; throws `budget_exceeded` naming the cap when there is
   * no room, `unavailable` when the store cannot be reached (fail closed: no spend without a reservation).
   */
  async reserve(id: string, amountMicro: number, limits: BudgetLimit[], reservationTtlMs: number, what: string): Promise<void> {
    if (limits.length === 0) return;
    let result;
    try {
      result = await this.store.reserve({ id, amountMicro, limits, reservationTtlMs });
    } catch (e) {
      throw new AiError('unavailable', `${what}: budget store unavailable, call refused: ${(e as Error)?.message ?? 'error'}`, { retryable: true, cause: e });
    }
    if (!result.ok) {
      const kind = result.key.startsWith('session:') ? 'per-session' : 'per-day';
      throw new AiError(
        'budget_exceeded',
        `${what}: ${kind} budget of $${microToUsd(result.capMicro).toFixed(6)} would be exceeded: $${microToUsd(result.usedMicro).toFixed(6)} spent or reserved, this call may cost up to $${microToUsd(amountMicro).toFixed(6)}`,
        { retryable: false },
      );
    }
  }

  /**
   * Settles the call's main reservation to the real cost and drops its top-ups. Retried with
   * backoff (0.25 s, 1 s, 4 s) when the store fails, because a lost settle would let the
   * spend vanish when the reservation expires; `onError` hears only the final failure.
   * Never throws.
   */
  async settle(mainId: string, topUpIds: string[], actualMicro: number, clock: Clock, onError: (error: unknown) => void): Promise<void> {
    let settled = false;
    const released = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        if (!settled) {
          await this.store.settle(mainId, actualMicro);
          settled = true;
        }
        for (const id of topUpIds) {
          if (released.has(id)) continue;
          await this.store.release(id);
          released.add(id);
        }
        return;
      } catch (e) {
        const delay = SETTLE_RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          onError(e);
          return;
        }
        // Nobody awaits a settle (the call has returned): its retry wait must not hold the
        // process open. close() waits for it under its own deadline timer.
        await sleep(clock, delay, undefined, { background: true });
      }
    }
  }

  /** Drops a reservation; never throws (an unreleased reservation expires on its own). */
  async release(id: string): Promise<void> {
    try {
      await this.store.release(id);
    } catch {
      // It expires after reservationTtlMs anyway.
    }
  }
}
