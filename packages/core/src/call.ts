// The data path of one call, top to bottom. What differs between STT, TTS and eval comes from
// the capability's descriptor (capabilities/); the steps below are the same for all three.
import { microToUsd } from './pricing/cost.js';
import type { CallOptions, ResultMeta } from './spec/types.js';
import { openCache } from './cache/call-cache.js';
import { budgetRefusal, callError } from './engine/call-error.js';
import { CallState } from './engine/call-state.js';
import { reserveCall, settleCall } from './engine/reservation.js';
import type { CallContext, CapabilityPlan } from './engine/runtime.js';
import type { Won } from './engine/step.js';
import { walk } from './engine/walk.js';
import type { WalkResult } from './policy/fallback.js';

/**
 * Runs one call. Resolves with the capability's result (its `.meta` lists every attempt);
 * rejects with an AiError. Every attempt, failed or not, has been handed to the sinks by then.
 */
export async function runCall(ctx: CallContext, plan: CapabilityPlan, req: unknown, opts: CallOptions): Promise<unknown> {
  // 1. Validate: refuse what a provider would refuse anyway, before anything is reserved or sent.
  const facts = plan.descriptor.validate(req, plan.env);
  const call = new CallState(ctx, plan, req, facts, opts);
  const cache = openCache(call);
  let won: Won;
  try {
    // 2. Cache (policy `cache`): a stored answer, or the one an identical call in flight is
    //    getting, returns at once: no reservation, no provider call, one usage row (cacheHit).
    const hit = cache && (await cache.lookup());
    if (hit !== undefined) {
      call.trace?.end(hit, undefined);
      return hit;
    }
    // 3. Reserve the worst case against the budget caps (no cap: nothing to ask).
    if (call.limits.length > 0) await reserveCall(call);
    // 4. Walk the chain: breaker, rate limit, attempts under timeouts with retries, hedging;
    //    each answer is checked (eval output) and every attempt recorded as it ends.
    const walked = await walk(call);
    // 5. Check how the walk ended: the winning answer (stored in the cache), or the call's error.
    won = winnerOf(call, walked);
    cache?.fill(won);
  } catch (e) {
    call.trace?.end(undefined, e);
    throw e;
  } finally {
    // 6. Settle the reservation to the real cost (in the background) and leave the in-flight set.
    if (call.reserved) settleCall(call);
    cache?.close();
    call.end();
  }
  // 7. The result, with the call's meta (and the end of its trace, when traced).
  const meta = metaOf(call, won);
  if (cache) meta.cache = 'miss';
  const result = plan.descriptor.result(won.raw, won.checked, meta);
  call.trace?.end(result, undefined);
  return result;
}

function winnerOf(call: CallState, walked: WalkResult<Won>): Won {
  if (walked.ok) return walked.value;
  const refusal = budgetRefusal(call);
  if (refusal) throw refusal;
  throw callError(call.plan.capability, call.operation, walked.errors, call.attempts, call.cause, call.deadlineMs);
}

function metaOf(call: CallState, won: Won): ResultMeta {
  const { provider, key } = won.link;
  const modelId = (won.raw as { modelId?: string }).modelId ?? (won.link.modelPerRequest ? call.plan.descriptor.modelIdFor(provider, call.req) : provider.modelId);
  return {
    callId: call.callId,
    provider: provider.name,
    providerKey: key,
    modelId,
    attempts: call.attempts,
    latencyMs: call.ctx.clock.now() - call.startedAt,
    costUsd: microToUsd(call.totalMicro),
  };
}
