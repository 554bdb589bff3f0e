import type { BudgetStore, ReserveRequest, ReserveResult } from './budget-store.js';

interface Reservation {
  keys: string[];
  amountMicro: number;
  expiresAt: number;
}

/**
 * A BudgetStore in this process's memory: exact and atomic within one process (every
 * operation is synchronous). Use a shared store when several processes spend one budget.
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly spent = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? (() => Date.now());
  }

  private reserved(key: string): number {
    let sum = 0;
    const t = this.now();
    for (const [id, r] of this.reservations) {
      // An expired reservation no longer holds room, but stays findable by a late settle
      // (its spend must still count) until it is an hour stale.
      if (r.expiresAt <= t) {
        if (r.expiresAt + 3_600_000 <= t) this.reservations.delete(id);
        continue;
      }
      if (r.keys.includes(key)) sum += r.amountMicro;
    }
    return sum;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    for (const limit of req.limits) {
      const used = (this.spent.get(limit.key) ?? 0) + this.reserved(limit.key);
      if (used + req.amountMicro > limit.capMicro) return { ok: false, key: limit.key, capMicro: limit.capMicro, usedMicro: used };
    }
    this.reservations.set(req.id, {
      keys: req.limits.map((l) => l.key),
      amountMicro: req.amountMicro,
      expiresAt: this.now() + req.reservationTtlMs,
    });
    return { ok: true };
  }

  async settle(id: string, actualMicro: number): Promise<void> {
    const r = this.reservations.get(id);
    if (!r) return;
    this.reservations.delete(id);
    if (actualMicro <= 0) return;
    for (const key of r.keys) this.spent.set(key, (this.spent.get(key) ?? 0) + actualMicro);
  }

  async release(id: string): Promise<void> {
    this.reservations.delete(id);
  }

  async usage(key: string): Promise<{ spentMicro: number; reservedMicro: number }> {
    return { spentMicro: this.spent.get(key) ?? 0, reservedMicro: this.reserved(key) };
  }
}

/** Creates an in-memory budget store (the default of createAiClient). */
export function createMemoryBudgetStore(options: { now?: () => number } = {}): BudgetStore {
  return new MemoryBudgetStore(options);
}
