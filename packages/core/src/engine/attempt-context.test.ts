import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import type { AttemptContext, SttProvider } from '../spec/types.js';
import { fakeStt } from '../testing/fakes.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-11-26T12:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe("the provider's AttemptContext", () => {
  it('hands its signal on through a wrapper that spreads the context, so a timeout still aborts the inner request', async () => {
    const inner = fakeStt([{ hang: true }]);
    const seen: AttemptContext[] = [];
    const wrapper: SttProvider = {
      capability: 'stt',
      name: 'wrapper',
      modelId: 'whisper-1',
      transcribe: (req, ctx) => {
        seen.push(ctx);
        return inner.transcribe(req, { ...ctx, attempt: ctx.attempt });
      },
    };
    const client = createAiClient({ policy: definePolicy({ capabilities: { stt: { attemptTimeoutMs: 500, retry: { maxAttempts: 1 } } } }), providers: { wrapper } });
    const p = client.stt.transcribe(sttReq).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    expect(await p).toMatchObject({ code: 'exhausted', attempts: [{ errorCode: 'timeout' }] });
    expect(inner.aborted).toBe(1);
    expect(inner.calls[0]!.signal.aborted).toBe(true);
    // One signal per attempt, the same on every read, listed like any other field.
    expect(seen[0]!.signal).toBe(seen[0]!.signal);
    expect(Object.keys(seen[0]!)).toEqual(['signal', 'attempt', 'deadlineAt', 'attemptDeadlineAt']);
    await client.close();
  });
});
