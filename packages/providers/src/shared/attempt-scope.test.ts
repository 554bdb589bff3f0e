import { describe, expect, it, vi } from 'vitest';
import { AttemptScope } from './attempt-scope.js';

function ctxWith(controller: AbortController, now: number, attemptLeftMs: number, deadlineLeftMs = attemptLeftMs) {
  return { signal: controller.signal, attempt: 1, deadlineAt: now + deadlineLeftMs, attemptDeadlineAt: now + attemptLeftMs };
}

describe('AttemptScope', () => {
  const now = 1_000_000;
  const clock = () => now;

  it('reads the engine abort cause: attempt timeout and deadline are timeouts (retryable)', () => {
    for (const cause of ['attempt_timeout', 'deadline']) {
      const c = new AbortController();
      const scope = new AttemptScope(ctxWith(c, now, 5000), clock);
      c.abort(Object.assign(new Error('x'), { name: 'AbortError', cause }));
      const e = scope.abortError('gemini', 'generateContent');
      expect([e.code, e.retryable]).toEqual(['timeout', true]);
      scope.dispose();
    }
  });

  it('reads caller aborts and lost hedges as cancelled (not retryable)', () => {
    for (const cause of ['caller', 'hedge_lost']) {
      const c = new AbortController();
      const scope = new AttemptScope(ctxWith(c, now, 5000), clock);
      c.abort(Object.assign(new Error('x'), { name: 'AbortError', cause }));
      const e = scope.abortError('gemini', 'generateContent');
      expect([e.code, e.retryable]).toEqual(['cancelled', false]);
      scope.dispose();
    }
  });

  it('decides by the clock when the reason says nothing', () => {
    const early = new AbortController();
    const s1 = new AttemptScope(ctxWith(early, now, 5000), clock);
    early.abort();
    expect(s1.kind()).toBe('cancelled');
    s1.dispose();

    const late = new AbortController();
    let t = now;
    const s2 = new AttemptScope(ctxWith(late, now, 100), () => t);
    t = now + 100;
    late.abort();
    expect(s2.kind()).toBe('timeout');
    s2.dispose();
  });

  it('never outlives the call deadline and refuses to start when no time is left', () => {
    const c = new AbortController();
    const scope = new AttemptScope(ctxWith(c, now, 5000, 200), clock);
    expect(scope.msLeft()).toBe(200);
    scope.dispose();
    const over = new AttemptScope(ctxWith(new AbortController(), now, 0), clock);
    expect(() => over.throwIfAborted('whisper', 'transcription')).toThrow(/timed out/);
    over.dispose();
  });

  it('a deadline that moves (a streaming context reads it live) moves the safety timer with it', () => {
    vi.useFakeTimers();
    try {
      const start = Date.now();
      let deadlineAt = start + 300;
      const ctx = {
        signal: new AbortController().signal,
        attempt: 1,
        get deadlineAt() {
          return deadlineAt;
        },
        get attemptDeadlineAt() {
          return deadlineAt;
        },
      };
      const scope = new AttemptScope(ctx);
      for (let i = 0; i < 6; i++) {
        vi.advanceTimersByTime(150);
        deadlineAt = Date.now() + 300; // a text piece arrived
      }
      expect(scope.aborted).toBe(false); // 900 ms in, three times the first deadline
      vi.advanceTimersByTime(299);
      expect(scope.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect([scope.aborted, scope.kind()]).toEqual([true, 'timeout']);
      scope.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows the core signal and stops following after dispose', () => {
    const c = new AbortController();
    const scope = new AttemptScope(ctxWith(c, now, 5000), clock);
    scope.dispose();
    c.abort();
    expect(scope.aborted).toBe(false);
  });
});
