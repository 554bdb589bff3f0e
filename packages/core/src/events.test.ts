import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAiClient } from './client.js';
import { isAiError } from './errors/ai-error.js';
import { emit, type AiClientEvents } from './events.js';
import { definePolicy } from './policy/ai-policy.js';
import { ArraySink, fakeStt, unavailable } from './testing/fakes.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('emit', () => {
  it('calls the handler with the event, and ignores one that throws or rejects', async () => {
    const seen: unknown[] = [];
    emit({ onReset: (e) => void seen.push(e) }, 'onReset', { key: 'k' });
    expect(seen).toEqual([{ key: 'k' }]);
    expect(() => emit({ onReset: () => { throw new Error('handler bug'); } }, 'onReset', { key: 'k' })).not.toThrow();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const asyncHandler: AiClientEvents = { onReset: (async () => { throw new Error('async handler bug'); }) as unknown as AiClientEvents['onReset'] };
      emit(asyncHandler, 'onReset', { key: 'k' });
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(() => emit({}, 'onReset', { key: 'k' })).not.toThrow();
  });
});

describe('event handlers never change a call', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(new Date('2026-11-26T12:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('a throwing breaker handler (onBreak, onHalfOpen, onReset) leaves the fallback and the breaker as they would be', async () => {
    const throwing = () => {
      throw new Error('handler bug');
    };
    const a = fakeStt([{ error: unavailable() }, { error: unavailable() }, { ok: true }], { name: 'a' });
    const b = fakeStt([{ ok: true }], { name: 'b' });
    const sink = new ArraySink();
    const client = createAiClient({
      policy: definePolicy({ capabilities: { stt: { chain: ['a', 'b'], retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 1_000 } } } }),
      providers: { a, b },
      sinks: [sink],
      events: { onBreak: throwing, onHalfOpen: throwing, onReset: throwing, onAttempt: throwing, onFallback: throwing },
    });
    // a fails and opens its breaker (onBreak throws): the call still falls back to b.
    const first = await client.stt.transcribe(sttReq);
    expect(first.meta.attempts.map((x) => [x.providerKey, x.outcome, x.errorCode])).toEqual([
      ['a', 'error', 'unavailable'],
      ['b', 'success', undefined],
    ]);
    expect(client.breakerStates()['stt:a']).toBe('open');
    // After the cooldown a probe (onHalfOpen throws) fails again; then another probe succeeds (onReset throws).
    vi.advanceTimersByTime(1_000);
    const second = await client.stt.transcribe(sttReq);
    expect(second.meta.attempts.map((x) => [x.providerKey, x.outcome])).toEqual([
      ['a', 'error'],
      ['b', 'success'],
    ]);
    vi.advanceTimersByTime(1_000);
    const third = await client.stt.transcribe(sttReq);
    expect(third.meta.providerKey).toBe('a');
    expect(client.breakerStates()['stt:a']).toBe('closed');
    expect(sink.records).toHaveLength(5);
    await client.close();
  });

  it('a rejecting async handler leaves no unhandled rejection and the call its answer', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = createAiClient({
        providers: { a: fakeStt([{ ok: true }]) },
        events: { onAttempt: (async () => { throw new Error('async handler bug'); }) as unknown as AiClientEvents['onAttempt'] },
      });
      const res = await client.stt.transcribe(sttReq);
      expect(res.transcript).toBe('안녕하세요');
      await client.close();
      vi.useRealTimers();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.filter((e) => !isAiError(e))).toEqual([]);
  });
});
