// client.close() under one deadline: whatever a sink, a store, a limiter or a provider does,
// close() resolves by `closeTimeoutMs`, and what did not finish by then is reported, not awaited.
import pTimeout, { TimeoutError } from 'p-timeout';
import type { BackgroundErrorEvent, ClosePending } from './events.js';
import { AiError } from './errors/ai-error.js';
import type { Clock } from './policy/clock.js';
import type { Limiter } from './policy/rate-limit.js';
import type { Provider } from './spec/types.js';
import type { UsageFanOut } from './usage/fan-out.js';

/** Something close() waits for: its size now, and a promise of it becoming empty (never rejects). */
export interface Pending {
  readonly size: number;
  idle(): Promise<void>;
}

/**
 * The sinks' share of close(), ms: their close() starts at the latest this long before close()'s
 * deadline (half of closeTimeoutMs when that is under twice this). The usage-log sinks' own default
 * closeTimeoutMs (5 s: drain, then spill what is left) fits inside it with a second to spare.
 */
export const SINK_CLOSE_SHARE_MS = 6_000;

/**
 * Default of `createAiClient({ closeTimeoutMs })`, ms: the default policy's longest call deadline
 * (eval, 20 s; a test holds it to the policy) plus the sinks' share, so close() never cuts a call
 * of the default policy short, nor the sinks' spill of what the database did not take.
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 26_000;

/** How close() shares out its time (see {@link closeShares}). */
export interface CloseShares {
  /**
   * The sinks' share, ms: their close() is called once the calls are done, and at the latest
   * `callsMs` after close() started, so they always have at least this long before the deadline.
   */
  sinksMs: number;
  /**
   * The longest in-flight calls may still run, ms: each ends by its own deadline anyway, so
   * close() waits for them only as long as they were going to take, but no longer than this;
   * calls still running then are cancelled.
   */
  callsMs: number;
}

/** The shares of a close() that may take `closeTimeoutMs`: sinksMs = min(6 s, half), callsMs = the rest. */
export function closeShares(closeTimeoutMs: number): CloseShares {
  const sinksMs = Math.min(SINK_CLOSE_SHARE_MS, Math.floor(closeTimeoutMs / 2));
  return { sinksMs, callsMs: closeTimeoutMs - sinksMs };
}

export interface ClosePlan {
  clock: Clock;
  timeoutMs: number;
  /** Calls in flight: how many, and when none is left. */
  inflight: Pending;
  /** Work that outlives calls (budget settlements), likewise. */
  background: Pending;
  /** Aborts every call still in flight with cause 'closing'. */
  cancelCalls(): void;
  limiters: ReadonlyMap<string, Limiter>;
  usage: UsageFanOut;
  closeSinks: boolean;
  /** Providers to close, by key (each object once). */
  providers: readonly [string, Provider][];
  /** Must never throw. */
  report(e: BackgroundErrorEvent): void;
}

/** Resolves true when `work` settled by epoch ms `at`, false when the time ran out first. */
async function settledBy(clock: Clock, work: Promise<unknown>, at: number): Promise<boolean> {
  try {
    await pTimeout(work, {
      milliseconds: Math.max(1, at - clock.now()),
      // The injected clock's awaited timers: close() is awaited, so its deadline keeps the
      // process alive, and a fake clock drives it in tests.
      customTimers: {
        setTimeout: ((fn: () => void, ms: number) => clock.setTimeout(fn, ms)) as unknown as typeof globalThis.setTimeout,
        clearTimeout: ((handle: unknown) => clock.clearTimeout(handle)) as typeof globalThis.clearTimeout,
      },
    });
    return true;
  } catch (e) {
    return !(e instanceof TimeoutError);
  }
}

function describePending(p: ClosePending): string {
  switch (p.stage) {
    case 'calls':
      return `${p.count} call(s)`;
    case 'sink_flush':
      return `sinks[${p.sink}].flush()`;
    case 'sink_close':
      return `sinks[${p.sink}].close()`;
    case 'budget_settle':
      return `${p.count} budget settlement(s)`;
    case 'limiter_close':
      return `limiter ${p.key}.close()`;
    case 'provider_close':
      return `providers.${p.key}.close()`;
  }
}

/**
 * Closes a client within `plan.timeoutMs`, shared out by {@link closeShares}:
 * 1. In-flight calls run on, each until its own deadline, for at most `callsMs`; those still
 *    running then are cancelled (cause 'closing', so their attempts are still recorded) and
 *    reported. A cancelled call that does not settle is not waited for.
 * 2. Then, side by side, each bounded by the deadline: budget settlements, limiters, every sink's
 *    close() (it drains what it holds: no separate flush() first, whose own deadline would eat the
 *    sink's share) or, with `closeSinks` false, its flush(), providers' close(). The sinks start
 *    by `callsMs` at the latest, so they always get `sinksMs`.
 * 3. Whatever is still pending at the deadline is reported once, as `{ where: 'close', pending }`.
 * Never rejects.
 */
export async function closeWithin(plan: ClosePlan): Promise<void> {
  const { clock, timeoutMs } = plan;
  const startedAt = clock.now();
  const endAt = startedAt + timeoutMs;
  const sinksAt = startedAt + closeShares(timeoutMs).callsMs;

  // Each call ends by its own deadline (its timers see to it), so waiting for the calls takes no
  // longer than they were going to run, and cancelling one would waste an attempt already paid
  // for. Only the sinks' share is off limits to them.
  if (plan.inflight.size > 0 && !(await settledBy(clock, plan.inflight.idle(), sinksAt))) {
    const count = plan.inflight.size;
    plan.report({
      where: 'close',
      error: new AiError('timeout', `client.close: ${count} call(s) still running after ${sinksAt - startedAt} ms were cancelled`, { retryable: false }),
      pending: [{ stage: 'calls', count }],
    });
    plan.cancelCalls();
    // Cancelled attempts end at once (they race the abort), leaving their usage rows with the
    // sinks; a call that does not settle even so is reported at the deadline, not waited for.
    await settledBy(clock, plan.inflight.idle(), sinksAt);
  }

  const tasks: { pending: ClosePending; done: boolean; work: Promise<void> }[] = [];
  const task = (pending: ClosePending, run: () => Promise<unknown>): Promise<void> => {
    const t = { pending, done: false, work: Promise.resolve() };
    t.work = Promise.resolve()
      .then(run)
      .then(
        () => {
          t.done = true;
        },
        (error: unknown) => {
          t.done = true;
          if (pending.stage === 'limiter_close') plan.report({ where: 'limiter_close', error });
          else if (pending.stage === 'provider_close') plan.report({ where: 'provider_close', error });
        },
      );
    tasks.push(t);
    return t.work;
  };

  if (plan.background.size > 0) task({ stage: 'budget_settle', count: plan.background.size }, () => plan.background.idle());
  for (const [key, limiter] of plan.limiters) if (limiter.close) task({ stage: 'limiter_close', key }, () => limiter.close!());
  for (let i = 0; i < plan.usage.size; i++) {
    if (plan.closeSinks) task({ stage: 'sink_close', sink: i }, () => plan.usage.closeSink(i));
    else task({ stage: 'sink_flush', sink: i }, () => plan.usage.flushSink(i));
  }
  for (const [key, provider] of plan.providers) if (provider.close) task({ stage: 'provider_close', key }, () => provider.close!());

  await settledBy(clock, Promise.all(tasks.map((t) => t.work)), endAt);

  const pending: ClosePending[] = [];
  if (plan.inflight.size > 0) pending.push({ stage: 'calls', count: plan.inflight.size });
  for (const t of tasks) if (!t.done) pending.push(t.pending);
  if (pending.length > 0) {
    plan.report({
      where: 'close',
      error: new AiError('timeout', `client.close: gave up after ${timeoutMs} ms; still pending: ${pending.map(describePending).join(', ')}`, { retryable: false }),
      pending,
    });
  }
}
