import { AiError, isAiError } from '../errors/ai-error.js';
import { AbortReason, type AbortCause } from '../policy/abort-reason.js';
import type { Release } from '../policy/rate-limit.js';
import { microToUsd, type UsageUnits } from '../pricing/cost.js';
import type { AttemptInfo } from '../spec/types.js';
import { attemptContext } from './attempt-context.js';
import { errorForAbort, unexpectedProviderError } from './call-error.js';
import type { CallState } from './call-state.js';
import type { Lane } from './lane.js';
import type { ChainLink } from './runtime.js';
import { recordAttempt } from './usage-row.js';

/** How one attempt ended. */
export type AttemptOutcome =
  | { ok: true; raw: unknown; checked: unknown }
  | { ok: false; error: AiError; /** the engine aborted it */ abortCause?: AbortCause; /** our own rate limiter refused it */ limiterRefused?: boolean };

/**
 * One attempt on one provider: a rate-limit slot, then the provider call under a timeout of
 * min(attemptTimeoutMs, time left before the deadline), then the capability's check of the
 * answer. Never throws: every ending is an outcome, priced and recorded (one usage row).
 */
export async function runAttempt(call: CallState, lane: Lane, link: ChainLink): Promise<AttemptOutcome> {
  const { ctx, plan } = call;
  const { clock } = ctx;
  // A lane aborted before its attempt starts (a lost hedge, the caller, the deadline) makes no
  // attempt: nothing is numbered, counted or recorded.
  if (lane.reason !== undefined) return { ok: false, error: errorForAbort(lane.reason.abortCause, link.key, 0), abortCause: lane.reason.abortCause };
  // Counted at once, so a hedged lane deciding on a top-up meanwhile sees this attempt.
  call.providerAttempts++;
  let n = 0;
  const t0 = clock.now();
  const left = call.deadlineAt - t0;
  const timeoutMs = Math.max(1, Math.min(plan.policy.attemptTimeoutMs, left));
  const scope = lane.open();
  // One timer per attempt: it ends the attempt, or, when the attempt runs to the deadline, the call.
  const endsCall = left <= plan.policy.attemptTimeoutMs;
  const timer = clock.setTimeout(
    () => (endsCall ? call.deadlinePassed() : scope.abort(new AbortReason('attempt_timeout', `attempt timed out after ${timeoutMs} ms`))),
    timeoutMs,
  );
  const { key, provider, limiter } = link;
  let release: Release | undefined;
  let raw: unknown;
  let outcome: AttemptOutcome;
  let waitingForSlot = limiter !== undefined;
  let reached = false;
  try {
    // An attempt on a lane aborted meanwhile never reaches the provider.
    if (scope.reason !== undefined) throw scope.reason;
    if (limiter) release = limiter.tryAcquire?.() ?? (await limiter.acquire(scope.signal, Math.min(plan.maxSlotWaitMs ?? timeoutMs, timeoutMs), key));
    waitingForSlot = false;
    if (scope.reason !== undefined) throw scope.reason;
    n = ++call.attemptCount;
    reached = true;
    // The signal is made only if the provider reads it.
    const actx = attemptContext(scope, n, call.deadlineAt, t0 + timeoutMs, plan.attemptFields);
    raw = await scope.race(plan.descriptor.invoke(provider, call.req, actx));
    outcome = { ok: true, raw, checked: plan.descriptor.check(raw, ctx.policy, key) };
  } catch (e) {
    if (scope.reason !== undefined) {
      const cause = scope.reason.abortCause;
      outcome = { ok: false, error: errorForAbort(cause, key, timeoutMs), abortCause: cause };
    } else if (isAiError(e)) {
      // A refusal by our own limiter says nothing about the provider's health.
      outcome = waitingForSlot ? { ok: false, error: e, limiterRefused: true } : { ok: false, error: e };
    } else {
      outcome = { ok: false, error: unexpectedProviderError(key, e) };
    }
  } finally {
    clock.clearTimeout(timer);
    release?.();
    lane.close(scope);
  }

  if (!reached) {
    if (!outcome.ok && outcome.abortCause === 'attempt_timeout') {
      // The attempt's time ran out in the queue: our limiter's refusal, not the provider's timeout.
      outcome = { ok: false, error: new AiError('rate_limited', `${key}: no rate-limit slot free within ${timeoutMs} ms`, { provider: key, retryable: false }), limiterRefused: true };
    } else if (outcome.ok || outcome.abortCause !== undefined) {
      // Aborted while waiting for a slot: the provider was never called, so there is no attempt
      // to record (one usage row per real attempt) and no reservation spent.
      call.providerAttempts--;
      return outcome;
    }
    // Our own limiter refused (or failed): recorded, so the caller sees why the step was given up.
    n = ++call.attemptCount;
  }

  // A schema-violating or unusable answer was still generated and billed: its tokens and
  // cost count, whether the core found the fault (raw kept) or the adapter did (error.usage).
  const billed = !outcome.ok ? outcome.error.usage : undefined;
  const units: UsageUnits = raw !== undefined ? plan.descriptor.units(raw) : billed ? { ...billed, requests: 1 } : {};
  const modelId = (raw as { modelId?: string } | undefined)?.modelId ?? (link.modelPerRequest ? plan.descriptor.modelIdFor(provider, call.req) : provider.modelId);
  const costMicro = raw !== undefined || billed ? (modelId === provider.modelId ? link.price : ctx.pricer.planFor(plan.capability, modelId)).costMicro(units) : 0;
  call.totalMicro += costMicro;
  const latencyMs = clock.now() - t0;
  const costUsd = microToUsd(costMicro);
  const info: AttemptInfo = outcome.ok
    ? { attempt: n, providerKey: key, provider: provider.name, modelId, outcome: 'success', startedAt: t0, latencyMs, costUsd }
    : {
        attempt: n,
        providerKey: key,
        provider: provider.name,
        modelId,
        outcome: outcome.abortCause === 'hedge_lost' ? 'hedge_lost' : 'error',
        errorCode: outcome.error.code,
        retryable: outcome.error.retryable,
        startedAt: t0,
        latencyMs,
        costUsd,
      };
  recordAttempt(call, info, provider.name, units, outcome.ok ? undefined : outcome.error, costMicro, timeoutMs);
  return outcome;
}
