// `openTelemetry()`: the Telemetry a host hands createAiClient. Which tracer and meter to use is
// looked up per call (a host may register its SDK after making the client), but cheaply: with
// no SDK registered the global tracer provider is the API's proxy over its no-op provider and
// the meter provider is the no-op one, both recognised by identity, and the call is left
// untraced without making a span, a context or an attribute.
import { context, createNoopMeter, metrics, ProxyTracerProvider, SpanKind, trace, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { CallObserver, CallTrace, ObservedCall, ObservedClient, Telemetry } from '../engine/call-observer.js';
import type { BreakerState } from '../policy/circuit-breaker.js';
import { OtelCallTrace, type TraceShared } from './call-trace.js';
import type { RecordContent } from './content.js';
import { Instruments } from './instruments.js';

/** The instrumentation scope of every span and metric. */
export const INSTRUMENTATION_SCOPE = '@korean-together/core';

export interface OpenTelemetryOptions {
  /** Tracer provider for the spans. Default: the global one (`trace.getTracerProvider()`), looked up per call. */
  tracerProvider?: TracerProvider;
  /** Meter provider for the metrics. Default: the global one (`metrics.getMeterProvider()`), looked up per call. */
  meterProvider?: MeterProvider;
  /** Emit spans. Default true. */
  traces?: boolean;
  /** Record metrics. Default true. */
  metrics?: boolean;
  /**
   * Record learner content as span attributes: `true` for every capability, or per capability
   * (`{ eval: true }`). Eval: the prompt, answer and model answer (`gen_ai.input.messages`),
   * the grade and rationale (`gen_ai.output.messages`, `gen_ai.evaluation.explanation`); STT:
   * the transcript; TTS: the text. Audio and keys are never recorded. Default false.
   */
  recordContent?: RecordContent;
}

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();

/** A tracer provider that makes only no-op spans (the API's own, or one from another copy of the API). */
function isNoopTracerProvider(p: TracerProvider): boolean {
  return p === NOOP_TRACER_PROVIDER || p.constructor?.name === 'NoopTracerProvider';
}

class OpenTelemetryObserver implements CallObserver {
  private tracerProvider: TracerProvider | undefined;
  private tracer: Tracer | undefined;
  private meterProvider: MeterProvider | undefined;
  private instruments: Instruments | undefined;
  private closed = false;
  private readonly shared: TraceShared;

  constructor(
    private readonly options: OpenTelemetryOptions,
    private readonly client: ObservedClient,
  ) {
    this.shared = { recordContent: options.recordContent, breakers: new Map<string, BreakerState>(), now: () => client.now() };
    // The gauges (breakers, sinks) report from the start when a meter provider is there already.
    if (options.metrics !== false) this.currentInstruments();
  }

  startCall(call: ObservedCall): CallTrace | undefined {
    const tracer = this.options.traces === false ? undefined : this.currentTracer();
    const m = this.options.metrics === false || this.closed ? undefined : this.currentInstruments();
    if (tracer === undefined && m === undefined) return undefined;
    if (tracer === undefined) return new OtelCallTrace(call, undefined, undefined, undefined, m, this.shared);
    const parent = context.active();
    const { name, attributes } = OtelCallTrace.startAttributes(call, this.options.recordContent);
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: call.startedAt, attributes }, parent);
    // Not sampled: no attempt spans, only the metrics (if any).
    if (!span.isRecording()) return m === undefined ? undefined : new OtelCallTrace(call, undefined, undefined, undefined, m, this.shared);
    return new OtelCallTrace(call, span, trace.setSpan(parent, span), tracer, m, this.shared);
  }

  close(): void {
    this.closed = true;
    this.instruments?.closeGauges();
  }

  private currentTracer(): Tracer | undefined {
    let provider = this.options.tracerProvider ?? trace.getTracerProvider();
    // The global provider is a proxy; what it delegates to says whether an SDK is registered.
    const delegate = (provider as { getDelegate?: () => TracerProvider }).getDelegate;
    if (typeof delegate === 'function') provider = delegate.call(provider);
    if (provider !== this.tracerProvider) {
      this.tracerProvider = provider;
      this.tracer = isNoopTracerProvider(provider) ? undefined : provider.getTracer(INSTRUMENTATION_SCOPE);
    }
    return this.tracer;
  }

  private currentInstruments(): Instruments | undefined {
    const provider = this.options.meterProvider ?? metrics.getMeterProvider();
    if (provider !== this.meterProvider) {
      this.meterProvider = provider;
      this.instruments?.close();
      const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
      this.instruments = meter === NOOP_METER || meter.constructor?.name === 'NoopMeter' ? undefined : new Instruments(meter, this.client);
    }
    return this.instruments;
  }
}

/**
 * Traces and metrics for `createAiClient({ telemetry: openTelemetry() })`: a CLIENT span per
 * call after the GenAI semantic conventions, a child span per attempt, span events for
 * fallbacks, hedges, breaker transitions and budget refusals, the grade as a
 * `gen_ai.evaluation.result` event, and the GenAI client metrics with the SDK's counters and
 * gauges. Needs `@opentelemetry/api` (an optional peer dependency) and, to export anything, an
 * OpenTelemetry SDK registered by the host; without one a call costs what it costs untraced.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  return { observe: (client) => new OpenTelemetryObserver(options, client) };
}
