// A hedged chain that lists one provider key twice runs two attempts on it at once: two bills.
// The first reservation covers both steps' worst cases, whatever their keys.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import { fakeTts } from '../testing/fakes.js';

const req = { text: '안녕하세요. '.repeat(200) };

/** The amount of the first reservation a call with `hedgeAfterMs` asks for, on chain ['a', 'a']. */
async function firstReservation(hedgeAfterMs: number | undefined): Promise<number> {
  const store = new MemoryBudgetStore();
  const amounts: number[] = [];
  const reserve = store.reserve.bind(store);
  store.reserve = (r) => {
    amounts.push(r.amountMicro);
    return reserve(r);
  };
  const a = fakeTts([{ ok: true }]);
  const policy = definePolicy({ budget: { perDayUsd: 100 }, capabilities: { tts: { chain: ['a', 'a'], hedgeAfterMs } } });
  const client = createAiClient({ policy, providers: { a }, budgetStore: store });
  await client.tts.synthesize(req);
  await client.close();
  return amounts[0]!;
}

describe('hedging on a chain that lists one key twice', () => {
  it('reserves the worst case of both parallel steps, and a cap between one and two refuses before any call', async () => {
    const one = await firstReservation(undefined);
    expect(one).toBeGreaterThan(0);
    expect(await firstReservation(10)).toBe(2 * one);

    const a = fakeTts([{ ok: true, afterMs: 50 }]);
    const capUsd = (1.5 * one) / 1e6;
    const policy = definePolicy({ budget: { perDayUsd: capUsd }, capabilities: { tts: { chain: ['a', 'a'], hedgeAfterMs: 10 } } });
    const client = createAiClient({ policy, providers: { a }, budgetStore: new MemoryBudgetStore() });
    const e = await failure(client.tts.synthesize(req));
    expect(e.code).toBe('budget_exceeded');
    expect(a.calls).toHaveLength(0);
    await client.close();
  });
});
