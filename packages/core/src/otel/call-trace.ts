// One call's span, its attempts' child spans, its events and its metrics. Attempt spans are
// made when the attempt is recorded, with the attempt's own start and end times (the usage
// row's), so nothing is held open across the provider call; an attempt that may be retried
// waits for the retry decision to carry its delay, and is ended at its own end time either way.
import { SpanKind, SpanStatusCode, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { CallTrace, ObservedAttempt, ObservedCall } from '../engine/call-observer.js';
import { isAiError } from '../errors/ai-error.js';
import type { BreakerState } from '../policy/circuit-breaker.js';
import type { Capability, EvalResult, ResultMeta, SttRequest, SttResult, TtsRequest, TtsResult } from '../spec/types.js';
import { ATTR, genAiProviderName, operationName, OUTPUT_TYPE } from './attributes.js';
import { inputContent, outputContent, recordsContent, type RecordContent } from './content.js';
import type { Instruments } from './instruments.js';

/** What every trace of one client shares. */
export interface TraceShared {
  recordContent: RecordContent | undefined;
  /** Last breaker state each traced call saw, so a transition is an event once. */
  breakers: Map<string, BreakerState>;
  now(): number;
}

interface PendingAttempt {
  key: string;
  span: Span;
  endAt: number;
}

/** Integer micro-dollars as an exact decimal string of dollars ('0.000125'). */
export function usdString(micro: number): string {
  const abs = Math.abs(micro);
  return `${micro < 0 ? '-' : ''}${Math.floor(abs / 1e6)}.${String(abs % 1e6).padStart(6, '0')}`;
}

function errorType(error: unknown): string {
  if (isAiError(error)) return error.code;
  return error instanceof Error ? error.name : '_OTHER';
}

export class OtelCallTrace implements CallTrace {
  private readonly capability: Capability;
  private readonly op: string;
  private readonly requestModel: string;
  private provider: string;
  private pending: PendingAttempt[] | undefined;
  private tokensIn = 0;
  private tokensOut = 0;
  private cachedIn = 0;
  private sawTokens = false;
  private costMicro = 0;
  private firstOutputSeen = false;

  constructor(
    private readonly call: ObservedCall,
    private readonly span: Span | undefined,
    private readonly childContext: Context | undefined,
    private readonly tracer: Tracer | undefined,
    private readonly m: Instruments | undefined,
    private readonly shared: TraceShared,
  ) {
    const { capability, chain } = call.plan;
    const first = chain[0]!.provider;
    this.capability = capability;
    this.op = operationName(capability, first.name);
    this.requestModel = first.modelId;
    this.provider = genAiProviderName(first.name);
  }

  /** The call span's name and attributes at its start. */
  static startAttributes(call: ObservedCall, recordContent: RecordContent | undefined): { name: string; attributes: Attributes } {
    const { capability, chain } = call.plan;
    const first = chain[0]!.provider;
    const op = operationName(capability, first.name);
    const attributes: Attributes = {
      [ATTR.operation]: op,
      [ATTR.provider]: genAiProviderName(first.name),
      [ATTR.requestModel]: first.modelId,
      [ATTR.outputType]: OUTPUT_TYPE[capability],
      [ATTR.capability]: capability,
      [ATTR.callId]: call.callId,
      [ATTR.deadlineMs]: call.deadlineMs,
    };
    if (call.opts.sessionId !== undefined) attributes[ATTR.conversationId] = call.opts.sessionId;
    if (call.operation.endsWith('Stream')) attributes[ATTR.stream] = true;
    if (capability === 'stt') attributes[ATTR.language] = (call.req as SttRequest).languageCode ?? 'ko-KR';
    if (capability === 'tts' && (call.req as TtsRequest).voice !== undefined) attributes[ATTR.voice] = (call.req as TtsRequest).voice!;
    if (recordsContent(recordContent, capability)) Object.assign(attributes, inputContent(capability, call.req));
    return { name: `${op} ${first.modelId}`, attributes };
  }

  attempt({ info, units, costMicro, timeoutMs, error }: ObservedAttempt): void {
    this.costMicro += costMicro;
    if (units.tokensIn !== undefined || units.tokensOut !== undefined) {
      this.sawTokens = true;
      this.tokensIn += units.tokensIn ?? 0;
      this.tokensOut += units.tokensOut ?? 0;
      this.cachedIn += units.cachedTokensIn ?? 0;
    }
    const provider = genAiProviderName(info.provider);
    const m = this.m;
    if (m !== undefined) {
      const key = `${this.capability}|${info.providerKey}|${info.provider}|${info.modelId}|${info.outcome}|${info.errorCode ?? ''}`;
      const cell = m.cell(key, () => {
        const attrs: Attributes = { [ATTR.capability]: this.capability, [ATTR.provider]: provider, [ATTR.providerKey]: info.providerKey, [ATTR.requestModel]: info.modelId, [ATTR.outcome]: info.outcome };
        if (info.errorCode !== undefined) attrs[ATTR.errorType] = info.errorCode;
        return attrs;
      });
      cell.attempts++;
      cell.costMicro += costMicro;
      if (units.audioDurationMs !== undefined) cell.audioSeconds += units.audioDurationMs / 1000;
      if (units.characters !== undefined) cell.characters += units.characters;
    }
    if (this.tracer === undefined) return;
    // Few attributes: the SDK checks each one, and this span is made on every attempt.
    const attributes: Attributes = {
      [ATTR.provider]: provider,
      [ATTR.providerKey]: info.providerKey,
      [ATTR.requestModel]: info.modelId,
      [ATTR.attempt]: info.attempt,
      [ATTR.outcome]: info.outcome,
      [ATTR.costMicro]: costMicro,
    };
    if (costMicro > 0) attributes[ATTR.costUsd] = usdString(costMicro);
    if (info.outcome === 'hedge_lost') attributes[ATTR.hedgeLost] = true;
    else if (info.outcome === 'skipped') attributes[ATTR.breakerSkipped] = true;
    if (timeoutMs !== undefined) attributes[ATTR.timeoutMs] = timeoutMs;
    if (info.errorCode !== undefined) attributes[ATTR.errorType] = info.errorCode;
    if (info.retryable !== undefined) attributes[ATTR.retryable] = info.retryable;
    if (units.tokensIn !== undefined) attributes[ATTR.attemptTokensIn] = units.tokensIn;
    if (units.tokensOut !== undefined) attributes[ATTR.attemptTokensOut] = units.tokensOut;
    if (units.audioDurationMs !== undefined) attributes[ATTR.attemptAudioMs] = units.audioDurationMs;
    if (units.characters !== undefined) attributes[ATTR.characters] = units.characters;
    const span = this.tracer.startSpan(`attempt ${info.providerKey}`, { kind: SpanKind.INTERNAL, startTime: info.startedAt, attributes }, this.childContext);
    if (info.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? info.errorCode });
    const endAt = info.startedAt + info.latencyMs;
    this.endPending(info.providerKey);
    // A retryable failure may be retried: wait for the decision (retry() or anything after it).
    if (info.outcome === 'error' && info.retryable === true) (this.pending ??= []).push({ key: info.providerKey, span, endAt });
    else span.end(endAt);
  }

  retry(providerKey: string, delayMs: number): void {
    const pending = this.pending;
    if (pending === undefined) return;
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i]!;
      if (p.key !== providerKey) continue;
      p.span.setAttribute(ATTR.retryDelayMs, delayMs);
      p.span.end(p.endAt);
      pending.splice(i, 1);
      return;
    }
  }

  fallback(providerKey: string, index: number, errorCode: string | undefined): void {
    this.endPending(undefined);
    const attrs: Attributes = { [ATTR.providerKey]: providerKey, [ATTR.chainIndex]: index };
    if (errorCode !== undefined) attrs[ATTR.errorType] = errorCode;
    this.span?.addEvent('korean_together.fallback', attrs, this.shared.now());
  }

  hedge(providerKey: string, index: number): void {
    this.span?.addEvent('korean_together.hedge', { [ATTR.providerKey]: providerKey, [ATTR.chainIndex]: index }, this.shared.now());
  }

  breaker(key: string, state: BreakerState): void {
    const { breakers } = this.shared;
    const before = breakers.get(key) ?? 'closed';
    if (before === state) return;
    breakers.set(key, state);
    this.span?.addEvent('korean_together.breaker.transition', { [ATTR.breakerKey]: key, 'korean_together.breaker.from': before, [ATTR.breakerState]: state }, this.shared.now());
  }

  firstOutput(kind: 'result' | 'audio'): void {
    if (this.firstOutputSeen) return;
    this.firstOutputSeen = true;
    const now = this.shared.now();
    this.span?.setAttribute(ATTR.timeToFirstChunk, (now - this.call.startedAt) / 1000);
    this.span?.addEvent(kind === 'audio' ? 'korean_together.stream.first_audio' : 'korean_together.stream.first_result', undefined, now);
  }

  budgetRefused(message: string): void {
    this.span?.addEvent('korean_together.budget.refused', { [ATTR.budgetMessage]: message }, this.shared.now());
  }

  end(result: unknown, error: unknown): void {
    this.endPending(undefined);
    const now = this.shared.now();
    const meta = result === undefined ? undefined : (result as { meta: ResultMeta }).meta;
    if (meta !== undefined) this.provider = genAiProviderName(meta.provider);
    const type = error === undefined ? undefined : errorType(error);
    if (this.m !== undefined) this.recordMetrics(now, meta, type);
    const span = this.span;
    if (span === undefined) return;
    const attrs: Attributes = { [ATTR.provider]: this.provider, [ATTR.costMicro]: this.costMicro, [ATTR.costUsd]: usdString(this.costMicro) };
    if (this.sawTokens) {
      attrs[ATTR.tokensIn] = this.tokensIn;
      attrs[ATTR.tokensOut] = this.tokensOut;
      if (this.cachedIn > 0) attrs[ATTR.cachedTokensIn] = this.cachedIn;
    }
    if (meta !== undefined) {
      attrs[ATTR.responseModel] = meta.modelId;
      attrs[ATTR.providerKey] = meta.providerKey;
      attrs[ATTR.attemptCount] = meta.attempts.length;
      const cache = (meta as { cache?: string }).cache;
      if (cache !== undefined) attrs[ATTR.cache] = cache;
      this.resultAttributes(attrs, result);
      if (recordsContent(this.shared.recordContent, this.capability)) Object.assign(attrs, outputContent(this.capability, result));
    } else {
      attrs[ATTR.errorType] = type!;
      if (isAiError(error) && error.attempts !== undefined) attrs[ATTR.attemptCount] = error.attempts.length;
      span.setStatus({ code: SpanStatusCode.ERROR, message: isAiError(error) ? error.message : type });
    }
    span.setAttributes(attrs);
    if (this.capability === 'eval') this.evaluationEvent(span, result as EvalResult | undefined, type, now);
    span.end(now);
  }

  private resultAttributes(attrs: Attributes, result: unknown): void {
    if (this.capability === 'stt') attrs[ATTR.audioDuration] = (result as SttResult).audioDurationMs / 1000;
    else if (this.capability === 'tts') {
      const r = result as TtsResult;
      attrs[ATTR.characters] = r.characters;
      if (r.audioDurationMs !== undefined) attrs[ATTR.audioDuration] = r.audioDurationMs / 1000;
    }
  }

  /** The grade as a gen_ai.evaluation.result event (or the class of error the grading ended with). */
  private evaluationEvent(span: Span, result: EvalResult | undefined, type: string | undefined, now: number): void {
    const attrs: Attributes = { [ATTR.evalName]: 'korean_together.grade' };
    if (result !== undefined) {
      attrs[ATTR.evalScore] = result.score;
      attrs[ATTR.evalLabel] = result.passFail ? 'pass' : 'fail';
      if (result.primaryErrorType !== null) attrs[ATTR.primaryErrorType] = result.primaryErrorType;
      if (recordsContent(this.shared.recordContent, 'eval')) attrs[ATTR.evalExplanation] = result.rationale;
    } else attrs[ATTR.errorType] = type!;
    span.addEvent('gen_ai.evaluation.result', attrs, now);
  }

  private recordMetrics(now: number, meta: ResultMeta | undefined, type: string | undefined): void {
    const m = this.m!;
    const attrs: Attributes = { [ATTR.operation]: this.op, [ATTR.provider]: this.provider, [ATTR.requestModel]: this.requestModel };
    if (meta !== undefined) attrs[ATTR.responseModel] = meta.modelId;
    else attrs[ATTR.errorType] = type!;
    m.duration.record((now - this.call.startedAt) / 1000, attrs);
    if (this.sawTokens) {
      m.tokens.record(this.tokensIn, { ...attrs, [ATTR.tokenType]: 'input' });
      m.tokens.record(this.tokensOut, { ...attrs, [ATTR.tokenType]: 'output' });
    }
  }

  /** Ends attempts still waiting for a retry decision (of `key`, or all): none is coming. */
  private endPending(key: string | undefined): void {
    const pending = this.pending;
    if (pending === undefined || pending.length === 0) return;
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i]!;
      if (key !== undefined && p.key !== key) continue;
      p.span.end(p.endAt);
      pending.splice(i, 1);
    }
  }
}
