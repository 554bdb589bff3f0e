// One usage row per real attempt: an attempt whose lane is aborted before the provider is called
// (here: the caller aborts while it waits for a rate-limit slot) is no attempt. It is not
// numbered, not counted against the reservations, and writes no row and no onAttempt event.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
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
});
