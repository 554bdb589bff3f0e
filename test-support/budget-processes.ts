// The test's side of the budget stores' multi-process tests (Redis in core, Postgres in
// usage-log): real processes, each with its own store client, spend one cap or reserve and die.
// The child is test-support/fixtures/budget-child.ts.
import { vi } from 'vitest';
import { startChild, startTogether, resultsOf } from './child-protocol.js';

/** Which store a child opens: the Redis store (core) or the Postgres store (usage-log). */
export type BudgetStoreTarget = { kind: 'redis'; url: string; prefix: string } | { kind: 'postgres'; databaseUrl: string; schema: string };

/** What one spending child does: real TTS calls billed per character until the budget stops it. */
export interface SpendArgs {
  perDayUsd: number;
  perSessionUsd?: number;
  sessionId: string;
  /** Text lengths (characters) to cycle through; Wavenet bills 4 micro-dollars per character. */
  lengths: number[];
  /** Stops after this many refusals in a row. */
  refusalsToStop: number;
}

export interface SpendResult {
  spentMicro: number;
  ok: number;
  refused: number;
  otherErrors: string[];
}

/** One reservation a child makes before it is killed. */
export interface HangingReservation {
  id: string;
  amountMicro: number;
  key: string;
  capMicro: number;
  reservationTtlMs: number;
}

export type BudgetChildArgs = { store: BudgetStoreTarget } & ({ mode: 'spend'; spend: SpendArgs } | { mode: 'reserve-and-hang'; reservation: HangingReservation });

const fixture = new URL('./fixtures/budget-child.ts', import.meta.url);

/** Starts `n` spending children on `store`, releases them together, and returns what each reports. */
export async function spendTogether(store: BudgetStoreTarget, n: number, spendFor: (i: number) => SpendArgs): Promise<SpendResult[]> {
  const children = await startTogether(n, fixture, (i): BudgetChildArgs => ({ store, mode: 'spend', spend: spendFor(i) }));
  return resultsOf<SpendResult>(children);
}

/**
 * A child reserves `reservation` on `store` and is SIGKILLed right after, before it can settle
 * or release: what a crashed server process leaves behind. Resolves with whether the
 * reservation was granted and when (epoch ms), once the child is gone.
 */
export async function reserveAndDie(store: BudgetStoreTarget, reservation: HangingReservation): Promise<{ ok: boolean; at: number }> {
  const child = startChild(fixture, { store, mode: 'reserve-and-hang', reservation } satisfies BudgetChildArgs);
  try {
    const reserved = await child.waitFor('reserved');
    return { ok: reserved.ok as boolean, at: reserved.at as number };
  } finally {
    child.kill('SIGKILL');
    await child.exited;
  }
}

/**
 * Asks `request` (with a new reservation id each time, every 100 ms) until it is granted or
 * `timeoutMs` passes; resolves whether it was granted.
 */
export async function untilGranted(request: (id: string) => Promise<{ ok: boolean }>, timeoutMs: number): Promise<boolean> {
  let tries = 0;
  return vi
    .waitFor(
      async () => {
        if (!(await request(`retry-${tries++}`)).ok) throw new Error('still refused');
      },
      { timeout: timeoutMs, interval: 100 },
    )
    .then(
      () => true,
      () => false,
    );
}
