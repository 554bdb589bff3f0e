import { randomUUID } from 'node:crypto';
import type { AiError } from '../errors/ai-error.js';
import { emit } from '../events.js';
import { microToUsd, type UsageUnits } from '../pricing/cost.js';
import type { AttemptInfo } from '../spec/types.js';
import type { UsageRecord } from '../usage/usage-record.js';
import type { CallState } from './call-state.js';

/**
 * Records one attempt (or breaker skip): into the call's attempts, as one usage row to every
 * sink (its own id, its exact cost), and as an `onAttempt` event. Fields appear in the order
 * of the ai_usage_log columns; absent ones are left out, not set to undefined.
 */
export function recordAttempt(call: CallState, info: AttemptInfo, providerName: string, units: UsageUnits, error: AiError | undefined, costMicro: number, timeoutMs?: number): void {
  call.attempts.push(info);
  const { ctx, opts } = call;
  const row = { id: randomUUID(), callId: call.callId, attempt: info.attempt } as UsageRecord;
  if (opts.sessionId !== undefined) row.sessionId = opts.sessionId;
  if (opts.eventId !== undefined) row.eventId = opts.eventId;
  row.providerType = call.plan.capability;
  row.providerName = providerName;
  row.modelId = info.modelId;
  if (units.tokensIn !== undefined) row.tokensIn = units.tokensIn;
  if (units.tokensOut !== undefined) row.tokensOut = units.tokensOut;
  if (units.cachedTokensIn !== undefined) row.tokensCachedIn = units.cachedTokensIn;
  if (units.audioDurationMs !== undefined) row.audioDurationMs = units.audioDurationMs;
  if (units.characters !== undefined) row.characters = units.characters;
  row.latencyMs = info.latencyMs;
  row.success = info.outcome === 'success';
  if (error) {
    row.errorCode = error.code;
    row.errorMessage = error.message;
  }
  row.estimatedCostUsd = microToUsd(costMicro);
  row.priceVersion = ctx.pricer.table.version;
  row.createdAt = new Date(info.startedAt + info.latencyMs);
  ctx.usage.write(row);
  if (call.trace !== undefined) call.trace.attempt({ info, units, costMicro, timeoutMs, error });
  if (ctx.events.onAttempt) emit(ctx.events, 'onAttempt', { ...info, capability: call.plan.capability, callId: call.callId });
}

/**
 * Records a call the SDK's cache answered: one usage row with `cacheHit`, cost 0 and the cost
 * it saved (what the answer's units cost at today's price table). No provider was called, so
 * no attempt is added to the call and no `onAttempt` fires.
 */
export function recordCacheHit(call: CallState, providerName: string, modelId: string, latencyMs: number, savedMicro: number): void {
  const { ctx, opts } = call;
  const row = { id: randomUUID(), callId: call.callId, attempt: 1 } as UsageRecord;
  if (opts.sessionId !== undefined) row.sessionId = opts.sessionId;
  if (opts.eventId !== undefined) row.eventId = opts.eventId;
  row.providerType = call.plan.capability;
  row.providerName = providerName;
  row.modelId = modelId;
  row.latencyMs = latencyMs;
  row.success = true;
  row.estimatedCostUsd = 0;
  row.priceVersion = ctx.pricer.table.version;
  row.cacheHit = true;
  row.savedCostUsd = microToUsd(savedMicro);
  row.createdAt = new Date(call.startedAt + latencyMs);
  ctx.usage.write(row);
}
