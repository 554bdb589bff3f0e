// The data path of one call, top to bottom: validate, reserve, walk the chain (breaker,
// limiter, attempts with timeouts and retries, hedging), check eval output, record every
// attempt, settle the budget.
import { randomUUID } from 'node:crypto';
import type { BudgetGuard } from './budget/budget-guard.js';
import type { BudgetLimit } from './budget/budget-store.js';
import { worstCaseUnits } from './budget/worst-case.js';
import { AiError, isAiError } from './errors/ai-error.js';
import { checkEvalOutput } from './eval/eval-result.js';
import type { AiPolicy } from './policy/ai-policy.js';
import type { CircuitBreaker } from './policy/circuit-breaker.js';
import { countsAsBreakerFailure } from './policy/circuit-breaker.js';
import { sleep, type Clock, type RandomSource } from './policy/clock.js';
import { abortCauseOf, ChildAbort, Deadline, type AbortCause } from './policy/deadline.js';
import { walkChain, type StepOutcome } from './policy/fallback.js';
import type { Limiter } from './policy/rate-limit.js';
import { decideRetry } from './policy/retry.js';
import { microToUsd, type Pricer, type UsageUnits } from './pricing/cost.js';
import type {
  AttemptContext,
  AttemptInfo,
  CallOptions,
  Capability,
  EvalProviderResult,
  Provider,
  ResultMeta,
  SttProviderResult,
  TtsProviderResult,
  TtsRequest,
} from './spec/types.js';
import type { UsageFanOut } from './usage/fan-out.js';
import type { UsageRecord } from './usage/usage-record.js';

/** Events the engine emits instead of logging. Handlers must not throw (a throwing handler is ignored). */
export interface AiClientEvents {
  /** After every attempt (and every breaker-skipped step). */
  onAttempt?(e: AttemptInfo & { capability: Capability; callId: string }): void;
  /** Before sleeping for a retry of the same provider. */
  onRetry?(e: { capability: Capability; callId: string; providerKey: string; attempt: number; delayMs: number; errorCode: string }): void;
  /** When the chain moves on to step `index`. */
  onFallback?(e: { capability: Capability; callId: string; providerKey: string; index: number; errorCode: string | undefined }): void;
  /** When a hedge starts the next step beside a slow one. */
  onHedge?(e: { capability: Capability; callId: string; providerKey: string; index: number }): void;
  onBreak?(e: { key: string; failures: number; cooldownMs: number }): void;
  onHalfOpen?(e: { key: string }): void;
  onReset?(e: { key: string }): void;
  /** A call refused by a budget cap before any provider call. */
  onBudgetRefused?(e: { capability: Capability; callId: string; message: string }): void;
  /**
   * Something failed or ran late in the background (the call itself was not affected): a budget
   * settlement, a sink, a limiter's or provider's close(), or `close()` running out of
   * `closeTimeoutMs` (`where: 'close'`, with what was still `pending`).
   */
  onBackgroundError?(e: BackgroundErrorEvent): void;
}

/** What `close()` was still waiting for when its time ran out. */
export type ClosePending =
  | { stage: 'calls'; /** calls still in flight */ count: number }
  | { stage: 'budget_settle'; /** settlements not finished */ count: number }
  | { stage: 'sink_flush' | 'sink_close'; /** index in `sinks` */ sink: number }
  | { stage: 'limiter_close'; /** 'capability:providerKey' */ key: string }
  | { stage: 'provider_close'; /** provider key */ key: string };

export interface BackgroundErrorEvent {
  where: 'budget_settle' | 'sink' | 'limiter_close' | 'provider_close' | 'close';
  /** An AiError from the SDK (code 'timeout' for `close`), or what the store, sink or provider threw. */
  error: unknown;
  /** `where: 'close'` only: what had not finished in time (calls listed here were cancelled). */
  pending?: ClosePending[];
}

/** What a call needs from its client. */
export interface CallContext {
  policy: AiPolicy;
  providers: ReadonlyMap<string, Provider>;
  chains: Record<Capability, string[]>;
  breakers: ReadonlyMap<string, CircuitBreaker>;
  limiters: ReadonlyMap<string, Limiter>;
  pricer: Pricer;
  budget: BudgetGuard;
  usage: UsageFanOut;
  clock: Clock;
  random: RandomSource;
  events: AiClientEvents;
  /** Work that outlives the call (budget settlement); close() waits for it. */
  background(work: Promise<unknown>): void;
  /** Aborts when close() gives up waiting for calls: they end `cancelled` (cause 'closing'). */
  closing: AbortSignal;
}

type RawResult = SttProviderResult | TtsProviderResult | EvalProviderResult;

const RESERVATION_GRACE_MS = 60_000;

function emit<K extends keyof AiClientEvents>(events: AiClientEvents, name: K, arg: Parameters<NonNullable<AiClientEvents[K]>>[0]): void {
  const fn = events[name] as ((a: unknown) => void) | undefined;
  if (!fn) return;
  try {
    fn(arg);
  } catch {
    // An event handler must never break a call.
  }
}

function unitsOf(capability: Capability, raw: RawResult | undefined): UsageUnits {
  if (!raw) return {};
  switch (capability) {
    case 'eval': {
      const r = raw as EvalProviderResult;
      return {
        tokensIn: r.tokensIn,
        ...(r.audioTokensIn !== undefined && { audioTokensIn: r.audioTokensIn }),
        ...(r.cachedTokensIn !== undefined && { cachedTokensIn: r.cachedTokensIn }),
        tokensOut: r.tokensOut,
        requests: 1,
      };
    }
    case 'stt': {
      // Per-second models bill audioDurationMs, token-billed ones (gpt-4o-transcribe) the
      // tokens: the model's price rows pick the units they charge.
      const r = raw as SttProviderResult;
      return {
        audioDurationMs: r.audioDurationMs,
        ...(r.tokensIn !== undefined && { tokensIn: r.tokensIn }),
        ...(r.audioTokensIn !== undefined && { audioTokensIn: r.audioTokensIn }),
        ...(r.tokensOut !== undefined && { tokensOut: r.tokensOut }),
        requests: 1,
      };
    }
    case 'tts': {
      const r = raw as TtsProviderResult;
      return { characters: r.characters, audioDurationMs: r.audioDurationMs, requests: r.requests ?? 1 };
    }
  }
}

function errorForAbort(cause: AbortCause, key: string, timeoutMs: number): AiError {
  switch (cause) {
    case 'attempt_timeout':
      return new AiError('timeout', `${key}: attempt timed out after ${timeoutMs} ms`, { provider: key, retryable: true });
    case 'deadline':
      return new AiError('timeout', `${key}: call deadline passed during the attempt`, { provider: key, retryable: false });
    case 'hedge_lost':
      return new AiError('cancelled', `${key}: aborted because another provider answered first (hedge lost)`, { provider: key, retryable: false });
    case 'closing':
      return new AiError('cancelled', `${key}: aborted because the client is closing`, { provider: key, retryable: false });
    case 'caller':
      return new AiError('cancelled', `${key}: the caller aborted the call`, { provider: key, retryable: false });
  }
}

function errorKind(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${e.name} ${code}` : e.name;
  }
  return typeof e;
}

/**
 * Reserves budget, but gives up when `signal` aborts first; a reservation that lands after
 * that is released at once, so it never holds room for a call that is not made.
 */
async function reserveWithin(ctx: CallContext, id: string, amountMicro: number, limits: BudgetLimit[], ttlMs: number, what: string, signal: AbortSignal): Promise<void> {
  const p = ctx.budget.reserve(id, amountMicro, limits, ttlMs, what);
  try {
    await raceAbort(p, signal);
  } catch (e) {
    if (signal.aborted) p.then(() => ctx.budget.release(id), () => {});
    throw e;
  }
}

/** Resolves or rejects with `promise`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const OPERATION: Record<Capability, string> = { stt: 'stt.transcribe', tts: 'tts.synthesize', eval: 'eval.evaluate' };

/**
 * Runs one validated request through the capability's chain. Resolves with the provider's
 * result (eval output already checked) and the call's meta; rejects with an AiError.
 */
export async function runCall(
  ctx: CallContext,
  capability: Capability,
  req: unknown,
  opts: CallOptions,
): Promise<{ raw: RawResult; meta: ResultMeta; evalOutput?: ReturnType<typeof checkEvalOutput> }> {
  const { clock, policy, events } = ctx;
  const cap = policy.capabilities[capability];
  const chain = ctx.chains[capability];
  const callId = randomUUID();
  const startedAt = clock.now();
  const what = OPERATION[capability];
  const passMark = policy.capabilities.eval.passMark;
  const maxOutputTokens = policy.capabilities.eval.maxOutputTokens;

  // A request can choose what it is priced as (a TTS voice): refuse a model the price table
  // does not know before anything is spent, as createAiClient does for providers' defaults.
  for (const key of chain) {
    const provider = ctx.providers.get(key)!;
    const modelId = modelIdFor(provider, req);
    if (modelId !== provider.modelId && ctx.pricer.rowsFor(capability, modelId).length === 0) {
      throw new AiError('invalid_request', `${what}: invalid request: voice: no price for '${modelId}' (provider ${key}) in price table ${ctx.pricer.table.version}; add a row with pricing.rows`, {
        retryable: false,
      });
    }
  }

  const deadlineMs = opts.deadlineMs ?? cap.deadlineMs;
  // The deadline starts before the budget is asked, so a slow budget store cannot stretch the call.
  const deadline = new Deadline(clock, deadlineMs, opts.signal, ctx.closing);

  // Budget: the worst single attempt across the chain (two when hedging) is reserved before
  // anything is sent; every further attempt tops the reservation up before it is made.
  const budgetOn = ctx.budget.enabled;
  const limits = budgetOn ? ctx.budget.limitsFor(opts.sessionId, startedAt) : [];
  const reservationTtlMs = deadlineMs + RESERVATION_GRACE_MS;
  const worstMicroByKey = new Map<string, number>();
  if (budgetOn && limits.length) {
    const units = worstCaseUnits(capability, req, maxOutputTokens, passMark);
    for (const key of chain) worstMicroByKey.set(key, ctx.pricer.costMicro(capability, modelIdFor(ctx.providers.get(key)!, req), units));
    const sorted = [...worstMicroByKey.values()].sort((a, b) => b - a);
    const initial = (sorted[0] ?? 0) + (cap.hedgeAfterMs !== undefined ? (sorted[1] ?? 0) : 0);
    try {
      await reserveWithin(ctx, callId, initial, limits, reservationTtlMs, what, deadline.signal);
    } catch (e) {
      deadline.dispose();
      if (isAiError(e) && e.code === 'budget_exceeded') emit(events, 'onBudgetRefused', { capability, callId, message: e.message });
      if (isAiError(e)) throw e;
      throw callError(capability, what, [], [], abortCauseOf(deadline.signal), deadlineMs);
    }
  }

  const attempts: AttemptInfo[] = [];
  const topUps: string[] = [];
  let attemptCounter = 0;
  // Attempts that reached a provider (breaker skips cost nothing and need no reservation).
  let providerAttempts = 0;
  // Top-up reservation ids: numbered synchronously, so two hedged lanes never share one.
  let topUpSeq = 0;
  let totalMicro = 0;
  let budgetFailure: AiError | undefined;
  let reservedAttempts = budgetOn && limits.length ? (cap.hedgeAfterMs !== undefined ? 2 : 1) : Infinity;

  const record = (info: AttemptInfo, units: UsageUnits, error: AiError | undefined, costMicro: number): void => {
    attempts.push(info);
    const provider = ctx.providers.get(info.providerKey)!;
    const row: UsageRecord = {
      id: randomUUID(),
      callId,
      attempt: info.attempt,
      ...(opts.sessionId !== undefined && { sessionId: opts.sessionId }),
      ...(opts.eventId !== undefined && { eventId: opts.eventId }),
      providerType: capability,
      providerName: provider.name,
      modelId: info.modelId,
      ...(units.tokensIn !== undefined && { tokensIn: units.tokensIn }),
      ...(units.tokensOut !== undefined && { tokensOut: units.tokensOut }),
      ...(units.audioDurationMs !== undefined && { audioDurationMs: units.audioDurationMs }),
      ...(units.characters !== undefined && { characters: units.characters }),
      latencyMs: info.latencyMs,
      success: info.outcome === 'success',
      ...(error && { errorCode: error.code, errorMessage: error.message }),
      estimatedCostUsd: microToUsd(costMicro),
      priceVersion: ctx.pricer.table.version,
      createdAt: new Date(info.startedAt + info.latencyMs),
    };
    ctx.usage.write(row);
    emit(events, 'onAttempt', { ...info, capability, callId });
  };

  type AttemptOutcome =
    | { ok: true; raw: RawResult; evalOutput?: ReturnType<typeof checkEvalOutput> }
    | { ok: false; error: AiError; abortCause?: AbortCause; limiterRefused?: boolean };

  const runAttempt = async (key: string, provider: Provider, laneSignal: AbortSignal): Promise<AttemptOutcome> => {
    const n = ++attemptCounter;
    providerAttempts++;
    const t0 = clock.now();
    const timeoutMs = Math.max(1, Math.min(cap.attemptTimeoutMs, deadline.at - t0));
    const child = new ChildAbort(laneSignal);
    const timer = clock.setTimeout(() => child.abort('attempt_timeout', `attempt timed out after ${timeoutMs} ms`), timeoutMs);
    const limiter = ctx.limiters.get(`${capability}:${key}`);
    let release: (() => void) | undefined;
    let raw: RawResult | undefined;
    let outcome: AttemptOutcome;
    let waitingForSlot = limiter !== undefined;
    try {
      if (limiter) release = await limiter.acquire(child.signal, Math.min(cap.rateLimit?.maxWaitMs ?? timeoutMs, timeoutMs), key);
      waitingForSlot = false;
      const actx: AttemptContext = { signal: child.signal, attempt: n, deadlineAt: deadline.at, attemptDeadlineAt: t0 + timeoutMs };
      if (capability === 'eval') {
        actx.passMark = passMark;
        actx.maxOutputTokens = maxOutputTokens;
      }
      const p =
        provider.capability === 'stt'
          ? provider.transcribe(req as never, actx)
          : provider.capability === 'tts'
            ? provider.synthesize(req as never, actx)
            : provider.evaluate(req as never, actx);
      raw = await raceAbort<RawResult>(p, child.signal);
      if (capability === 'eval') {
        const evalOutput = checkEvalOutput((raw as EvalProviderResult).output, passMark, key);
        outcome = { ok: true, raw, evalOutput };
      } else {
        outcome = { ok: true, raw };
      }
    } catch (e) {
      if (child.signal.aborted) {
        const cause = abortCauseOf(child.signal) ?? 'caller';
        outcome = { ok: false, error: errorForAbort(cause, key, timeoutMs), abortCause: cause };
      } else if (isAiError(e)) {
        // A refusal by our own limiter says nothing about the provider's health.
        outcome = { ok: false, error: e, ...(waitingForSlot && { limiterRefused: true }) };
      } else {
        outcome = {
          ok: false,
          // Only the error's kind goes into the message: a foreign error's text may quote the request.
          // The cause keeps the kind only: a foreign error may hold request bodies or headers.
          error: new AiError('unavailable', `${key}: provider failed unexpectedly (${errorKind(e)})`, { provider: key, retryable: true, cause: { kind: errorKind(e) } }),
        };
      }
    } finally {
      clock.clearTimeout(timer);
      release?.();
      child.dispose();
    }
    // A schema-violating or unusable answer was still generated and billed: its tokens and
    // cost count, whether the core found the fault (raw kept) or the adapter did (error.usage).
    const units: UsageUnits = raw ? unitsOf(capability, raw) : !outcome.ok && outcome.error.usage ? { ...outcome.error.usage, requests: 1 } : {};
    const modelId = raw?.modelId ?? modelIdFor(provider, req);
    const costMicro = raw || (!outcome.ok && outcome.error.usage) ? ctx.pricer.costMicro(capability, modelId, units) : 0;
    totalMicro += costMicro;
    const info: AttemptInfo = {
      attempt: n,
      providerKey: key,
      provider: provider.name,
      modelId,
      outcome: outcome.ok ? 'success' : outcome.abortCause === 'hedge_lost' ? 'hedge_lost' : 'error',
      ...(!outcome.ok && { errorCode: outcome.error.code, retryable: outcome.error.retryable }),
      startedAt: t0,
      latencyMs: clock.now() - t0,
      costUsd: microToUsd(costMicro),
    };
    record(info, units, outcome.ok ? undefined : outcome.error, costMicro);
    return outcome;
  };

  const fatalCause = (signal: AbortSignal): boolean => {
    const c = abortCauseOf(signal);
    return c === 'caller' || c === 'deadline' || c === 'closing';
  };

  type Won = { raw: RawResult; key: string; evalOutput?: ReturnType<typeof checkEvalOutput> };

  const runStep = async (laneSignal: AbortSignal, index: number): Promise<StepOutcome<Won>> => {
    const key = chain[index]!;
    const provider = ctx.providers.get(key)!;
    const breaker = ctx.breakers.get(`${capability}:${key}`)!;
    let made = 0;
    while (true) {
      const permit = breaker.acquire();
      if (permit === 'rejected') {
        const error = new AiError('circuit_open', `${key}: circuit breaker open, provider skipped (retry in ${breaker.retryInMs()} ms)`, {
          provider: key,
          retryable: true,
          retryAfterMs: breaker.retryInMs(),
        });
        if (made === 0) {
          const t = clock.now();
          record(
            { attempt: ++attemptCounter, providerKey: key, provider: provider.name, modelId: modelIdFor(provider, req), outcome: 'skipped', errorCode: 'circuit_open', retryable: true, startedAt: t, latencyMs: 0, costUsd: 0 },
            {},
            error,
            0,
          );
        }
        return { ok: false, error };
      }
      if (providerAttempts >= reservedAttempts) {
        // Every attempt past the reserved ones needs its own reservation first.
        const id = `${callId}#top${++topUpSeq}`;
        reservedAttempts++;
        try {
          await reserveWithin(ctx, id, worstMicroByKey.get(key) ?? 0, limits, reservationTtlMs, what, laneSignal);
          topUps.push(id);
        } catch (e) {
          breaker.onNeutral(permit);
          if (isAiError(e)) {
            budgetFailure = e;
            return { ok: false, error: e, fatal: true };
          }
          // The lane was aborted while waiting (deadline, caller, lost hedge): no attempt is made.
          return { ok: false, error: errorForAbort(abortCauseOf(laneSignal) ?? 'caller', key, 0), fatal: fatalCause(laneSignal) };
        }
      }
      const outcome = await runAttempt(key, provider, laneSignal);
      made++;
      if (outcome.ok) {
        breaker.onSuccess(permit);
        return { ok: true, value: { raw: outcome.raw, key, ...(outcome.evalOutput && { evalOutput: outcome.evalOutput }) } };
      }
      const error = outcome.error;
      const ourAbort = outcome.abortCause !== undefined && outcome.abortCause !== 'attempt_timeout';
      if (!ourAbort && !outcome.limiterRefused && countsAsBreakerFailure(error.code)) breaker.onFailure(permit);
      else breaker.onNeutral(permit);
      if (laneSignal.aborted) return { ok: false, error, fatal: fatalCause(laneSignal) };
      const decision = decideRetry(error, made, cap.retry, deadline.at - clock.now(), ctx.random);
      if (!decision.retry) return { ok: false, error };
      emit(events, 'onRetry', { capability, callId, providerKey: key, attempt: attemptCounter, delayMs: decision.delayMs, errorCode: error.code });
      try {
        await sleep(clock, decision.delayMs, laneSignal);
      } catch {
        return { ok: false, error, fatal: fatalCause(laneSignal) };
      }
    }
  };

  let walk;
  try {
    walk = await walkChain<Won>(
      chain.map(() => runStep),
      {
        signal: deadline.signal,
        clock,
        ...(cap.hedgeAfterMs !== undefined && { hedgeAfterMs: cap.hedgeAfterMs }),
        onHedge: (index) => emit(events, 'onHedge', { capability, callId, providerKey: chain[index]!, index }),
        onFallback: (index, error) =>
          emit(events, 'onFallback', { capability, callId, providerKey: chain[index]!, index, errorCode: isAiError(error) ? error.code : undefined }),
      },
    );
  } finally {
    deadline.dispose();
    if (budgetOn && limits.length) {
      // Settling never holds up the answer; the client's close() waits for it.
      ctx.background(ctx.budget.settle(callId, topUps, totalMicro, clock, (error) => emit(events, 'onBackgroundError', { where: 'budget_settle', error })));
    }
  }

  const latencyMs = clock.now() - startedAt;
  if (walk.ok) {
    const { raw, key } = walk.value;
    const provider = ctx.providers.get(key)!;
    return {
      raw,
      ...(walk.value.evalOutput && { evalOutput: walk.value.evalOutput }),
      meta: {
        callId,
        provider: provider.name,
        providerKey: key,
        modelId: raw.modelId ?? modelIdFor(provider, req),
        attempts,
        latencyMs,
        costUsd: microToUsd(totalMicro),
      },
    };
  }
  if (budgetFailure) {
    // Refused (or the store failed) before an attempt: keep the budget's own code.
    throw new AiError(budgetFailure.code, budgetFailure.message, { retryable: budgetFailure.retryable, attempts, cause: budgetFailure });
  }
  throw callError(capability, what, walk.errors, attempts, abortCauseOf(deadline.signal), deadlineMs);
}

/** The model a request will be priced as: what the provider says for this request, else its model. */
export function modelIdFor(provider: Provider, req: unknown): string {
  return provider.capability === 'tts' && provider.modelIdFor ? provider.modelIdFor(req as TtsRequest) : provider.modelId;
}

function callError(
  capability: Capability,
  what: string,
  errors: unknown[],
  attempts: AttemptInfo[],
  abortCause: AbortCause | undefined,
  deadlineMs: number,
): AiError {
  const last = errors[errors.length - 1];
  const summary = summarize(attempts);
  if (abortCause === 'caller' || abortCause === 'closing') {
    return new AiError('cancelled', `${what}: cancelled after ${attempts.length} attempt(s)${summary}`, { retryable: false, attempts, cause: last });
  }
  if (abortCause === 'deadline') {
    return new AiError('timeout', `${what}: call deadline of ${deadlineMs} ms passed after ${attempts.length} attempt(s)${summary}`, {
      retryable: true,
      attempts,
      cause: last,
    });
  }
  if (attempts.length > 0 && attempts.every((a) => a.outcome === 'skipped')) {
    const waits = errors.filter(isAiError).map((e) => e.retryAfterMs ?? 0);
    return new AiError('circuit_open', `${what}: every provider's circuit breaker is open (${attempts.map((a) => a.providerKey).join(', ')})`, {
      retryable: true,
      retryAfterMs: waits.length ? Math.min(...waits) : undefined,
      attempts,
    });
  }
  const retryable = errors.some((e) => isAiError(e) && e.retryable);
  return new AiError('exhausted', `${what}: every provider in the ${capability} chain failed${summary}`, { retryable, attempts, cause: last });
}

function summarize(attempts: AttemptInfo[]): string {
  if (attempts.length === 0) return '';
  const parts = attempts.map((a) => `${a.providerKey}#${a.attempt} ${a.outcome === 'success' ? 'ok' : (a.errorCode ?? a.outcome)}`);
  return ` (${parts.join(', ')})`;
}
