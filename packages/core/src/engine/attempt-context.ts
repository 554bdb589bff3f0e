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

/** A context for one attempt, with the capability's own fields (eval: pass mark and output cap). */
export function attemptContext(scope: AbortScope, attempt: number, deadlineAt: number, attemptDeadlineAt: number, fields: Partial<AttemptContext> | undefined): AttemptContext {
  const ctx = new LazySignalContext(scope, attempt, deadlineAt, attemptDeadlineAt) as AttemptContext;
  if (fields) Object.assign(ctx, fields);
  return ctx;
}
