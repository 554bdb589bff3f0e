// The engine's events and the one guarded `emit` every part of it fires them through (the
// call path, the circuit breakers, the sink fan-out, close()). The engine logs nothing itself.
import type { AttemptInfo, Capability } from './spec/types.js';

/** Events the engine emits instead of logging. A handler that throws (or rejects) is ignored: it never changes a call or `close()`. */
export interface AiClientEvents {
  /** After every attempt (and every breaker-skipped step). */
  onAttempt?(e: AttemptInfo & { capability: Capability; callId: string }): void;
  /** Before sleeping for a retry of the same provider. */
  onRetry?(e: { capability: Capability; callId: string; providerKey: string; attempt: number; delayMs: number; errorCode: string }): void;
  /** When the chain moves on to step `index`. */
  onFallback?(e: { capability: Capability; callId: string; providerKey: string; index: number; errorCode: string | undefined }): void;
  /** When a hedge starts the next step beside a slow one. */
  onHedge?(e: { capability: Capability; callId: string; providerKey: string; index: number }): void;
  onBreak?(e: { key: string; failures: number; cooldownMs: number }): void;
  onHalfOpen?(e: { key: string }): void;
  onReset?(e: { key: string }): void;
  /** A call refused by a budget cap before any provider call. */
  onBudgetRefused?(e: { capability: Capability; callId: string; message: string }): void;
  /**
   * A cache store failed or ran past its timeout (`cache.storeTimeoutMs`): the call went on
   * without it (a `get` counts as a miss, a `set` stores nothing). The third failure in a row
   * leaves the store alone for `pausedMs` (5000; 0 on the others). Never fired for a plain miss.
   */
  onCacheError?(e: { capability: 'tts' | 'eval'; operation: 'get' | 'set'; error: unknown; timedOut: boolean; pausedMs: number }): void;
  /**
   * Something failed or ran late in the background (the call itself was not affected): a budget
   * settlement, a sink, a limiter's or provider's close(), or `close()` running out of
   * `closeTimeoutMs` (`where: 'close'`, with what was still `pending`).
   */
  onBackgroundError?(e: BackgroundErrorEvent): void;
}

/** What `close()` was still waiting for when its time ran out. */
export type ClosePending =
  | { stage: 'calls'; /** calls still in flight */ count: number }
  | { stage: 'budget_settle'; /** settlements not finished */ count: number }
  | { stage: 'sink_flush' | 'sink_close'; /** index in `sinks` */ sink: number }
  | { stage: 'limiter_close'; /** 'capability:providerKey' */ key: string }
  | { stage: 'provider_close'; /** provider key */ key: string };

export interface BackgroundErrorEvent {
  where: 'budget_settle' | 'sink' | 'limiter_close' | 'provider_close' | 'close';
  /** An AiError from the SDK (code 'timeout' for `close`), or what the store, sink or provider threw. */
  error: unknown;
  /** `where: 'close'` only: what had not finished in time (calls listed here were cancelled). */
  pending?: ClosePending[];
}

type EventArg<K extends keyof AiClientEvents> = Parameters<NonNullable<AiClientEvents[K]>>[0];

const ignore = (): void => {};

/**
 * Calls the `name` handler, if there is one, with `arg`. A handler that throws is ignored, and
 * so is one that returns a rejected promise (an async handler): an event never fails the code
 * that fires it, nor leaves an unhandled rejection behind. Callers that would build a costly
 * argument check `events[name]` first; the call itself is always this one.
 */
export function emit<K extends keyof AiClientEvents>(events: AiClientEvents, name: K, arg: EventArg<K>): void {
  const fn = events[name] as ((a: EventArg<K>) => unknown) | undefined;
  if (fn === undefined) return;
  try {
    const out = fn.call(events, arg);
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') (out as PromiseLike<unknown>).then(undefined, ignore);
  } catch {
    // An event handler must never break a call, a breaker or close().
  }
}
