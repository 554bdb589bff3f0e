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

/** Default of `createAiClient({ closeTimeoutMs })`, ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 15_000;

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
 * Closes a client within `plan.timeoutMs`:
 * 1. In-flight calls get the first third of it to finish; those still running then are
 *    cancelled (cause 'closing', so their attempts are still recorded) and reported.
 * 2. Then, side by side, each bounded by the deadline: budget settlements, limiters, every
 *    sink's flush() then close() (close() is called when flush() settles, or once half of the
 *    time left has passed, so a stalled flush cannot keep a sink from closing), providers' close().
 * 3. Whatever is still pending at the deadline is reported once, as `{ where: 'close', pending }`.
 * Never rejects.
 */
export async function closeWithin(plan: ClosePlan): Promise<void> {
  const { clock, timeoutMs } = plan;
  const startedAt = clock.now();
  const endAt = startedAt + timeoutMs;
  const drainAt = startedAt + Math.floor(timeoutMs / 3);

  if (plan.inflight.size > 0 && !(await settledBy(clock, plan.inflight.idle(), drainAt))) {
    const count = plan.inflight.size;
    plan.report({
      where: 'close',
      error: new AiError('timeout', `client.close: ${count} call(s) still running after ${drainAt - startedAt} ms were cancelled`, { retryable: false }),
      pending: [{ stage: 'calls', count }],
    });
    plan.cancelCalls();
    await settledBy(clock, plan.inflight.idle(), endAt);
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
  const sinksFrom = clock.now();
  const flushBy = sinksFrom + Math.floor((endAt - sinksFrom) / 2);
  for (let i = 0; i < plan.usage.size; i++) {
    const flushed = task({ stage: 'sink_flush', sink: i }, () => plan.usage.flushSink(i));
    if (plan.closeSinks) {
      task({ stage: 'sink_close', sink: i }, async () => {
        await settledBy(clock, flushed, flushBy);
        await plan.usage.closeSink(i);
      });
    }
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
