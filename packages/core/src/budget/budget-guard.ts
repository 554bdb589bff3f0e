import { AiError } from '../errors/ai-error.js';
import type { AiPolicy } from '../policy/ai-policy.js';
import { microToUsd, usdToMicro } from '../pricing/cost.js';
import type { BudgetLimit, BudgetStore } from './budget-store.js';

const DAY_MS = 86_400_000;
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
  }

  get enabled(): boolean {
    return this.perSessionMicro !== undefined || this.perDayMicro !== undefined;
  }

  /** The caps a call counts against: the session's (when it has a sessionId) and today's (UTC). */
  limitsFor(sessionId: string | undefined, nowMs: number): BudgetLimit[] {
    const limits: BudgetLimit[] = [];
    if (this.perSessionMicro !== undefined && sessionId) limits.push({ key: `session:${sessionId}`, capMicro: this.perSessionMicro, ttlMs: SESSION_TTL_MS });
    if (this.perDayMicro !== undefined) {
      const day = new Date(nowMs).toISOString().slice(0, 10);
      const endOfDay = Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS;
      limits.push({ key: `day:${day}`, capMicro: this.perDayMicro, ttlMs: endOfDay - nowMs + DAY_MS });
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

  /** Settles the call's main reservation to the real cost and drops its top-ups. Never throws. */
  async settle(mainId: string, topUpIds: string[], actualMicro: number): Promise<unknown> {
    try {
      await this.store.settle(mainId, actualMicro);
      await Promise.all(topUpIds.map((id) => this.store.release(id)));
      return undefined;
    } catch (e) {
      return e;
    }
  }
}
