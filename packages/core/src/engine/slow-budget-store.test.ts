// The budget store is outside every attempt but inside the call's deadline: a slow one ends the
// call at its deadline, and a reservation that lands after that is released, never left holding room.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient } from '../client.js';
import { fakeStt } from '../testing/fakes.js';

afterEach(() => vi.useRealTimers());

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('a slow budget store', () => {
  it('a slow budget store cannot stretch the deadline; a reservation that lands late is released', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryBudgetStore();
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => {
      await new Promise((done) => setTimeout(done, 5_000));
      return reserve(r);
    };
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a }, budgetStore: store });
    const t0 = Date.now();
    let endedAt = 0;
    const p = failure(client.stt.transcribe(sttReq, { deadlineMs: 1_000 }).finally(() => (endedAt = Date.now())));
    await vi.advanceTimersByTimeAsync(6_000);
    const e = await p;
    expect(e.code).toBe('timeout');
    expect(endedAt - t0).toBe(1_000);
    expect(a.calls).toHaveLength(0);
    const day = `day:${new Date(t0).toISOString().slice(0, 10)}`;
    expect((await store.usage(day)).reservedMicro).toBe(0);
  });
});
