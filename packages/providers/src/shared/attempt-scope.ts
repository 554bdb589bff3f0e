import { AiError, type AttemptContext } from '@korean-together/core';
import { MAX_TIMER_MS, safeProviderText } from '@korean-together/core/provider-kit';
import { redactSecrets } from './redact.js';

/** Why an attempt stopped early: its time ran out, or someone no longer wants the answer. */
export type AbortKind = 'timeout' | 'cancelled';

// The core's engine puts a reason with a `cause` on the signals it aborts; read it by shape
// so this package never depends on an internal class.
const TIMEOUT_CAUSES = new Set(['attempt_timeout', 'deadline', 'timeout']);
const CANCEL_CAUSES = new Set(['caller', 'hedge_lost', 'closing', 'cancelled']);

class AttemptTimeout extends Error {
  constructor() {
    super('attempt deadline passed');
    this.name = 'TimeoutError';
  }
}

/**
 * One attempt's lifetime as an adapter sees it: a signal that fires when the core aborts
 * the attempt (timeout, deadline, caller, lost hedge) or, as a safety net, when
 * `ctx.attemptDeadlineAt` passes even if the caller's context never fires. Adapters hand
 * `signal` to their client and turn an abort into the right AiError with `abortError`.
 */
export class AttemptScope {
  readonly startedAt: number;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onParentAbort: () => void;

  constructor(
    private readonly ctx: AttemptContext,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.onParentAbort = () => this.controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) this.onParentAbort();
    else ctx.signal.addEventListener('abort', this.onParentAbort, { once: true });
    if (!this.controller.signal.aborted) this.arm();
  }

  /**
   * The safety timer, for the time left now. When it fires it looks again: a streaming
   * attempt's deadline moves while its input arrives (the context reads it live), so it only
   * aborts once the deadline has really passed.
   */
  private arm(): void {
    this.timer = setTimeout(() => {
      if (this.msLeft() > 0) this.arm();
      else this.controller.abort(new AttemptTimeout());
    }, Math.min(this.msLeft(), MAX_TIMER_MS));
    this.timer.unref?.();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Epoch ms at which this attempt must end: the attempt deadline, never after the call deadline. */
  get endsAt(): number {
    const attemptAt = Number.isFinite(this.ctx.attemptDeadlineAt) ? this.ctx.attemptDeadlineAt : this.ctx.deadlineAt;
    return Math.min(attemptAt, this.ctx.deadlineAt);
  }

  /** Milliseconds left in this attempt (0 when it is over). */
  msLeft(): number {
    return Math.max(0, this.endsAt - this.now());
  }

  /** Why the signal fired; a time check decides when the reason carries no cause. */
  kind(): AbortKind {
    const reason: unknown = this.controller.signal.reason;
    if (reason && typeof reason === 'object') {
      const r = reason as { cause?: unknown; code?: unknown; name?: unknown };
      for (const v of [r.cause, r.code]) {
        if (typeof v === 'string' && TIMEOUT_CAUSES.has(v)) return 'timeout';
        if (typeof v === 'string' && CANCEL_CAUSES.has(v)) return 'cancelled';
      }
      if (r.name === 'TimeoutError') return 'timeout';
    }
    return this.msLeft() <= 0 ? 'timeout' : 'cancelled';
  }

  /** The AiError for an aborted attempt: `timeout` (retryable) or `cancelled` (not). */
  abortError(provider: string, what: string, cause?: unknown): AiError {
    const elapsed = Math.max(0, this.now() - this.startedAt);
    const kind = this.kind();
    const message =
      kind === 'timeout'
        ? `${provider}: ${what} timed out after ${elapsed} ms (attempt deadline reached)`
        : `${provider}: ${what} was cancelled after ${elapsed} ms (the attempt was aborted)`;
    return new AiError(kind, message, {
      provider,
      retryable: kind === 'timeout',
      ...(cause !== undefined && { cause: sanitisedCause(cause) }),
    });
  }

  /** Throws the abort error when the attempt is already over, before any network call. */
  throwIfAborted(provider: string, what: string): void {
    if (this.aborted) throw this.abortError(provider, what);
    if (this.msLeft() <= 0) {
      this.controller.abort(new AttemptTimeout());
      throw this.abortError(provider, what);
    }
  }

  /** Stops the safety timer and unlinks from the core's signal; call in `finally`. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.ctx.signal.removeEventListener('abort', this.onParentAbort);
  }
}

/**
 * A cause safe to attach to an AiError: the error's name, code and a truncated, redacted
 * message. The original object is dropped because client errors can hold request headers
 * (API keys) and bodies (learner audio or text).
 */
export function sanitisedCause(err: unknown, secrets: readonly (string | undefined)[] = []): Error | undefined {
  if (err === undefined || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined;
  const text = safeProviderText(redactSecrets(typeof e.message === 'string' ? e.message : '', secrets));
  const out = new Error([code && `(${code})`, text].filter(Boolean).join(' ') || name);
  out.name = name;
  return out;
}
