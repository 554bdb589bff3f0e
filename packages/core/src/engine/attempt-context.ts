import type { AttemptContext } from '../spec/types.js';
import type { AbortScope } from './abort-scope.js';

let SIGNAL: PropertyDescriptor;

/**
 * The AttemptContext a provider gets. Its `signal` is the attempt scope's, made on first read;
 * it is an own enumerable accessor, so a wrapper that spreads the context (`{ ...ctx, x }`)
 * still hands the signal on. A class rather than an object literal with a getter: V8 moves
 * such literals to the old generation, where a call's garbage costs far more to collect.
 */
export class LazySignalContext {
  declare readonly signal: AbortSignal;
  declare readonly attempt: number;
  declare readonly deadlineAt: number;
  declare readonly attemptDeadlineAt: number;
  #scope: AbortScope;

  constructor(scope: AbortScope, attempt: number, deadlineAt: number, attemptDeadlineAt: number) {
    this.#scope = scope;
    Object.defineProperty(this, 'signal', SIGNAL);
    (this as { attempt: number }).attempt = attempt;
    (this as { deadlineAt: number }).deadlineAt = deadlineAt;
    (this as { attemptDeadlineAt: number }).attemptDeadlineAt = attemptDeadlineAt;
  }

  static {
    SIGNAL = {
      get(this: LazySignalContext): AbortSignal {
        return this.#scope.signal;
      },
      enumerable: true,
    };
  }
}

let LIVE: { signal: PropertyDescriptor; deadlineAt: PropertyDescriptor; attemptDeadlineAt: PropertyDescriptor };

/** What a live context reads its deadline from: a streaming call's state, whose deadline moves. */
export interface DeadlineSource {
  readonly deadlineAt: number;
}

/**
 * A streaming attempt's context: `deadlineAt` and `attemptDeadlineAt` read the call's deadline
 * now, not when the attempt started, because a stream's deadline moves while its input arrives
 * (a TTS stream's runs from the latest text piece). Own enumerable accessors like `signal`, so
 * a spread (`{ ...ctx }`) is a snapshot of the bounds at that moment. A class of its own rather
 * than a subclass, so the one-shot LazySignalContext (whose deadline never moves) keeps its
 * plain fields and its constructor sees one shape.
 */
export class LiveDeadlineContext {
  declare readonly signal: AbortSignal;
  declare readonly attempt: number;
  declare readonly deadlineAt: number;
  declare readonly attemptDeadlineAt: number;
  #scope: AbortScope;
  #source: DeadlineSource;
  #attemptAt: number;

  constructor(scope: AbortScope, attempt: number, source: DeadlineSource, attemptDeadlineAt: number) {
    this.#scope = scope;
    this.#source = source;
    this.#attemptAt = attemptDeadlineAt;
    Object.defineProperty(this, 'signal', LIVE.signal);
    (this as { attempt: number }).attempt = attempt;
    Object.defineProperty(this, 'deadlineAt', LIVE.deadlineAt);
    Object.defineProperty(this, 'attemptDeadlineAt', LIVE.attemptDeadlineAt);
  }

  static {
    LIVE = {
      signal: {
        get(this: LiveDeadlineContext): AbortSignal {
          return this.#scope.signal;
        },
        enumerable: true,
      },
      deadlineAt: {
        get(this: LiveDeadlineContext): number {
          return this.#source.deadlineAt;
        },
        enumerable: true,
      },
      attemptDeadlineAt: {
        get(this: LiveDeadlineContext): number {
          return Math.min(this.#attemptAt, this.#source.deadlineAt);
        },
        enumerable: true,
      },
    };
  }
}

/**
 * A streaming attempt's context: its deadline follows `source` (the call), its attempt deadline
 * is `attemptDeadlineAt` (Infinity: none of its own) but never after the call's.
 */
export function liveAttemptContext(scope: AbortScope, attempt: number, source: DeadlineSource, attemptDeadlineAt: number, fields: Partial<AttemptContext> | undefined): AttemptContext {
  const ctx = new LiveDeadlineContext(scope, attempt, source, attemptDeadlineAt) as AttemptContext;
  if (fields) Object.assign(ctx, fields);
  return ctx;
}

/** A context for one attempt, with the capability's own fields (eval: pass mark and output cap). */
export function attemptContext(scope: AbortScope, attempt: number, deadlineAt: number, attemptDeadlineAt: number, fields: Partial<AttemptContext> | undefined): AttemptContext {
  const ctx = new LazySignalContext(scope, attempt, deadlineAt, attemptDeadlineAt) as AttemptContext;
  if (fields) Object.assign(ctx, fields);
  return ctx;
}
