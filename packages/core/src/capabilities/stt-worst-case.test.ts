// The budget reserves what an STT attempt can bill: a compressed file by the length measured
// from its frames, a container that states no length by its size at 6 kbit/s.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mp3OfMs } from '../../test/support/cbr-mp3.js';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient } from '../client.js';
import { fakeStt } from '../testing/fakes.js';

describe('the STT worst case the budget reserves', () => {
  it('reserves a compressed file by its measured length, and containers that do not say by their size at 6 kbit/s', async () => {
    const store = new MemoryBudgetStore();
    const amounts: number[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (r) => (amounts.push(r.amountMicro), reserve(r));
    const a = fakeStt([{ ok: true }], { modelId: 'whisper-1' });
    const client = createAiClient({ policy: { budget: { perDayUsd: 100 } }, providers: { a }, budgetStore: store });
    await client.stt.transcribe({ audio: mp3OfMs(20_000), encoding: 'MP3' });
    const webm = new Uint8Array(readFileSync(new URL('../../test/fixtures/audio/tone.webm', import.meta.url)));
    await client.stt.transcribe({ audio: webm, encoding: 'WEBM_OPUS' });
    // whisper-1: 100 micro-dollars per second; 20.016 s bills 21 s; WebM states no length: its bytes at 750 B/s
    expect(amounts).toEqual([2_100, Math.ceil(webm.length / 750) * 100]);
  });
});
