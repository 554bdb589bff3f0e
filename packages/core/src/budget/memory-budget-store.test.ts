import { describe, expect, it } from 'vitest';
import { BudgetGuard } from './budget-guard.js';
import { MemoryBudgetStore } from './memory-budget-store.js';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-11-26T12:00:00Z');

function setup() {
  let now = T0;
  const store = new MemoryBudgetStore({ now: () => now });
  // The limits (and their windows) exactly as the client asks for them.
  const guard = new BudgetGuard({ perSessionUsd: 1, perDayUsd: 1_000_000 }, store);
  const spend = async (session: string, id: string, micro: number) => {
    const limits = guard.limitsFor(session, now);
    expect(await store.reserve({ id, amountMicro: 500, limits, reservationTtlMs: 80_000 })).toEqual({ ok: true });
    await store.settle(id, micro);
  };
  return { store, spend, at: (t: number) => (now = t) };
}

describe('MemoryBudgetStore forgets totals with their window', () => {
  it('drops 200k idle sessions and past days after their window; totals inside it stay exact', async () => {
    const { store, spend, at } = setup();
    let daySpend = 0;
    for (let i = 0; i < 200_000; i++) {
      const micro = 37 + (i % 5);
      daySpend += micro;
      await spend(`s${i}`, `c${i}`, micro);
    }
    expect(store.stats()).toEqual({ keys: 200_001, reservations: 0 });
    expect(await store.usage('day:2026-11-26')).toEqual({ spentMicro: daySpend, reservedMicro: 0 });
    expect(await store.usage('session:s123')).toEqual({ spentMicro: 37 + 3, reservedMicro: 0 });

    // Six days on: every session is still within its 7-day idle window, and exact.
    at(T0 + 6 * DAY_MS);
    expect(await store.usage('session:s123')).toEqual({ spentMicro: 40, reservedMicro: 0 });
    await spend('s7', 'late', 1_000); // s7 is active again: its window starts over
    // The sessions and today; the first day was dropped a day after it ended.
    expect(store.stats().keys).toBe(200_000 + 1);
    expect(await store.usage('day:2026-11-26')).toEqual({ spentMicro: 0, reservedMicro: 0 });

    // Seven days after the first spend: the idle sessions are gone; s7 and today remain, exact.
    at(T0 + 7 * DAY_MS + 1);
    expect(store.stats()).toEqual({ keys: 2, reservations: 0 });
    expect(await store.usage('session:s123')).toEqual({ spentMicro: 0, reservedMicro: 0 });
    expect(await store.usage('session:s7')).toEqual({ spentMicro: 37 + 2 + 1_000, reservedMicro: 0 });
    expect(await store.usage('day:2026-12-02')).toEqual({ spentMicro: 1_000, reservedMicro: 0 });

    // A simulated month later nothing is held.
    at(T0 + 30 * DAY_MS);
    expect(store.stats()).toEqual({ keys: 0, reservations: 0 });
  });

  it('an unsettled reservation stops holding room at its expiry, a late settle still counts, and it is dropped an hour later', async () => {
    let now = T0;
    const store = new MemoryBudgetStore({ now: () => now });
    const limits = [{ key: 'session:a', capMicro: 1_000, ttlMs: 7 * DAY_MS }];
    expect(await store.reserve({ id: 'r1', amountMicro: 800, limits, reservationTtlMs: 10_000 })).toEqual({ ok: true });
    now += 9_999;
    expect(await store.reserve({ id: 'r2', amountMicro: 300, limits, reservationTtlMs: 10_000 })).toMatchObject({ ok: false, usedMicro: 800 });
    now += 1;
    expect(await store.usage('session:a')).toEqual({ spentMicro: 0, reservedMicro: 0 });
    await store.settle('r1', 250);
    expect(await store.usage('session:a')).toEqual({ spentMicro: 250, reservedMicro: 0 });

    expect(await store.reserve({ id: 'r3', amountMicro: 100, limits, reservationTtlMs: 10_000 })).toEqual({ ok: true });
    now += 10_000 + 3_600_000;
    expect(store.stats().reservations).toBe(0);
    await store.settle('r3', 100); // too late: forgotten
    expect(await store.usage('session:a')).toEqual({ spentMicro: 250, reservedMicro: 0 });
  });

  it('a live reservation keeps its key past the key window until it ends', async () => {
    let now = T0;
    const store = new MemoryBudgetStore({ now: () => now });
    const limits = [{ key: 'session:b', capMicro: 1_000, ttlMs: 1_000 }];
    await store.reserve({ id: 'r', amountMicro: 400, limits, reservationTtlMs: 5_000 });
    now += 2_000;
    expect(await store.usage('session:b')).toEqual({ spentMicro: 0, reservedMicro: 400 });
    await store.settle('r', 300);
    expect(await store.usage('session:b')).toEqual({ spentMicro: 300, reservedMicro: 0 });
    now += 1_000;
    expect(store.stats()).toEqual({ keys: 0, reservations: 0 });
  });
});
