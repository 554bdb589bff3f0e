import type { Clock } from './clock.js';
import { onAbort } from './shared-abort.js';

/** Why an attempt's signal fired. */
export type AbortCause = 'attempt_timeout' | 'deadline' | 'caller' | 'hedge_lost' | 'closing';

/** The reason object put on aborted signals, so the engine knows which limit fired. */
export class AbortReason extends Error {
  constructor(readonly abortCause: AbortCause, message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

export function abortCauseOf(signal: AbortSignal): AbortCause | undefined {
  const r = signal.reason;
  return r instanceof AbortReason ? r.abortCause : signal.aborted ? 'caller' : undefined;
}

/**
 * One call's deadline. Owns an AbortController that fires when the deadline passes or
 * the caller's signal aborts; attempts derive shorter-lived signals from it, so a
 * per-attempt timeout is always min(attemptTimeoutMs, time left) and timeouts never
 * multiply across retries or a fallback chain.
 */
export class Deadline {
  readonly at: number;
  private readonly controller = new AbortController();
  private readonly timer: unknown;
  private readonly detach: () => void;

  /**
   * @param callerSignal the caller's signal: aborts the call with cause 'caller'
   * @param closingSignal the client's: aborts the call with cause 'closing' when close() runs out of time
   */
  constructor(
    private readonly clock: Clock,
    deadlineMs: number,
    callerSignal?: AbortSignal,
    closingSignal?: AbortSignal,
  ) {
    this.at = clock.now() + deadlineMs;
    this.timer = clock.setTimeout(() => this.abort('deadline', `call deadline of ${deadlineMs} ms passed`), deadlineMs);
    // Many calls share these signals: one listener per signal, not per call (shared-abort.ts).
    const detachCaller = callerSignal ? onAbort(callerSignal, () => this.abort('caller', 'the caller aborted the call')) : undefined;
    const detachClosing = closingSignal ? onAbort(closingSignal, () => this.abort('closing', 'the client is closing')) : undefined;
    this.detach = () => {
      detachCaller?.();
      detachClosing?.();
    };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }

  abort(cause: AbortCause, message: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AbortReason(cause, message));
  }

  /** Stops the timer and the caller link; call when the call is over. */
  dispose(): void {
    this.clock.clearTimeout(this.timer);
    this.detach();
  }
}

/**
 * An AbortController that follows `parent` (aborts with the parent's reason) and can be
 * aborted on its own. `dispose()` unlinks it so finished attempts leave no listeners.
 */
export class ChildAbort {
  readonly controller = new AbortController();
  private readonly onParent: () => void;

  constructor(private readonly parent: AbortSignal) {
    this.onParent = () => this.controller.abort(parent.reason);
    if (parent.aborted) this.onParent();
    else parent.addEventListener('abort', this.onParent, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(cause: AbortCause, message: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AbortReason(cause, message));
  }

  dispose(): void {
    this.parent.removeEventListener('abort', this.onParent);
  }
}
