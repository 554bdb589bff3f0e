import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { AiError, createAiClient, type AiClient, type AiClientEvents, type AiPolicy } from '@korean-together/core';
import { registerAiRoutes } from './ai-routes.js';
import type { DatabaseTimeouts } from './config.js';
import { openDatabase, type Database, type OpenDatabaseOptions } from './database.js';
import { registerDashboard } from './dashboard.js';
import { DrainState, closeConnectionsWhileDraining, trackRequests } from './drain-tracking.js';
import { errorHandler, notFoundHandler } from './error-replies.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerLiveRoutes, type LiveRoutesDeps } from './live-routes.js';
import { MAX_HEADER_BYTES, answerClientError } from './http-parser-errors.js';
import { BODY_LIMIT_BYTES, registerJsonBodyParser } from './json-body.js';
import { buildProviders, type AiBackend } from './providers.js';
import { defaultShutdownTimeoutMs, shutdownBudget, shutdownBudgetProblem } from './shutdown-budget.js';
import { createShutdown } from './shutdown-sequence.js';
import { registerStatsRoutes } from './stats-routes.js';
import { registerRequestSpans, type ServerTelemetry } from './telemetry.js';
import { tutoringPolicy } from './tutoring-policy.js';

export { MAX_HEADER_BYTES } from './http-parser-errors.js';
export { MAX_BODY_DEPTH } from './json-body.js';

export interface TutoringServerOptions {
  database: OpenDatabaseOptions;
  backend: AiBackend;
  /** A policy, or the path of a policy file. Default: examples/server/ai-policy.json. */
  policy?: AiPolicy | string;
  /** Fastify logger options; `false` for silence. Default: info-level JSON logs. */
  logger?: boolean | { level: string };
  /** After shutdown() starts, in-flight AI calls get this long before they are aborted, in ms. Default 8000. */
  shutdownDeadlineMs?: number;
  /**
   * shutdown() resolves (`forced: true`) at the latest this long after it starts, whatever the
   * database, the usage sink or the providers are doing, in ms. Default shutdownDeadlineMs + 1500,
   * also the least allowed: what is left after the deadline and the idle linger is the AI client's
   * and the usage sink's time to flush and spill (see shutdown-budget.ts).
   */
  shutdownTimeoutMs?: number;
  /** Pool timeouts when the server opens its own Postgres pool (`database.databaseUrl`). */
  databaseTimeouts?: Partial<DatabaseTimeouts>;
  /** Extra engine events (the server adds its own logging of breaker changes). */
  events?: AiClientEvents;
  /** OpenTelemetry (`startTelemetry()` in telemetry.ts): a span per request and the AI client's spans and metrics. Default: none. */
  telemetry?: Pick<ServerTelemetry, 'client'>;
  /**
   * The live turn (GET /v1/turns/live): its limits (default LIVE_LIMITS), speculative grading
   * (`speculateAtStability`, default 0.8; false for none) and a hook called with every turn as it starts.
   */
  live?: Pick<LiveRoutesDeps, 'limits' | 'onTurn' | 'speculateAtStability'>;
}

export interface TutoringServer {
  app: FastifyInstance;
  client: AiClient;
  db: Database;
  /**
   * Graceful stop: the listener closes (new connections are refused), requests on open
   * connections get 503 `unavailable` with `Connection: close` (/health and /ready still answer,
   * /ready with 503), in-flight requests finish (their AI calls are aborted once the deadline
   * passes), idle keep-alive sockets are closed, then the client drains and flushes the usage
   * sink and the database closes. The client's close starts by the deadline + 0.5 s even when a
   * request is still waiting on the database, so the sink always gets its share of the timeout
   * (see shutdown-budget.ts). `forced` tells whether the deadline had to cut calls short or the
   * timeout cut the closing short.
   */
  shutdown(): Promise<{ forced: boolean }>;
}

/**
 * Builds the tutoring API server: the AI client under the policy file, the database (migrated),
 * the usage sink, and every route. Does not listen; call `app.listen()`.
 */
export async function createTutoringServer(options: TutoringServerOptions): Promise<TutoringServer> {
  const deadlineMs = options.shutdownDeadlineMs ?? 8_000;
  const timeoutMs = options.shutdownTimeoutMs ?? defaultShutdownTimeoutMs(deadlineMs);
  const budgetProblem = shutdownBudgetProblem(deadlineMs, timeoutMs, { deadline: 'shutdownDeadlineMs', timeout: 'shutdownTimeoutMs' });
  if (budgetProblem) throw new AiError('invalid_config', `createTutoringServer: ${budgetProblem}`, { retryable: false });
  const policy = typeof options.policy === 'object' ? options.policy : tutoringPolicy(options.policy);
  const app = Fastify({
    logger: options.logger ?? { level: 'info' },
    bodyLimit: BODY_LIMIT_BYTES,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    clientErrorHandler: answerClientError,
    // Draining answers 503 itself (trackRequests in drain-tracking.ts), in the server's error shape.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    genReqId: () => randomUUID(),
  });
  const log = app.log;
  if (options.telemetry) registerRequestSpans(app);

  // The AI client and the usage sink get what the shutdown timeout leaves after the deadline, so
  // the sink has spilled what the database did not take before the timeout could cut it.
  const budget = shutdownBudget(deadlineMs, timeoutMs);
  const db = await openDatabase({
    ...options.database,
    ...(options.databaseTimeouts && { timeouts: options.databaseTimeouts }),
    sinkTimeouts: { flushTimeoutMs: budget.sinkFlushTimeoutMs, closeTimeoutMs: budget.sinkCloseTimeoutMs },
    onSinkError: (e) => log.warn({ code: (e as { code?: string }).code }, `usage sink: ${e.message}`),
  });
  const providerSet = buildProviders(options.backend);
  const client = createAiClient({
    policy,
    providers: providerSet.providers,
    sinks: [db.sink],
    closeTimeoutMs: budget.clientCloseTimeoutMs,
    ...(options.telemetry && { telemetry: options.telemetry.client }),
    events: {
      ...options.events,
      onBreak: (e) => {
        log.warn({ breaker: e.key, failures: e.failures }, `circuit breaker ${e.key} opened for ${e.cooldownMs} ms`);
        options.events?.onBreak?.(e);
      },
      onReset: (e) => {
        log.info({ breaker: e.key }, `circuit breaker ${e.key} closed`);
        options.events?.onReset?.(e);
      },
      onBackgroundError: (e) => {
        log.warn({ where: e.where }, 'background error in the AI client');
        options.events?.onBackgroundError?.(e);
      },
    },
  });

  const shutdownAbort = new AbortController();
  const drain = new DrainState();

  app.setErrorHandler(errorHandler);
  registerJsonBodyParser(app);
  app.setNotFoundHandler(notFoundHandler);

  registerAiRoutes(app, { client, db, shutdownSignal: shutdownAbort.signal });
  registerLiveRoutes(app, { client, db, shutdownSignal: shutdownAbort.signal, ...options.live });
  registerStatsRoutes(app, { client, db });
  registerHealthRoutes(app, { client, db, isShuttingDown: () => drain.shuttingDown });
  trackRequests(app, drain);
  registerDashboard(app);
  closeConnectionsWhileDraining(app, drain);
  const shutdown = createShutdown({ app, client, providerSet, db, drain, shutdownAbort, budget, deadlineMs, timeoutMs });

  return { app, client, db, shutdown };
}
