import { describe, expect, it } from 'vitest';
import { defaultPolicy, definePolicy } from '../policy/ai-policy.js';

describe('stream policy fields', () => {
  it('defaults: firstResultTimeoutMs 3000 ms (stt), firstAudioTimeoutMs 2000 ms (tts)', () => {
    expect(defaultPolicy.capabilities.stt.firstResultTimeoutMs).toBe(3_000);
    expect(defaultPolicy.capabilities.tts.firstAudioTimeoutMs).toBe(2_000);
  });

  it('refuses bad values naming the field', () => {
    expect(() => definePolicy({ capabilities: { stt: { firstResultTimeoutMs: 0 } } })).toThrow(/capabilities\.stt\.firstResultTimeoutMs: must be > 0/);
    expect(() => definePolicy({ capabilities: { tts: { firstAudioTimeoutMs: 1.5 } } })).toThrow(/capabilities\.tts\.firstAudioTimeoutMs: must be an integer/);
    // Each field belongs to its own capability.
    expect(() => definePolicy({ capabilities: { eval: { firstAudioTimeoutMs: 100 } } })).toThrow(/unknown key\(s\) 'firstAudioTimeoutMs'/);
  });
});
