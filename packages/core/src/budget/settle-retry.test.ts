// A settle the store fails is retried in the background: a lost settle would leave the spend
// uncounted and the reservation holding room.
import { describe, expect, it, vi } from 'vitest';
import { createAiClient } from '../client.js';
import { fakeTts } from '../testing/fakes.js';
import { MemoryBudgetStore } from './memory-budget-store.js';

describe('settling a call', () => {
  it('retries a failed settle, so the spend still counts', async () => {
    const store = new MemoryBudgetStore();
    let failures = 2;
    const settle = store.settle.bind(store);
    store.settle = async (id, micro) => {
      if (failures-- > 0) throw new Error('store blip');
      return settle(id, micro);
    };
    const onBackgroundError = vi.fn();
    const a = fakeTts([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a }, budgetStore: store, events: { onBackgroundError } });
    const r = await client.tts.synthesize({ text: '가'.repeat(1000) });
    await client.close(); // waits for the background settle and its retries
    const day = `day:${new Date().toISOString().slice(0, 10)}`;
    expect(await store.usage(day)).toEqual({ spentMicro: Math.round(r.meta.costUsd * 1e6), reservedMicro: 0 });
    expect(onBackgroundError).not.toHaveBeenCalled();
  });
});
