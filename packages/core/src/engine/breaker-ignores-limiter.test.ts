// The circuit breaker hears only about the provider: an attempt our own rate limiter refused
// never reached it, so it is no failure of the provider's.
import { describe, expect, it } from 'vitest';
import { createAiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import { fakeTts } from '../testing/fakes.js';

describe('the breaker and our own rate limiter', () => {
  it('a refusal by our own rate limiter does not open the provider breaker', async () => {
    const a = fakeTts([{ ok: true, afterMs: 200 }]);
    const policy = definePolicy({ capabilities: { tts: { rateLimit: { maxConcurrent: 1, maxWaitMs: 20 }, retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } } } });
    const client = createAiClient({ policy, providers: { a } });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => client.tts.synthesize({ text: '네' })));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(client.breakerStates()['tts:a']).toBe('closed');
    expect((await client.tts.synthesize({ text: '네' })).meta.providerKey).toBe('a');
  });
});
