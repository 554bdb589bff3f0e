// One attempt of a streaming call: a rate-limit slot held for the stream's life, the
// capability's body (it talks to the provider), then one usage row with the attempt's exact cost.
import { AbortScope } from '../engine/abort-scope.js';
import type { AttemptOutcome } from '../engine/attempt.js';
import { liveAttemptContext } from '../engine/attempt-context.js';
import { errorForAbort, unexpectedProviderError } from '../engine/call-error.js';
import type { ChainLink } from '../engine/runtime.js';
import { recordAttempt } from '../engine/usage-row.js';
import { AiError, isAiError } from '../errors/ai-error.js';
import { AbortReason } from '../policy/abort-reason.js';
import type { Release } from '../policy/rate-limit.js';
import { microToUsd, type UsageUnits } from '../pricing/cost.js';
import type { AttemptContext, AttemptInfo } from '../spec/types.js';
import type { StreamCall } from './stream-call.js';

/** What a capability's body reports when its attempt is over: what was billed, and the failure if any. */
export interface BodyOutcome {
  units: UsageUnits;
  error?: unknown;
  modelId?: string;
}

/** The part of an attempt that talks to the provider. Never throws: failures are reported in the outcome. */
export type StreamBody = (attempt: AttemptTools) => Promise<BodyOutcome>;

/** What a body gets: the attempt's scope, a context maker, and its two timers. */
export class AttemptTools {
  private firstTimer: unknown;
  private tailTimer: unknown;

  constructor(
    readonly sc: StreamCall,
    readonly link: ChainLink,
    readonly scope: AbortScope,
    readonly attempt: number,
  ) {}

  /**
   * The AttemptContext for the provider, timing out at `attemptDeadlineAt` (default: the call's
   * deadline). Its deadlines are read live from the call: a stream's deadline moves while the
   * input arrives, and an adapter that read a copy made at the start would time out at the first one.
   */
  context(attemptDeadlineAt?: number): AttemptContext {
    const { call } = this.sc;
    return liveAttemptContext(this.scope, this.attempt, call, attemptDeadlineAt ?? Infinity, call.plan.attemptFields);
  }

  /** Fails the attempt ('timeout') unless `clearFirst` runs within `ms`. */
  armFirst(ms: number, message: string): void {
    if (this.firstTimer !== undefined || this.scope.reason !== undefined) return;
    const { clock } = this.sc;
    this.firstTimer = clock.setTimeout(() => this.scope.abort(new AbortReason('attempt_timeout', message)), ms);
  }

  clearFirst(): void {
    if (this.firstTimer === undefined) return;
    this.sc.clock.clearTimeout(this.firstTimer);
    this.firstTimer = null;
  }

  /** After the input ended: the attempt must end within min(attemptTimeoutMs, time to the deadline). Returns when it times out. */
  armTail(what: string): number {
    const { clock, call } = this.sc;
    const ms = Math.max(1, Math.min(call.plan.policy.attemptTimeoutMs, call.deadlineAt - clock.now()));
    if (this.tailTimer === undefined && this.scope.reason === undefined) {
      this.tailTimer = clock.setTimeout(() => this.scope.abort(new AbortReason('attempt_timeout', `attempt timed out ${ms} ms after the end of the ${what}`)), ms);
    }
    return clock.now() + ms;
  }

  clear(): void {
    this.clearFirst();
    if (this.tailTimer !== undefined) this.sc.clock.clearTimeout(this.tailTimer);
  }
}

/**
 * Runs one attempt and records it. Never throws. An attempt whose lane was aborted before it
 * started, or that was aborted while waiting for a rate-limit slot, is not an attempt: nothing
 * is numbered or recorded (as for one-shot calls).
 */
export async function runStreamAttempt(sc: StreamCall, link: ChainLink, body: StreamBody): Promise<AttemptOutcome> {
  const { call } = sc;
  const { ctx, plan, lane } = call;
  const { clock } = ctx;
  const { key, provider, limiter } = link;
  if (lane.reason !== undefined) return { ok: false, error: errorForAbort(lane.reason.abortCause, key, 0), abortCause: lane.reason.abortCause };
  call.providerAttempts++;
  const t0 = clock.now();
  const scope = lane.open();
  sc.current = scope;
  let release: Release | undefined;
  let out: BodyOutcome;
  let n: number;
  let limiterError: AiError | undefined;
  try {
    if (limiter) {
      const waitMs = Math.min(plan.maxSlotWaitMs ?? plan.policy.attemptTimeoutMs, plan.policy.attemptTimeoutMs);
      try {
        release = limiter.tryAcquire?.() ?? (await limiter.acquire(scope.signal, waitMs, key));
      } catch (e) {
        if (scope.reason !== undefined) {
          call.providerAttempts--;
          return { ok: false, error: errorForAbort(scope.reason.abortCause, key, 0), abortCause: scope.reason.abortCause };
        }
        limiterError = isAiError(e) ? e : new AiError('rate_limited', `${key}: rate limiter failed`, { provider: key, retryable: false, cause: e });
      }
    }
    n = ++call.attemptCount;
    if (limiterError) out = { units: {}, error: limiterError };
    else {
      const tools = new AttemptTools(sc, link, scope, n);
      try {
        out = await body(tools);
      } catch (e) {
        out = { units: {}, error: e };
      } finally {
        tools.clear();
      }
    }
  } finally {
    release?.();
    lane.close(scope);
    if (sc.current === scope) sc.current = undefined;
  }

  let outcome: AttemptOutcome;
  if (out.error === undefined && scope.reason === undefined && sc.fatal === undefined) outcome = { ok: true, raw: out, checked: undefined };
  else if (sc.fatal !== undefined) outcome = { ok: false, error: sc.fatal };
  else if (limiterError) outcome = { ok: false, error: limiterError, limiterRefused: true };
  else if (scope.reason !== undefined) {
    const cause = scope.reason.abortCause;
    const error = cause === 'attempt_timeout' ? new AiError('timeout', `${key}: ${scope.reason.message}`, { provider: key, retryable: true }) : errorForAbort(cause, key, 0);
    outcome = { ok: false, error, abortCause: cause };
  } else outcome = { ok: false, error: isAiError(out.error) ? out.error : unexpectedProviderError(key, out.error) };

  const modelId = out.modelId ?? (link.modelPerRequest ? plan.descriptor.modelIdFor(provider, call.req) : provider.modelId);
  const billed = Object.keys(out.units).length > 0;
  const costMicro = billed ? (modelId === provider.modelId ? link.price : ctx.pricer.planFor(plan.capability, modelId)).costMicro(out.units) : 0;
  call.totalMicro += costMicro;
  const latencyMs = clock.now() - t0;
  const costUsd = microToUsd(costMicro);
  const info: AttemptInfo = outcome.ok
    ? { attempt: n, providerKey: key, provider: provider.name, modelId, outcome: 'success', startedAt: t0, latencyMs, costUsd }
    : { attempt: n, providerKey: key, provider: provider.name, modelId, outcome: 'error', errorCode: outcome.error.code, retryable: outcome.error.retryable, startedAt: t0, latencyMs, costUsd };
  recordAttempt(call, info, provider.name, out.units, outcome.ok ? undefined : outcome.error, costMicro);
  return outcome;
}
