import { AiError } from '../errors/ai-error.js';
import { emit } from '../events.js';
import { countsAsBreakerFailure } from '../policy/circuit-breaker.js';
import type { StepOutcome } from '../policy/fallback.js';
import { decideRetry } from '../policy/retry.js';
import type { AttemptInfo } from '../spec/types.js';
import { runAttempt } from './attempt.js';
import { errorForAbort } from './call-error.js';
import type { CallState } from './call-state.js';
import type { Lane } from './lane.js';
import { topUp } from './reservation.js';
import type { ChainLink } from './runtime.js';
import { recordAttempt } from './usage-row.js';

/** The answer that won a call. */
export interface Won {
  link: ChainLink;
  raw: unknown;
  checked: unknown;
}

/**
 * One chain step: the provider at `index` with its retries. The circuit breaker decides first
 * (an open one skips the provider, recorded as a 'skipped' attempt); every attempt past the
 * reserved ones tops the budget reservation up; only retryable errors are retried, after
 * backoff or the provider's Retry-After, and no sleep ends past the deadline. Never throws.
 */
export async function runStep(call: CallState, lane: Lane, index: number): Promise<StepOutcome<Won>> {
  const { ctx, plan } = call;
  const link = plan.chain[index]!;
  const { breaker, key } = link;
  const { trace } = call;
  let made = 0;
  for (;;) {
    const permit = breaker.acquire();
    if (trace !== undefined) trace.breaker(breaker.key, breaker.state);
    if (permit === 'rejected') {
      const retryInMs = breaker.retryInMs();
      const error = new AiError('circuit_open', `${key}: circuit breaker open, provider skipped (retry in ${retryInMs} ms)`, { provider: key, retryable: true, retryAfterMs: retryInMs });
      if (made === 0) {
        const modelId = link.modelPerRequest ? plan.descriptor.modelIdFor(link.provider, call.req) : link.provider.modelId;
        const t = ctx.clock.now();
        const info: AttemptInfo = { attempt: ++call.attemptCount, providerKey: key, provider: link.provider.name, modelId, outcome: 'skipped', errorCode: 'circuit_open', retryable: true, startedAt: t, latencyMs: 0, costUsd: 0 };
        recordAttempt(call, info, link.provider.name, {}, error, 0);
      }
      return { ok: false, error };
    }
    if (call.providerAttempts >= call.reservedAttempts) {
      // Every attempt past the reserved ones needs its own reservation first.
      let reserved: boolean;
      try {
        reserved = await topUp(call, lane, index);
      } catch (e) {
        breaker.onNeutral(permit);
        call.budgetFailure = e as AiError;
        if (trace !== undefined && (e as AiError).code === 'budget_exceeded') trace.budgetRefused((e as AiError).message);
        return { ok: false, error: e, fatal: true };
      }
      if (!reserved) {
        breaker.onNeutral(permit);
        // The lane was aborted while waiting (deadline, caller, lost hedge): no attempt is made.
        return { ok: false, error: errorForAbort(lane.cause ?? 'caller', key, 0), fatal: lane.fatal };
      }
    }
    const outcome = await runAttempt(call, lane, link);
    made++;
    if (outcome.ok) {
      breaker.onSuccess(permit);
      if (trace !== undefined) trace.breaker(breaker.key, breaker.state);
      return { ok: true, value: { link, raw: outcome.raw, checked: outcome.checked } };
    }
    const error = outcome.error;
    const ourAbort = outcome.abortCause !== undefined && outcome.abortCause !== 'attempt_timeout';
    if (!ourAbort && !outcome.limiterRefused && countsAsBreakerFailure(error.code)) breaker.onFailure(permit);
    else breaker.onNeutral(permit);
    if (trace !== undefined) trace.breaker(breaker.key, breaker.state);
    if (lane.reason !== undefined) return { ok: false, error, fatal: lane.fatal };
    const decision = decideRetry(error, made, plan.policy.retry, call.deadlineAt - ctx.clock.now(), ctx.random);
    if (!decision.retry) return { ok: false, error };
    if (trace !== undefined) trace.retry(key, decision.delayMs, error.code);
    emit(ctx.events, 'onRetry', { capability: plan.capability, callId: call.callId, providerKey: key, attempt: call.attemptCount, delayMs: decision.delayMs, errorCode: error.code });
    const scope = lane.open();
    try {
      await scope.sleep(decision.delayMs);
    } catch {
      return { ok: false, error, fatal: lane.fatal };
    } finally {
      lane.close(scope);
    }
  }
}

