// OpenTelemetry for the example server, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: the Node
// SDK with OTLP/HTTP exporters (JSON) for traces and metrics, a SERVER span per HTTP request
// (its context is the active one while the route runs, so the AI calls of a turn are its
// children), and the AI client's telemetry (`openTelemetry()` from @korean-together/core/otel).
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { openTelemetry } from '@korean-together/core/otel';
import type { Telemetry } from '@korean-together/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface ServerTelemetryOptions {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (`/v1/traces`, `/v1/metrics` are added). */
  endpoint: string;
  /** `service.name` of every span and metric. Default 'korean-together-example-server'. */
  serviceName?: string;
  /** How often metrics are exported, ms. Default 60000. */
  metricIntervalMs?: number;
}

export interface ServerTelemetry {
  /** For `createAiClient({ telemetry })`. */
  client: Telemetry;
  /** Exports what is buffered and stops the SDK (call after the server has shut down). */
  shutdown(): Promise<void>;
}

/** The options from the environment (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_METRIC_EXPORT_INTERVAL), or undefined: telemetry off. */
export function telemetryFromEnv(env: NodeJS.ProcessEnv = process.env): ServerTelemetryOptions | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return undefined;
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    endpoint,
    ...(env.OTEL_SERVICE_NAME && { serviceName: env.OTEL_SERVICE_NAME }),
    ...(Number.isInteger(interval) && interval > 0 && { metricIntervalMs: interval }),
  };
}

/** Starts the Node SDK (registering the global tracer and meter providers and an AsyncLocalStorage context manager). */
export function startTelemetry(options: ServerTelemetryOptions): ServerTelemetry {
  const base = options.endpoint.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? 'korean-together-example-server',
    autoDetectResources: false,
    traceExporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
    metricReaders: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }), exportIntervalMillis: options.metricIntervalMs ?? 60_000 })],
    instrumentations: [],
  });
  sdk.start();
  // Learner content stays out of the telemetry (no recordContent).
  return { client: openTelemetry(), shutdown: () => sdk.shutdown() };
}

const SPAN = Symbol('request span');
type Traced = FastifyRequest & { [SPAN]?: Span };

/**
 * A SERVER span per request, named `{method} {route}`, parented on an incoming `traceparent`.
 * The rest of the request (hooks, the handler, the AI calls it makes) runs in its context.
 */
export function registerRequestSpans(app: FastifyInstance): void {
  const tracer = trace.getTracer('@korean-together/example-server');
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(`${request.method} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route } }, parent);
    (request as Traced)[SPAN] = span;
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = (request as Traced)[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
