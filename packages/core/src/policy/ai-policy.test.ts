import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAiError } from '../errors/ai-error.js';
import { defaultPolicy, definePolicy, loadPolicy } from './ai-policy.js';

function errorOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isAiError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('definePolicy', () => {
  it('fills every default', () => {
    const p = definePolicy({});
    expect(p.capabilities.stt).toMatchObject({ chain: [], deadlineMs: 15_000, attemptTimeoutMs: 8_000, retry: { maxAttempts: 2, initialDelayMs: 200, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 }, circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 } });
    expect(p.capabilities.eval).toMatchObject({ passMark: 70, maxOutputTokens: 1_024, deadlineMs: 20_000 });
    expect(p.capabilities.tts.maxTextBytes).toBe(20_000);
    expect(p.budget).toEqual({});
    expect(p).toEqual(defaultPolicy);
    expect(Object.isFrozen(p.capabilities.stt.retry)).toBe(true);
  });

  it('keeps given values and merges nested defaults', () => {
    const p = definePolicy({ capabilities: { eval: { chain: ['flash', 'pro'], retry: { maxAttempts: 3 }, hedgeAfterMs: 2_000 } }, budget: { perDayUsd: 50 } });
    expect(p.capabilities.eval.chain).toEqual(['flash', 'pro']);
    expect(p.capabilities.eval.retry).toEqual({ maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 });
    expect(p.capabilities.eval.hedgeAfterMs).toBe(2_000);
    expect(p.budget.perDayUsd).toBe(50);
  });

  it('names every bad path in one invalid_config error', () => {
    const e = errorOf(() =>
      definePolicy({ capabilities: { stt: { attemptTimeoutMs: 0, retry: { maxAttempts: 0 } }, eval: { passMark: 101 } }, budget: { perDayUsd: -1 } }),
    );
    expect(e.code).toBe('invalid_config');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('capabilities.stt.attemptTimeoutMs: must be > 0');
    expect(e.message).toContain('capabilities.stt.retry.maxAttempts: must be >= 1');
    expect(e.message).toContain('capabilities.eval.passMark: must be <= 100');
    expect(e.message).toContain('budget.perDayUsd: must be > 0');
  });

  it('rejects unknown keys and an attempt timeout longer than the deadline', () => {
    expect(errorOf(() => definePolicy({ capabilities: { stt: { timeoutMs: 5 } } })).message).toMatch(/capabilities\.stt: unknown key\(s\) 'timeoutMs'/);
    expect(errorOf(() => definePolicy({ capabilites: {} })).message).toMatch(/unknown key\(s\) 'capabilites'/);
    expect(errorOf(() => definePolicy({ capabilities: { tts: { deadlineMs: 1_000, attemptTimeoutMs: 2_000 } } })).message).toContain(
      'capabilities.tts.attemptTimeoutMs: must be <= deadlineMs',
    );
    expect(errorOf(() => definePolicy({ capabilities: { stt: { deadlineMs: '5s' } } })).message).toContain('capabilities.stt.deadlineMs: must be a number of milliseconds');
  });
});

describe('loadPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-policy-'));

  it('reads and validates a JSON file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ capabilities: { stt: { chain: ['google', 'whisper'] } } }));
    expect(loadPolicy(file).capabilities.stt.chain).toEqual(['google', 'whisper']);
  });

  it('names the file in every error', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "capabilities": ');
    expect(errorOf(() => loadPolicy(bad)).message).toMatch(/bad\.json is not valid JSON/);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ budget: { perSessionUsd: 0 } }));
    const e = errorOf(() => loadPolicy(invalid));
    expect(e.code).toBe('invalid_config');
    expect(e.message).toMatch(/invalid\.json: invalid AI policy: budget\.perSessionUsd: must be > 0/);
    expect(errorOf(() => loadPolicy(join(dir, 'missing.json'))).message).toMatch(/cannot read AI policy file .*missing\.json: ENOENT/);
  });
});
