// The chain walk of a streaming call: each step's breaker, budget top-up, attempts with retries,
// then the next step, until an attempt succeeds, the input is refused, or something was
// delivered that a fallback could not take back.
import { errorForAbort } from '../engine/call-error.js';
import { topUp } from '../engine/reservation.js';
import type { ChainLink } from '../engine/runtime.js';
import { recordAttempt } from '../engine/usage-row.js';
import { AiError, isAiError } from '../errors/ai-error.js';
import { emit } from '../events.js';
import { countsAsBreakerFailure } from '../policy/circuit-breaker.js';
import { decideRetry } from '../policy/retry.js';
import { runStreamAttempt, type BodyOutcome, type StreamBody } from './stream-attempt.js';
import type { StreamCall } from './stream-call.js';

/** How the walk ended: the winning step's body outcome, or every error on the way. */
export type StreamWalk = { ok: true; link: ChainLink; out: BodyOutcome } | { ok: false; errors: unknown[]; stopped: boolean };

/**
 * Walks the chain. `bodyFor` gives each step's body (a streaming provider's, or the fallback
 * for one that does not stream). `stopped` is true when the walk ended before the chain did:
 * the call was aborted, the input refused, the budget refused, or the stream was committed.
 */
export async function walkStream(sc: StreamCall, bodyFor: (link: ChainLink) => StreamBody): Promise<StreamWalk> {
  const { call } = sc;
  const { ctx, plan } = call;
  const errors: unknown[] = [];
  for (const link of plan.chain) {
    if (call.reason !== undefined) return { ok: false, errors, stopped: true };
    if (link.index > 0) call.trace?.fallback(link.key, link.index, isAiError(errors[errors.length - 1]) ? (errors[errors.length - 1] as { code: string }).code : undefined);
    if (link.index > 0 && ctx.events.onFallback) {
      const last = errors[errors.length - 1];
      emit(ctx.events, 'onFallback', { capability: plan.capability, callId: call.callId, providerKey: link.key, index: link.index, errorCode: isAiError(last) ? last.code : undefined });
    }
    const body = bodyFor(link);
    let made = 0;
    for (;;) {
      const { breaker, key } = link;
      const permit = breaker.acquire();
      call.trace?.breaker(breaker.key, breaker.state);
      if (permit === 'rejected') {
        const retryInMs = breaker.retryInMs();
        const error = new AiError('circuit_open', `${key}: circuit breaker open, provider skipped (retry in ${retryInMs} ms)`, { provider: key, retryable: true, retryAfterMs: retryInMs });
        if (made === 0) {
          const t = ctx.clock.now();
          recordAttempt(call, { attempt: ++call.attemptCount, providerKey: key, provider: link.provider.name, modelId: link.provider.modelId, outcome: 'skipped', errorCode: 'circuit_open', retryable: true, startedAt: t, latencyMs: 0, costUsd: 0 }, link.provider.name, {}, error, 0);
        }
        errors.push(error);
        break;
      }
      if (call.providerAttempts >= call.reservedAttempts) {
        let reserved: boolean;
        try {
          reserved = await topUp(call, call.lane, link.index);
        } catch (e) {
          breaker.onNeutral(permit);
          call.budgetFailure = e as AiError;
          if ((e as AiError).code === 'budget_exceeded') call.trace?.budgetRefused((e as AiError).message);
          errors.push(e);
          return { ok: false, errors, stopped: true };
        }
        if (!reserved) {
          breaker.onNeutral(permit);
          errors.push(errorForAbort(call.lane.cause ?? 'caller', key, 0));
          return { ok: false, errors, stopped: true };
        }
      }
      const outcome = await runStreamAttempt(sc, link, body);
      made++;
      if (outcome.ok) {
        breaker.onSuccess(permit);
        call.trace?.breaker(breaker.key, breaker.state);
        return { ok: true, link, out: outcome.raw as BodyOutcome };
      }
      const { error } = outcome;
      const ourAbort = outcome.abortCause !== undefined && outcome.abortCause !== 'attempt_timeout';
      if (!ourAbort && !outcome.limiterRefused && sc.fatal === undefined && countsAsBreakerFailure(error.code)) breaker.onFailure(permit);
      else breaker.onNeutral(permit);
      call.trace?.breaker(breaker.key, breaker.state);
      errors.push(error);
      if (sc.fatal !== undefined || sc.committed || call.reason !== undefined) return { ok: false, errors, stopped: true };
      const decision = decideRetry(error, made, plan.policy.retry, call.deadlineAt - ctx.clock.now(), ctx.random);
      if (!decision.retry) break;
      call.trace?.retry(key, decision.delayMs, error.code);
      emit(ctx.events, 'onRetry', { capability: plan.capability, callId: call.callId, providerKey: key, attempt: call.attemptCount, delayMs: decision.delayMs, errorCode: error.code });
      const scope = call.lane.open();
      try {
        await scope.sleep(decision.delayMs);
      } catch {
        return { ok: false, errors, stopped: true };
      } finally {
        call.lane.close(scope);
      }
    }
  }
  return { ok: false, errors, stopped: false };
}
