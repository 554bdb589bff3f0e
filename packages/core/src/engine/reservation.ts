// The budget side of one call: reserve its worst case before the first attempt, top up before
// each further one, settle to the real cost when it is over.
import { isAiError } from '../errors/ai-error.js';
import { emit } from '../events.js';
import { callError } from './call-error.js';
import type { CallState } from './call-state.js';
import type { Lane } from './lane.js';

/**
 * Reserves `amountMicro` under `id` for the call, giving up when the lane aborts or the call's
 * deadline passes first; a reservation that lands after that is released at once, so it never
 * holds room for a call that is not made.
 */
export async function reserveWithin(call: CallState, lane: Lane, id: string, amountMicro: number): Promise<void> {
  const { budget, clock } = call.ctx;
  const p = budget.reserve(id, amountMicro, call.limits, call.reservationTtlMs, call.operation);
  const scope = lane.open();
  const left = call.deadlineAt - clock.now();
  if (left <= 0) call.deadlinePassed();
  // A budget store is outside any attempt: the deadline needs its own timer here.
  const timer = left > 0 ? clock.setTimeout(() => call.deadlinePassed(), left) : undefined;
  try {
    await scope.race(p);
  } catch (e) {
    if (scope.reason !== undefined) p.then(() => budget.release(id), () => {});
    throw e;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    lane.close(scope);
  }
}

/**
 * Reserves the worst single attempt across the chain (two when hedging) before anything is
 * sent; refuses the call with `budget_exceeded` (and `onBudgetRefused`) when a cap has no room.
 */
export async function reserveCall(call: CallState): Promise<void> {
  const { plan, ctx } = call;
  const units = plan.descriptor.worstCase(call.req, call.facts, ctx.policy);
  const { chain } = plan;
  const worst = new Array<number>(chain.length);
  // The two largest worst cases of the chain's steps. Hedging runs two steps at once, and a key
  // listed twice is still two attempts in flight (two bills): every step counts, whatever its key.
  let first = 0;
  let second = 0;
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i]!;
    const modelId = link.modelPerRequest ? plan.descriptor.modelIdFor(link.provider, call.req) : link.provider.modelId;
    const micro = (modelId === link.provider.modelId ? link.price : ctx.pricer.planFor(plan.capability, modelId)).costMicro(units);
    worst[i] = micro;
    if (micro > first) {
      second = first;
      first = micro;
    } else if (micro > second) second = micro;
  }
  call.worstMicro = worst;
  const hedging = plan.policy.hedgeAfterMs !== undefined;
  const initial = first + (hedging ? second : 0);
  try {
    await reserveWithin(call, call.lane, call.callId, initial);
  } catch (e) {
    if (isAiError(e) && e.code === 'budget_exceeded') {
      call.trace?.budgetRefused(e.message);
      emit(ctx.events, 'onBudgetRefused', { capability: plan.capability, callId: call.callId, message: e.message });
    }
    if (isAiError(e)) throw e;
    throw callError(plan.capability, call.operation, [], [], call.cause, call.deadlineMs);
  }
  call.reserved = true;
  call.reservedAttempts = hedging ? 2 : 1;
}

/**
 * Reserves one more attempt's worst case on chain step `index` (a retry, the next step).
 * Resolves true when reserved; false when the lane was aborted meanwhile; throws the budget's
 * AiError when the cap has no room or the store failed.
 */
export async function topUp(call: CallState, lane: Lane, index: number): Promise<boolean> {
  const id = `${call.callId}#top${++call.topUpSeq}`;
  call.reservedAttempts++;
  try {
    await reserveWithin(call, lane, id, call.worstMicro[index] ?? 0);
  } catch (e) {
    if (isAiError(e)) throw e;
    return false;
  }
  if (call.topUps.length === 0) call.topUps = [id];
  else call.topUps.push(id);
  return true;
}

/** Settles the main reservation to the real cost and drops the top-ups, in the background: the answer never waits for it; close() does. */
export function settleCall(call: CallState): void {
  const { ctx } = call;
  ctx.background.run(ctx.budget.settle(call.callId, call.topUps, call.totalMicro, ctx.clock, (error) => emit(ctx.events, 'onBackgroundError', { where: 'budget_settle', error })));
}
