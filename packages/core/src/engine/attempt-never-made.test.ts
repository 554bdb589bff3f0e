// One usage row per real attempt: an attempt whose lane is aborted before the provider is called
// (here: the caller aborts while it waits for a rate-limit slot) is no attempt. It is not
// numbered, not counted against the reservations, and writes no row and no onAttempt event.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import type { Limiter } from '../policy/rate-limit.js';
import type { AttemptInfo } from '../spec/types.js';
import { ArraySink, fakeTts } from '../testing/fakes.js';

afterEach(() => vi.useRealTimers());

describe('an attempt that never reached the provider', () => {
  it('a caller abort during the slot wait writes no usage row and no onAttempt event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const a = fakeTts([{ ok: true, afterMs: 200 }]);
    const sink = new ArraySink();
    const events: AttemptInfo[] = [];
    const policy = definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 1, maxWaitMs: 1_000 } } } });
    const client = createAiClient({ policy, providers: { a }, sinks: [sink], events: { onAttempt: (e) => events.push(e) } });
    const first = client.tts.synthesize({ text: '하나' });
    const caller = new AbortController();
    const second = failure(client.tts.synthesize({ text: '둘' }, { signal: caller.signal }));
    await vi.advanceTimersByTimeAsync(50);
    caller.abort();
    const e = await second;
    await vi.advanceTimersByTimeAsync(500);
    await first;
    await client.close();
    expect(e.code).toBe('cancelled');
    expect(e.attempts).toHaveLength(0);
    expect(a.calls).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]!.success).toBe(true);
  });

  it('an attempt whose time runs out while it waits for a slot is our limiter\'s refusal, not a provider timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // A shared limit whose slots another process holds: the wait ends only when the attempt's time does.
    const full: Limiter = {
      acquire: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      counts: () => ({ queued: 0, running: 1 }),
    };
    const a = fakeTts([{ ok: true }]);
    const sink = new ArraySink();
    const policy = definePolicy({ capabilities: { tts: { attemptTimeoutMs: 100, retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 }, rateLimit: { maxConcurrent: 1, shared: {} } } } });
    const client = createAiClient({ policy, providers: { a }, sinks: [sink], sharedRateLimits: { limiterFor: () => full, close: async () => {} } });
    const p = failure(client.tts.synthesize({ text: '둘' }));
    await vi.advanceTimersByTimeAsync(1_000);
    const e = await p;
    expect(e.attempts?.map((x) => x.errorCode)).toEqual(['rate_limited']);
    expect(sink.records.map((r) => r.errorCode)).toEqual(['rate_limited']);
    expect(a.calls).toHaveLength(0);
    // Our own limiter's refusal says nothing about the provider: its breaker stays closed.
    expect(client.breakerStates()['tts:a']).toBe('closed');
    await client.close();
  });
});
