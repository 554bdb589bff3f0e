import { isAiError } from '../errors/ai-error.js';
import { emit } from '../events.js';
import { walkChain, type StepOutcome, type WalkResult } from '../policy/fallback.js';
import type { CallState } from './call-state.js';
import { Lane } from './lane.js';
import { runStep, type Won } from './step.js';

/**
 * Walks the capability's chain: a failed step hands over to the next one. Without hedging the
 * steps run one after another on the call's own lane; with `hedgeAfterMs`, walkChain races a
 * slow step against the next one, each on its own lane.
 */
export function walk(call: CallState): Promise<WalkResult<Won>> {
  return call.plan.policy.hedgeAfterMs === undefined ? walkInOrder(call) : walkHedged(call);
}

function onFallback(call: CallState, index: number, error: unknown): void {
  const { events } = call.ctx;
  if (call.trace !== undefined) call.trace.fallback(call.plan.chain[index]!.key, index, isAiError(error) ? error.code : undefined);
  if (!events.onFallback) return;
  emit(events, 'onFallback', { capability: call.plan.capability, callId: call.callId, providerKey: call.plan.chain[index]!.key, index, errorCode: isAiError(error) ? error.code : undefined });
}

/** walkChain's order without hedging: the next step starts when one fails, and an aborted call or a fatal failure ends the walk. */
async function walkInOrder(call: CallState): Promise<WalkResult<Won>> {
  const errors: unknown[] = [];
  const { chain } = call.plan;
  for (let index = 0; index < chain.length && call.reason === undefined; index++) {
    if (index > 0) onFallback(call, index, errors[errors.length - 1]);
    let outcome: StepOutcome<Won>;
    try {
      outcome = await runStep(call, call.lane, index);
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (outcome.ok) return { ok: true, value: outcome.value, index };
    errors.push(outcome.error);
    if (outcome.fatal) break;
  }
  return { ok: false, errors };
}

function walkHedged(call: CallState): Promise<WalkResult<Won>> {
  const { clock, events } = call.ctx;
  const { chain, capability, policy } = call.plan;
  const step = (signal: AbortSignal, index: number): Promise<StepOutcome<Won>> => {
    const { lane, detach } = Lane.following(signal, clock);
    return runStep(call, lane, index).finally(detach);
  };
  return walkChain<Won>(
    chain.map(() => step),
    {
      signal: call.signal,
      clock,
      hedgeAfterMs: policy.hedgeAfterMs!,
      onHedge: (index) => {
        call.trace?.hedge(chain[index]!.key, index);
        emit(events, 'onHedge', { capability, callId: call.callId, providerKey: chain[index]!.key, index });
      },
      onFallback: (index, error) => onFallback(call, index, error),
    },
  );
}
