import type { BudgetStore, ReserveRequest, ReserveResult } from './budget-store.js';

/** A lapsed (expired, unsettled) reservation stays findable by a late settle this long. */
const LATE_SETTLE_MS = 3_600_000;

interface Totals {
  spentMicro: number;
  reservedMicro: number;
  /** Epoch ms after which the key is forgotten: its latest change plus its limit's ttlMs. */
  expiresAt: number;
}

interface Reservation {
  keys: { key: string; ttlMs: number }[];
  amountMicro: number;
  expiresAt: number;
  /** Past expiresAt: no longer holds room, still settles (its spend must count) until LATE_SETTLE_MS later. */
  lapsed: boolean;
}

/** A binary min-heap by `at`. */
class MinHeap<T> {
  private readonly items: { at: number; value: T }[] = [];

  push(at: number, value: T): void {
    const a = this.items;
    a.push({ at, value });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= a[i]!.at) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  /** Removes and returns the earliest entry due at or before `t`. */
  popDue(t: number): { at: number; value: T } | undefined {
    const a = this.items;
    if (a.length === 0 || a[0]!.at > t) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.at < a[m]!.at) m = l;
        if (r < a.length && a[r]!.at < a[m]!.at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A BudgetStore in this process's memory: exact and atomic within one process (every
 * operation is synchronous). Use a shared store when several processes spend one budget.
 *
 * Memory stays bounded: a key's totals are forgotten once its window has passed (its limit's
 * `ttlMs` after the key last changed: a session idle past its TTL, a day well after it ended),
 * and an expired, unsettled reservation is dropped an hour after it lapsed. Forgetting is
 * amortised over the store's own operations (no timers): each expiry is applied once, by the
 * first operation after it, in O(log n).
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly totals = new Map<string, Totals>();
  private readonly reservations = new Map<string, Reservation>();
  /** Keys by expiry, one entry per key; an entry whose key was renewed meanwhile is pushed again. */
  private readonly keyExpiries = new MinHeap<{ key: string; totals: Totals }>();
  /** Reservations by expiry; entries of settled ones are skipped when they surface. */
  private readonly reservationExpiries = new MinHeap<{ id: string; r: Reservation }>();
  /** Lapsed reservations, in lapse order (= expiry order), for dropping an hour later. */
  private lapsed: { id: string; r: Reservation }[] = [];
  private lapsedHead = 0;
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? (() => Date.now());
  }

  /** Keys with totals, and reservations held (live, or lapsed but still settleable): for diagnostics and tests. */
  stats(): { keys: number; reservations: number } {
    this.tick();
    return { keys: this.totals.size, reservations: this.reservations.size };
  }

  /** Applies every expiry due by now; returns now. */
  private tick(): number {
    const t = this.now();
    for (let e = this.reservationExpiries.popDue(t); e; e = this.reservationExpiries.popDue(t)) {
      const { id, r } = e.value;
      if (r.lapsed || this.reservations.get(id) !== r) continue;
      r.lapsed = true;
      for (const k of r.keys) {
        const tot = this.totals.get(k.key);
        if (tot) tot.reservedMicro -= r.amountMicro;
      }
      this.lapsed.push({ id, r });
    }
    while (this.lapsedHead < this.lapsed.length && this.lapsed[this.lapsedHead]!.r.expiresAt + LATE_SETTLE_MS <= t) {
      const { id, r } = this.lapsed[this.lapsedHead++]!;
      if (this.reservations.get(id) === r) this.reservations.delete(id);
    }
    if (this.lapsedHead > 1024 && this.lapsedHead * 2 > this.lapsed.length) {
      this.lapsed = this.lapsed.slice(this.lapsedHead);
      this.lapsedHead = 0;
    }
    for (let e = this.keyExpiries.popDue(t); e; e = this.keyExpiries.popDue(t)) {
      const { key, totals: tot } = e.value;
      if (this.totals.get(key) !== tot) continue;
      if (tot.expiresAt > t) {
        // Renewed since it was queued: wait for the new expiry.
        this.keyExpiries.push(tot.expiresAt, e.value);
      } else if (tot.reservedMicro > 0) {
        // Still holds a live reservation (one longer than the key's own window): look again later.
        this.keyExpiries.push(t + 60_000, e.value);
      } else {
        this.totals.delete(key);
      }
    }
    return t;
  }

  private live(key: string, t: number): Totals | undefined {
    const tot = this.totals.get(key);
    return tot && (tot.expiresAt > t || tot.reservedMicro > 0) ? tot : undefined;
  }

  /** The key's live totals (fresh when it was never seen or has expired), with its window renewed. */
  private touch(key: string, ttlMs: number, t: number): Totals {
    let tot = this.live(key, t);
    if (!tot) {
      tot = { spentMicro: 0, reservedMicro: 0, expiresAt: t + ttlMs };
      this.totals.set(key, tot);
      this.keyExpiries.push(tot.expiresAt, { key, totals: tot });
    } else {
      tot.expiresAt = Math.max(tot.expiresAt, t + ttlMs);
    }
    return tot;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const t = this.tick();
    for (const limit of req.limits) {
      const tot = this.live(limit.key, t);
      const used = (tot?.spentMicro ?? 0) + (tot?.reservedMicro ?? 0);
      if (used + req.amountMicro > limit.capMicro) return { ok: false, key: limit.key, capMicro: limit.capMicro, usedMicro: used };
    }
    // Ids are unique per call; a reused one replaces the reservation it names.
    const previous = this.reservations.get(req.id);
    if (previous) this.drop(req.id, previous);
    const r: Reservation = {
      keys: req.limits.map((l) => ({ key: l.key, ttlMs: l.ttlMs })),
      amountMicro: req.amountMicro,
      expiresAt: t + req.reservationTtlMs,
      lapsed: false,
    };
    for (const k of r.keys) this.touch(k.key, k.ttlMs, t).reservedMicro += r.amountMicro;
    this.reservations.set(req.id, r);
    this.reservationExpiries.push(r.expiresAt, { id: req.id, r });
    return { ok: true };
  }

  async settle(id: string, actualMicro: number): Promise<void> {
    const t = this.tick();
    const r = this.reservations.get(id);
    if (!r) return;
    this.drop(id, r);
    if (actualMicro <= 0) return;
    for (const k of r.keys) this.touch(k.key, k.ttlMs, t).spentMicro += actualMicro;
  }

  async release(id: string): Promise<void> {
    this.tick();
    const r = this.reservations.get(id);
    if (r) this.drop(id, r);
  }

  async usage(key: string): Promise<{ spentMicro: number; reservedMicro: number }> {
    const tot = this.live(key, this.tick());
    return { spentMicro: tot?.spentMicro ?? 0, reservedMicro: tot?.reservedMicro ?? 0 };
  }

  /** Forgets a reservation, giving back the room it held while live. */
  private drop(id: string, r: Reservation): void {
    this.reservations.delete(id);
    if (r.lapsed) return;
    r.lapsed = true; // its heap entry is skipped when it surfaces
    for (const k of r.keys) {
      const tot = this.totals.get(k.key);
      if (tot) tot.reservedMicro -= r.amountMicro;
    }
  }
}

/** Creates an in-memory budget store (the default of createAiClient). */
export function createMemoryBudgetStore(options: { now?: () => number } = {}): BudgetStore {
  return new MemoryBudgetStore(options);
}
