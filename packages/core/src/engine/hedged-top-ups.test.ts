// Each retry tops up the call's reservation under its own id: two hedged lanes retrying at once
// must not settle or release each other's top-up.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import { fakeStt, unavailable } from '../testing/fakes.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('top-up reservations of hedged lanes', () => {
  it('hedged lanes that both retry never share a top-up reservation', async () => {
    const store = new MemoryBudgetStore();
    const ids: string[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => {
      ids.push(r.id);
      await new Promise((done) => setTimeout(done, 5));
      return reserve(r);
    };
    const a = fakeStt([{ error: unavailable(), afterMs: 30 }], { name: 'a' });
    const b = fakeStt([{ error: unavailable(), afterMs: 30 }], { name: 'b' });
    const policy = definePolicy({
      budget: { perDayUsd: 1 },
      capabilities: { stt: { chain: ['a', 'b'], hedgeAfterMs: 10, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 } } },
    });
    const client = createAiClient({ policy, providers: { a, b }, budgetStore: store });
    const e = await failure(client.stt.transcribe(sttReq));
    expect(e.code).toBe('exhausted');
    expect(new Set(ids).size).toBe(ids.length);
    // 6 attempts: the first two are covered by the hedged reservation, each other one tops up
    expect(e.attempts).toHaveLength(6);
    expect(ids).toHaveLength(1 + 4);
  });
});
