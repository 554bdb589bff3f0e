// Per-call cost of telemetry around an instant evaluator: the untraced client, the same client
// with openTelemetry() but no OpenTelemetry SDK registered (the global providers are the API's
// no-ops), and with the SDK on (a tracer provider with a batch span processor and a meter
// provider with a reader, both exporting nowhere), under an AsyncLocalStorage context manager
// as a host registers one. The three run in alternating rounds (order rotated per round) in
// this one process; the figures that decide are the differences taken within a round.
// Run: pnpm --filter @korean-together/core exec tsx bench/telemetry.bench.ts (also part of `pnpm bench`)
import os from 'node:os';
import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { createAiClient, definePolicy, type AiClient, type EvalProvider, type EvalRequest, type UsageRecord } from '../src/index.js';
import { openTelemetry } from '../src/otel/index.js';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const WARMUP = 5_000;

const good = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };
const evalReq: EvalRequest = { prompt: '자기소개를 하세요', learnerAnswer: '저는 학생입니다', targetFormality: 'hapsyo' };
const provider: EvalProvider = { capability: 'eval', name: 'gemini', modelId: 'gemini-2.5-flash', evaluate: async () => ({ output: good, tokensIn: 120, tokensOut: 60 }) };
let rows = 0;
const sink = { write: (_r: UsageRecord) => void rows++, flush: async () => {}, close: async () => {} };

/** Exports nowhere: what the SDK does up to the wire. */
let exported = 0;
const nowhere: SpanExporter = {
  export: (spans: ReadableSpan[], done) => {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => {},
};
class DiscardingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const policy = definePolicy({});
const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: nowhere, maxQueueSize: 100_000, maxExportBatchSize: 2_048, scheduledDelayMillis: 200 })] });
const reader = new DiscardingReader();
const meterProvider = new MeterProvider({ readers: [reader] });

type Variant = 'untraced' | 'noSdk' | 'sdk' | 'sdkTraces' | 'sdkMetrics' | 'sdkFloor';
const LABEL: Record<Variant, string> = {
  untraced: 'untraced client',
  noSdk: 'openTelemetry(), no SDK registered',
  sdk: 'openTelemetry(), SDK on (spans + metrics, exported nowhere)',
  sdkTraces: 'openTelemetry({ metrics: false }), SDK on',
  sdkMetrics: 'openTelemetry({ traces: false }), SDK on',
  sdkFloor: 'reference: untraced call + the same spans, event and histogram records made by hand',
};
const untraced = createAiClient({ policy, providers: { p: provider }, sinks: [sink] });
const clients = {
  untraced,
  noSdk: createAiClient({ policy, providers: { p: provider }, sinks: [sink], telemetry: openTelemetry() }),
  sdk: createAiClient({ policy, providers: { p: provider }, sinks: [sink], telemetry: openTelemetry({ tracerProvider, meterProvider }) }),
  sdkTraces: createAiClient({ policy, providers: { p: provider }, sinks: [sink], telemetry: openTelemetry({ tracerProvider, metrics: false }) }),
  sdkMetrics: createAiClient({ policy, providers: { p: provider }, sinks: [sink], telemetry: openTelemetry({ meterProvider, traces: false }) }),
};

// The SDK's own floor for what one traced call emits: a CLIENT span with 14 attributes, a child
// span with 7, one event with 3, and the three histogram records (duration, input and output
// tokens) with the conventions' attribute sets. Whatever the observer adds on top is ours.
const floorTracer = tracerProvider.getTracer('floor');
const floorMeter = meterProvider.getMeter('floor');
const floorDuration = floorMeter.createHistogram('floor.duration');
const floorTokens = floorMeter.createHistogram('floor.tokens');
const attrs = (n: number, tag: string): Attributes => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${tag}.${i}`, i % 2 ? i : `v${i}`]));
const metricAttrs = { 'gen_ai.operation.name': 'generate_content', 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.request.model': 'gemini-2.5-flash', 'gen_ai.response.model': 'gemini-2.5-flash' };
async function floorCall(): Promise<void> {
  const parent = context.active();
  const start = Date.now();
  const span = floorTracer.startSpan('generate_content gemini-2.5-flash', { kind: SpanKind.CLIENT, startTime: start, attributes: attrs(8, 'a') }, parent);
  const child = trace.setSpan(parent, span);
  await untraced.eval.evaluate(evalReq);
  floorTracer.startSpan('attempt p', { kind: SpanKind.INTERNAL, startTime: start, attributes: attrs(7, 'b') }, child).end(Date.now());
  span.setAttributes(attrs(6, 'c'));
  span.addEvent('gen_ai.evaluation.result', attrs(3, 'e'), Date.now());
  span.end(Date.now());
  floorDuration.record(0.001, metricAttrs);
  floorTokens.record(120, { ...metricAttrs, 'gen_ai.token.type': 'input' });
  floorTokens.record(60, { ...metricAttrs, 'gen_ai.token.type': 'output' });
}
const run: Record<Variant, () => Promise<unknown>> = {
  untraced: () => clients.untraced.eval.evaluate(evalReq),
  noSdk: () => clients.noSdk.eval.evaluate(evalReq),
  sdk: () => clients.sdk.eval.evaluate(evalReq),
  sdkTraces: () => clients.sdkTraces.eval.evaluate(evalReq),
  sdkMetrics: () => clients.sdkMetrics.eval.evaluate(evalReq),
  sdkFloor: floorCall,
};

async function meanUs(fn: () => Promise<unknown>, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1_000 / n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const fmt = (x: number, d = 2) => x.toFixed(d);
const names: Variant[] = ['untraced', 'noSdk', 'sdk', 'sdkTraces', 'sdkMetrics', 'sdkFloor'];

const load1 = os.loadavg()[0] ?? 0;
for (const v of names) await meanUs(run[v], WARMUP);
const perRound: Record<Variant, number[]> = { untraced: [], noSdk: [], sdk: [], sdkTraces: [], sdkMetrics: [], sdkFloor: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!);
  for (const v of order) perRound[v].push(await meanUs(run[v], CALLS));
}
const added = (v: Variant) => perRound[v].map((us, i) => us - perRound.untraced[i]!);
const noSdkAdded = median(added('noSdk'));
const sdkAdded = median(added('sdk'));
const floorAdded = median(added('sdkFloor'));
const oursBeyondFloor = median(perRound.sdk.map((us, i) => us - perRound.sdkFloor[i]!));
await tracerProvider.forceFlush();
const columns = ['variant', 'median us/call', 'added vs untraced, us (median of per-round differences)', 'min..max added, us'];
const table = names.map((v) => {
  const a = added(v);
  return [LABEL[v], fmt(median(perRound[v])), v === 'untraced' ? '-' : fmt(median(a)), v === 'untraced' ? '-' : `${fmt(Math.min(...a))}..${fmt(Math.max(...a))}`];
});
printTable(columns, table);
console.log(`spans exported: ${exported}, usage rows: ${rows}`);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

writeBenchSection(
  'telemetry',
  `## Telemetry overhead (\`packages/core/bench/telemetry.bench.ts\`)

${machineLine()}; 1-minute load average ${fmt(load1)} when the run started (the machine is shared).
One eval call after another on an evaluator that answers at once (no rate limit, no budget), mean
per call over ${CALLS} calls, ${ROUNDS} rounds with the six variants in rotated order; an
AsyncLocalStorage context manager is registered for all of them. "SDK on" is a tracer provider
with a batch span processor and a meter provider with a reader, both exporting nowhere: the
spans and metrics are made, attributed, ended and aggregated, nothing is sent.

${markdownTable(columns, table)}

- No SDK registered: ${fmt(noSdkAdded)} us added per call (goal: within 1 us of untraced; ${verdict(Math.abs(noSdkAdded) < 1)}).
  The observer finds the global providers are the API's no-ops (two identity checks) and leaves
  the call untraced: no span, context, attribute or instrument is touched.
- SDK on: ${fmt(sdkAdded)} us added per call (goal: under 15 us; ${verdict(sdkAdded < 15)}): one call span and one
  attempt span with their attributes, the evaluation event, three histogram records
  (duration, input and output tokens); the counters add to cells read at collection.
- The reference row is what the SDK itself costs for the same output, made by hand in this run:
  ${fmt(floorAdded)} us. ${oursBeyondFloor < 1 ? `The observer's own work beyond it is within this machine's noise (median of per-round differences ${fmt(oursBeyondFloor)} us)` : `The observer adds ${fmt(oursBeyondFloor)} us per call beyond it (median of per-round differences)`}; the rest is the SDK's span, attribute and histogram work on this machine (in a
  CPU profile of the SDK-on client, the SDK's attribute hashing for the three histogram records
  and its attribute checks lead, with the garbage they leave). Traces alone or metrics alone
  cost the rows above.`,
);
for (const c of Object.values(clients)) await c.close();
await tracerProvider.shutdown();
await meterProvider.shutdown();
