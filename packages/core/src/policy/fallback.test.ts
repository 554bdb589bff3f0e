import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from './clock.js';
import { walkChain, type Step } from './fallback.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const after = <T>(ms: number, outcome: T, signal: AbortSignal) =>
  new Promise<T>((resolve) => {
    const t = setTimeout(() => resolve(outcome), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve({ ok: false, error: signal.reason } as T);
    });
  });

describe('walkChain', () => {
  it('tries steps in order until one succeeds', async () => {
    const seen: number[] = [];
    const step: Step<string> = async (_s, i) => {
      seen.push(i);
      return i === 2 ? { ok: true, value: `v${i}` } : { ok: false, error: `e${i}` };
    };
    const r = await walkChain([step, step, step, step], { signal: new AbortController().signal, clock: systemClock });
    expect(r).toEqual({ ok: true, value: 'v2', index: 2 });
    expect(seen).toEqual([0, 1, 2]);
  });

  it('stops at a fatal failure', async () => {
    const step: Step<string> = async (_s, i) => ({ ok: false, error: `e${i}`, fatal: i === 0 });
    const r = await walkChain([step, step], { signal: new AbortController().signal, clock: systemClock });
    expect(r).toEqual({ ok: false, errors: ['e0'] });
  });

  it('hedges: the second step starts after hedgeAfterMs and the slower one is aborted and awaited', async () => {
    const aborted: number[] = [];
    const step: Step<string> = (signal, i) => {
      signal.addEventListener('abort', () => aborted.push(i));
      return after(i === 0 ? 1_000 : 100, { ok: true, value: `v${i}` }, signal);
    };
    const p = walkChain([step, step, step], { signal: new AbortController().signal, clock: systemClock, hedgeAfterMs: 200 });
    await vi.advanceTimersByTimeAsync(300);
    expect(await p).toEqual({ ok: true, value: 'v1', index: 1 });
    expect(aborted).toEqual([0]);
  });

  it('with hedging, keeps going after both in-flight steps fail', async () => {
    const step: Step<string> = (signal, i) => after(i < 2 ? 500 : 10, i < 2 ? { ok: false, error: `e${i}` } : { ok: true, value: 'v2' }, signal);
    const p = walkChain([step, step, step], { signal: new AbortController().signal, clock: systemClock, hedgeAfterMs: 100 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await p).toEqual({ ok: true, value: 'v2', index: 2 });
  });
});
