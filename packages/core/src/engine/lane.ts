import type { Clock } from '../policy/clock.js';
import { AbortReason, type AbortCause } from '../policy/abort-reason.js';
import { AbortScope } from './abort-scope.js';

/** Why an aborted lane stops the whole walk (not a lost hedge). */
const FATAL: ReadonlySet<AbortCause> = new Set(['caller', 'deadline', 'closing']);

/**
 * One lane of a call: the chain steps run one after another on it, or, when hedging, each step
 * on its own. Aborting a lane (deadline, caller, closing, a lost hedge) is final and reaches
 * whatever the lane runs right now: the scope of its attempt or its wait.
 */
export class Lane {
  reason: AbortReason | undefined;
  private scope: AbortScope | undefined;

  constructor(private readonly clock: Clock) {}

  get cause(): AbortCause | undefined {
    return this.reason?.abortCause;
  }

  /** True when the lane was aborted by something that ends the call (not a lost hedge). */
  get fatal(): boolean {
    return this.reason !== undefined && FATAL.has(this.reason.abortCause);
  }

  abort(reason: AbortReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.scope?.abort(reason);
  }

  /** A scope for the lane's next attempt or wait; already aborted when the lane is. */
  open(): AbortScope {
    const scope = new AbortScope(this.clock);
    if (this.reason !== undefined) scope.abort(this.reason);
    this.scope = scope;
    return scope;
  }

  close(scope: AbortScope): void {
    if (this.scope === scope) this.scope = undefined;
  }

  /** A lane that follows `signal` (a hedged step's: walkChain aborts it when the step loses). Call the returned function when the step is over. */
  static following(signal: AbortSignal, clock: Clock): { lane: Lane; detach: () => void } {
    const lane = new Lane(clock);
    const onAbort = (): void => lane.abort(asAbortReason(signal.reason));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return { lane, detach: () => signal.removeEventListener('abort', onAbort) };
  }
}

/** The engine's reasons are AbortReasons; anything else a signal carries counts as the caller's. */
export function asAbortReason(reason: unknown): AbortReason {
  return reason instanceof AbortReason ? reason : new AbortReason('caller', 'the caller aborted the call');
}
