// The spans and metrics of a call, read back through the real OpenTelemetry SDK (in-memory span
// exporter, a metric reader), on the virtual clock: a call whose first chain step is skipped
// by its open breaker, whose second fails once, is retried and is then out-raced by a hedge on
// the third.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiClient, type AiClient } from '../client.js';
import { definePolicy } from '../policy/ai-policy.js';
import { usdToMicro } from '../pricing/cost.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ArraySink, fakeEval, unavailable } from '../testing/fakes.js';
import { openTelemetry, type OpenTelemetryOptions } from './index.js';

const LEARNER_TEXT = '저는 학교에 갔어요 비밀문장';
const PLANTED_KEY = 'sk-planted-0123456789abcdef';
const evalReq = { prompt: '어제 뭐 했어요?', learnerAnswer: LEARNER_TEXT, targetFormality: 'haeyo' as const };

interface Rig {
  client: AiClient;
  clock: FakeClock;
  spans: InMemorySpanExporter;
  metrics: () => Promise<MetricData[]>;
  sink: ArraySink;
  tracerProvider: TracerProvider;
  retryDelaysMs: number[];
}

function rig(telemetry: Omit<OpenTelemetryOptions, 'tracerProvider' | 'meterProvider'> = {}): Rig {
  const clock = new FakeClock();
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const sink = new ArraySink();
  const retryDelaysMs: number[] = [];
  // The planted key sits where a careless tracer could pick it up: on the provider object.
  const down = Object.assign(fakeEval([{ error: unavailable() }], { name: 'gemini', clock }), { apiKey: PLANTED_KEY });
  const flaky = fakeEval([{ ok: true, afterMs: 20 }, { error: unavailable(), afterMs: 50 }, { ok: true, afterMs: 5_000 }], { name: 'gemini', clock });
  const fast = fakeEval([{ ok: true, afterMs: 100 }], { name: 'openai', modelId: 'gpt-4.1-mini', clock, tokensIn: 700, tokensOut: 90 });
  const policy = definePolicy({
    capabilities: {
      eval: {
        chain: ['down', 'flaky', 'fast'],
        hedgeAfterMs: 300,
        attemptTimeoutMs: 8_000,
        retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 100 },
        circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
      },
    },
  });
  const client = createAiClient({
    policy,
    providers: { down, flaky, fast },
    sinks: [sink],
    clock,
    random: () => 0.5,
    events: { onRetry: (e) => retryDelaysMs.push(e.delayMs) },
    telemetry: openTelemetry({ ...telemetry, tracerProvider, meterProvider }),
  });
  const metrics = async (): Promise<MetricData[]> => {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    return last ? last.scopeMetrics.flatMap((s) => s.metrics) : [];
  };
  return { client, clock, spans, metrics, sink, tracerProvider, retryDelaysMs };
}

/** Runs the warm-up call (it opens `down`'s breaker) and the failing-over call. */
async function twoCalls(r: Rig, opts: { sessionId?: string } = {}): Promise<void> {
  const first = r.client.eval.evaluate(evalReq, { ...opts, metadata: { apiKey: PLANTED_KEY } });
  await r.clock.advance(1_000);
  await first;
  const second = r.client.eval.evaluate(evalReq, opts);
  await r.clock.advance(10_000);
  await second;
  // SimpleSpanProcessor exports asynchronously.
  await r.tracerProvider.forceFlush();
}

const callSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.parentSpanContext === undefined || !s.name.startsWith('attempt '));
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId).sort((a, b) => Number(a.attributes['korean_together.attempt.number']) - Number(b.attributes['korean_together.attempt.number']));

function metric(all: MetricData[], name: string): MetricData {
  const m = all.find((x) => x.descriptor.name === name);
  if (!m) throw new Error(`no metric ${name} (have ${all.map((x) => x.descriptor.name).join(', ')})`);
  return m;
}
const sumOf = (m: MetricData) => (m as SumMetricData).dataPoints.reduce((s, p) => s + (p.value as number), 0);

describe('openTelemetry(): spans', () => {
  let r: Rig;
  beforeAll(async () => {
    r = rig();
    await twoCalls(r, { sessionId: '6f1c1a7e-8a0e-4f55-9d5e-0c4a8c2b1d10' });
  });
  afterAll(() => r.client.close());

  it('one CLIENT span per call named "{operation} {request model}" with the GenAI attributes', () => {
    const calls = callSpans(r.spans.getFinishedSpans());
    expect(calls).toHaveLength(2);
    const second = calls[1]!;
    expect(second.name).toBe('generate_content gemini-2.5-flash');
    expect(second.kind).toBe(2); // SpanKind.CLIENT
    expect(second.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.response.model': 'gpt-4.1-mini',
      'gen_ai.provider.name': 'openai',
      'gen_ai.output.type': 'json',
      'gen_ai.conversation.id': '6f1c1a7e-8a0e-4f55-9d5e-0c4a8c2b1d10',
      'korean_together.provider.key': 'fast',
      'korean_together.call.attempts': 4,
    });
    // Usage on the call span is every billed attempt's: flaky's failed try bills nothing; its lost hedge nothing.
    const rows = r.sink.records.filter((x) => x.callId === second.attributes['korean_together.call.id']);
    expect(second.attributes['gen_ai.usage.input_tokens']).toBe(rows.reduce((s, x) => s + (x.tokensIn ?? 0), 0));
    expect(second.attributes['gen_ai.usage.output_tokens']).toBe(rows.reduce((s, x) => s + (x.tokensOut ?? 0), 0));
    const micro = rows.reduce((s, x) => s + usdToMicro(x.estimatedCostUsd ?? 0), 0);
    expect(second.attributes['korean_together.cost.micro_usd']).toBe(micro);
    expect(second.attributes['korean_together.cost.usd']).toBe(`0.${String(micro).padStart(6, '0')}`);
  });

  it('a child span per attempt: breaker skip, failure with its retry delay, lost hedge, winner', () => {
    const all = r.spans.getFinishedSpans();
    const second = callSpans(all)[1]!;
    const kids = childrenOf(all, second);
    expect(kids.map((k) => [k.name, k.attributes['korean_together.attempt.outcome']])).toEqual([
      ['attempt down', 'skipped'],
      ['attempt flaky', 'error'],
      ['attempt flaky', 'hedge_lost'],
      ['attempt fast', 'success'],
    ]);
    const [skip, failed, lost, won] = kids as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    expect(skip.attributes).toMatchObject({ 'korean_together.attempt.breaker_skipped': true, 'error.type': 'circuit_open', 'gen_ai.provider.name': 'gcp.gemini' });
    expect(skip.attributes['korean_together.attempt.timeout_ms']).toBeUndefined();
    expect(failed.attributes).toMatchObject({ 'error.type': 'unavailable', 'korean_together.attempt.retryable': true, 'korean_together.attempt.retry_delay_ms': r.retryDelaysMs.at(-1), 'korean_together.attempt.timeout_ms': 8_000 });
    expect(failed.status.code).toBe(2); // ERROR
    expect(lost.attributes['korean_together.attempt.hedge_lost']).toBe(true);
    expect(won.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1-mini', 'korean_together.usage.input_tokens': 700, 'korean_together.usage.output_tokens': 90 });
    // Times are the usage rows' (the virtual clock): the failed attempt took its 50 ms.
    const ms = (s: ReadableSpan) => s.duration[0] * 1e3 + s.duration[1] / 1e6;
    expect(ms(failed)).toBe(50);
    expect(ms(won)).toBe(100);
  });

  it('span events for the fallback, the hedge, the breaker opening and the grade', () => {
    const [first, second] = callSpans(r.spans.getFinishedSpans()) as [ReadableSpan, ReadableSpan];
    expect(first.events.find((e) => e.name === 'korean_together.breaker.transition')?.attributes).toEqual({ 'korean_together.breaker.key': 'eval:down', 'korean_together.breaker.from': 'closed', 'korean_together.breaker.state': 'open' });
    const names = second.events.map((e) => e.name);
    expect(names).toEqual(['korean_together.fallback', 'korean_together.hedge', 'gen_ai.evaluation.result']);
    expect(second.events[0]!.attributes).toMatchObject({ 'korean_together.provider.key': 'flaky', 'korean_together.chain.index': 1, 'error.type': 'circuit_open' });
    expect(second.events[2]!.attributes).toEqual({ 'gen_ai.evaluation.name': 'korean_together.grade', 'gen_ai.evaluation.score.value': 85, 'gen_ai.evaluation.score.label': 'pass' });
  });

  it('no learner content and no key in any attribute unless opted in', () => {
    const text = JSON.stringify(r.spans.getFinishedSpans().map((s) => [s.name, s.attributes, s.events, s.status]));
    expect(text).not.toContain(LEARNER_TEXT);
    expect(text).not.toContain(PLANTED_KEY);
    expect(text).not.toContain('Correct and polite.');
  });
});

describe('openTelemetry(): metrics', () => {
  it('token usage, cost and attempts by outcome equal the usage rows; duration in seconds; gauges for breakers and sinks', async () => {
    const r = rig();
    await twoCalls(r);
    const all = await r.metrics();
    const rows = r.sink.records;
    const tokens = metric(all, 'gen_ai.client.token.usage') as HistogramMetricData;
    const byType = (t: string) => tokens.dataPoints.filter((p) => p.attributes['gen_ai.token.type'] === t).reduce((s, p) => s + p.value.sum!, 0);
    expect(byType('input')).toBe(rows.reduce((s, x) => s + (x.tokensIn ?? 0), 0));
    expect(byType('output')).toBe(rows.reduce((s, x) => s + (x.tokensOut ?? 0), 0));
    expect(sumOf(metric(all, 'korean_together.client.cost'))).toBe(rows.reduce((s, x) => s + usdToMicro(x.estimatedCostUsd ?? 0), 0));
    const attempts = metric(all, 'korean_together.client.attempts') as SumMetricData;
    const counted: Record<string, number> = {};
    for (const p of attempts.dataPoints) counted[String(p.attributes['korean_together.attempt.outcome'])] = (counted[String(p.attributes['korean_together.attempt.outcome'])] ?? 0) + (p.value as number);
    const fromRows: Record<string, number> = {};
    for (const row of rows) {
      const outcome = row.success ? 'success' : row.errorCode === 'circuit_open' ? 'skipped' : row.errorCode === 'cancelled' ? 'hedge_lost' : 'error';
      fromRows[outcome] = (fromRows[outcome] ?? 0) + 1;
    }
    expect(counted).toEqual(fromRows);
    const duration = metric(all, 'gen_ai.client.operation.duration') as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.dataPoints.reduce((s, p) => s + p.value.count, 0)).toBe(2);
    // The second call: 50 ms failure, 100 ms backoff, then the hedge at 300 ms answers 100 ms later.
    expect(Math.max(...duration.dataPoints.map((p) => p.value.max!))).toBeCloseTo(0.4, 6);
    const breaker = metric(all, 'korean_together.breaker.state');
    expect(breaker.dataPoints.find((p) => p.attributes['korean_together.breaker.key'] === 'eval:down')?.value).toBe(2);
    await r.client.close();
  });

  it('the sink gauges read stats() when a sink has it', async () => {
    const clock = new FakeClock();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const sink = Object.assign(new ArraySink(), { stats: () => ({ pending: 7, spilled: 40, spillSegments: 3 }) });
    const client = createAiClient({ providers: { a: fakeEval([{ ok: true }], { clock }) }, sinks: [new ArraySink(), sink], clock, telemetry: openTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }) }) });
    await reader.forceFlush();
    const all = exporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics);
    expect(metric(all, 'korean_together.sink.pending').dataPoints.map((p) => [p.attributes['korean_together.sink.index'], p.value])).toEqual([[1, 7]]);
    expect(metric(all, 'korean_together.sink.spill.segments').dataPoints[0]!.value).toBe(3);
    expect(metric(all, 'korean_together.sink.spilled').dataPoints[0]!.value).toBe(40);
    await client.close();
  });
});

describe('openTelemetry(): content and context', () => {
  it('recordContent: { eval: true } records the learner text and the rationale, never the key', async () => {
    const r = rig({ recordContent: { eval: true } });
    await twoCalls(r);
    const second = callSpans(r.spans.getFinishedSpans())[1]!;
    expect(String(second.attributes['gen_ai.input.messages'])).toContain(LEARNER_TEXT);
    expect(String(second.attributes['gen_ai.output.messages'])).toContain('Correct and polite.');
    expect(second.events.at(-1)!.attributes!['gen_ai.evaluation.explanation']).toBe('Correct and polite.');
    expect(JSON.stringify(r.spans.getFinishedSpans().map((s) => [s.attributes, s.events]))).not.toContain(PLANTED_KEY);
    await r.client.close();
  });

  it('a call made inside an active span is its child', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const r = rig();
      const request = r.tracerProvider.getTracer('host').startSpan('POST /v1/turns');
      const p = context.with(trace.setSpan(context.active(), request), () => r.client.eval.evaluate(evalReq));
      await r.clock.advance(1_000);
      await p;
      request.end();
      await r.tracerProvider.forceFlush();
      const call = r.spans.getFinishedSpans().find((s) => s.name === 'generate_content gemini-2.5-flash')!;
      expect(call.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(call.spanContext().traceId).toBe(request.spanContext().traceId);
      await r.client.close();
    } finally {
      context.disable();
    }
  });

  it('with no SDK registered and no providers given, no call is observed', async () => {
    const clock = new FakeClock();
    const sink = new ArraySink();
    const telemetry = openTelemetry();
    const observer = telemetry.observe({ breakerStates: () => ({}), sinks: [], now: () => clock.now() });
    const client = createAiClient({ providers: { a: fakeEval([{ ok: true }], { clock }) }, sinks: [sink], clock, telemetry });
    const p = client.eval.evaluate(evalReq);
    await clock.advance(10);
    await p;
    expect(sink.records).toHaveLength(1);
    const fakeCall = { callId: 'x', operation: 'eval.evaluate', startedAt: 0, deadlineMs: 1, req: evalReq, opts: {}, plan: { capability: 'eval' as const, chain: [{ key: 'a', provider: fakeEval([]) }] } };
    expect(observer.startCall(fakeCall)).toBeUndefined();
    await client.close();
  });

  it('the global providers are looked up per call: an SDK registered after the client is made is used from the next call', async () => {
    const clock = new FakeClock();
    const client = createAiClient({ providers: { a: fakeEval([{ ok: true }], { clock }) }, clock, telemetry: openTelemetry() });
    const call = async () => {
      const p = client.eval.evaluate(evalReq);
      await clock.advance(10);
      await p;
    };
    await call();
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      await call();
      await provider.forceFlush();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['attempt a', 'chat gemini-2.5-flash']);
    } finally {
      trace.disable();
    }
    await call();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    await client.close();
  });
});
