/** One cap a reservation counts against, e.g. the session's or today's. */
export interface BudgetLimit {
  /** Stable key, e.g. 'session:5b0c…' or 'day:2026-11-26'. */
  key: string;
  /** The cap, integer micro-dollars. */
  capMicro: number;
  /** How long the key's totals are kept after the last change, ms (a day key: until a while after the day ends). */
  ttlMs: number;
}

export interface ReserveRequest {
  /** Unique reservation id (the call id). */
  id: string;
  /** Worst-case cost of the call, integer micro-dollars. */
  amountMicro: number;
  /** Every cap the call counts against; all must have room, or nothing is reserved. */
  limits: BudgetLimit[];
  /** A reservation not settled within this many ms is dropped (its process died), ms. */
  reservationTtlMs: number;
}

export type ReserveResult =
  | { ok: true }
  | { ok: false; /** The first cap without room. */ key: string; capMicro: number; /** spent + reserved on that key before this request. */ usedMicro: number };

/**
 * Where budget totals live. Implementations must make `reserve` atomic across all limits
 * (check every cap and add to every key, or change nothing), so that concurrent calls never
 * overshoot a cap by more than one reservation's rounding.
 * `@korean-together/core/redis` and `@korean-together/usage-log` ship shared stores.
 */
export interface BudgetStore {
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Replaces the reservation by the real cost (micro-dollars) on every key it touched. */
  settle(id: string, actualMicro: number): Promise<void>;
  /** Drops the reservation without spending (same as settle(id, 0)). */
  release(id: string): Promise<void>;
  /** Spent + currently reserved on a key, micro-dollars. */
  usage(key: string): Promise<{ spentMicro: number; reservedMicro: number }>;
  close?(): Promise<void>;
}
