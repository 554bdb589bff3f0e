import type { Clock } from './clock.js';
import { AbortReason, type AbortCause } from './abort-reason.js';

/**
 * An AbortController that follows `parent` (aborts with the parent's reason) and can be
 * aborted on its own: one hedged lane. `dispose()` unlinks it so finished lanes leave no listeners.
 */
class ChildAbort {
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

/** What one chain step (a provider with its retries) ends with. Steps never throw. */
export type StepOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown; /** stop the walk (caller abort, deadline, budget) */ fatal?: boolean };

/** Runs one chain step under `signal`; `index` is its position in the chain. */
export type Step<T> = (signal: AbortSignal, index: number) => Promise<StepOutcome<T>>;

export interface WalkOptions {
  /** The call's signal (deadline + caller abort). */
  signal: AbortSignal;
  clock: Clock;
  /** Start the next step too when the running one has not answered after this many ms. */
  hedgeAfterMs?: number;
  /** Called when a hedge starts step `index` beside a slow one. */
  onHedge?(index: number): void;
  /** Called before each step after the first, when the previous failed. */
  onFallback?(index: number, error: unknown): void;
}

export type WalkResult<T> = { ok: true; value: T; index: number } | { ok: false; errors: unknown[] };

/**
 * Walks a fallback chain in order: a failed step hands over to the next one. With
 * `hedgeAfterMs`, a step that has not answered in time gets the next step raced beside it
 * (at most two in flight); the first success wins and the other is aborted with cause
 * 'hedge_lost' and awaited, so its attempt is recorded before the call returns.
 */
export async function walkChain<T>(steps: Step<T>[], options: WalkOptions): Promise<WalkResult<T>> {
  const errors: unknown[] = [];
  let next = 0;
  type Lane = { index: number; abort: ChildAbort; done: Promise<{ lane: Lane; outcome: StepOutcome<T> }> };
  const lanes = new Set<Lane>();

  const start = (index: number): void => {
    const abort = new ChildAbort(options.signal);
    const lane = { index, abort } as Lane;
    lane.done = steps[index]!(abort.signal, index).then(
      (outcome) => ({ lane, outcome }),
      (error: unknown) => ({ lane, outcome: { ok: false, error } as StepOutcome<T> }),
    );
    lanes.add(lane);
  };

  const finishLosers = async (): Promise<void> => {
    for (const l of lanes) l.abort.abort('hedge_lost', 'another provider answered first');
    await Promise.all([...lanes].map((l) => l.done));
    for (const l of lanes) l.abort.dispose();
    lanes.clear();
  };

  while (true) {
    if (lanes.size === 0) {
      if (next >= steps.length || options.signal.aborted) return { ok: false, errors };
      if (next > 0) options.onFallback?.(next, errors[errors.length - 1]);
      start(next++);
    }
    const waits: Promise<{ lane: Lane; outcome: StepOutcome<T> } | 'hedge'>[] = [...lanes].map((l) => l.done);
    let hedgeTimer: unknown;
    if (options.hedgeAfterMs !== undefined && lanes.size === 1 && next < steps.length) {
      waits.push(new Promise((resolve) => (hedgeTimer = options.clock.setTimeout(() => resolve('hedge'), options.hedgeAfterMs!))));
    }
    const first = await Promise.race(waits);
    if (hedgeTimer !== undefined) options.clock.clearTimeout(hedgeTimer);
    if (first === 'hedge') {
      options.onHedge?.(next);
      start(next++);
      continue;
    }
    const { lane, outcome } = first;
    lanes.delete(lane);
    lane.abort.dispose();
    if (outcome.ok) {
      await finishLosers();
      return { ok: true, value: outcome.value, index: lane.index };
    }
    errors.push(outcome.error);
    if (outcome.fatal) {
      await finishLosers();
      return { ok: false, errors };
    }
  }
}
