import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pTimeout from 'p-timeout';
import { AiError, createAiClient, type AiClient, type AiClientEvents, type AiPolicy, type ResultMeta } from '@korean-together/core';
import type { DatabaseTimeouts } from './config.js';
import { openDatabase, type Database, type OpenDatabaseOptions } from './database.js';
import { registerDashboard } from './dashboard.js';
import { requestError, toHttpError, type HttpError } from './http-errors.js';
import { buildProviders, type AiBackend } from './providers.js';
import {
  NO_NUL_PATTERN,
  evaluateBody,
  statsQuery,
  sttBody,
  ttsBody,
  turnBody,
  type EvaluateBody,
  type StatsQuery,
  type SttBody,
  type TtsBody,
  type TurnBody,
} from './schemas.js';
import { IDLE_LINGER_MS, defaultShutdownTimeoutMs, shutdownBudget, shutdownBudgetProblem } from './shutdown-budget.js';
import { callStats, dailyCosts, evaluationStats, latencyOverWindow, latencyPercentiles } from './stats.js';
import { runTurn } from './turn.js';
import { tutoringPolicy } from './tutoring-policy.js';

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

/** Bodies up to this size are accepted: 10 MB of audio as base64, plus the other fields. */
const BODY_LIMIT_BYTES = 15 * 1024 * 1024;
/** The request line and headers together, URL included: Node's default, set here so a runtime flag cannot change it. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Arrays and objects nested deeper than this in a body are refused (the API's bodies are one flat object). */
export const MAX_BODY_DEPTH = 32;
/** Routes that still answer while the server drains: the probes. */
const PROBES = new Set(['/health', '/ready']);

/**
 * Errors Node's HTTP parser raises before a request exists (headers over MAX_HEADER_BYTES, a
 * malformed request line): answered with the server's JSON error shape instead of Node's or
 * Fastify's own body, then the connection closes.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? requestError(431, 'invalid_request', `request line and headers over ${MAX_HEADER_BYTES} bytes (the URL counts)`)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? requestError(408, 'invalid_request', 'the request was not received in time')
        : requestError(400, 'invalid_request', 'malformed HTTP request');
  const body = JSON.stringify(e.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  // end() rather than destroy(): the answer is flushed before the FIN, and what the client is
  // still sending (the rest of a long URL) is read and dropped instead of drawing a reset.
  socket.end();
  socket.on('data', () => {});
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * Refuses `__proto__` keys (and `constructor.prototype`) anywhere in a parsed body, naming where,
 * and bodies nested deeper than MAX_BODY_DEPTH. Iterative: JSON.parse takes 200,000 nested '['
 * (400 KB), which would overflow the stack of a recursive walk.
 */
function bodyProblem(body: unknown): string | undefined {
  // Depth-first: an object's own keys are checked before its children, which are visited in
  // document order (pushed last-first).
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: 'body', depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path, depth } = item;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) return `body: nested too deeply (more than ${MAX_BODY_DEPTH} levels of arrays and objects)`;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        if (value[i] !== null && typeof value[i] === 'object') stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      }
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return `${path}.__proto__: key '__proto__' is not allowed`;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return `${path}.constructor.prototype: key 'prototype' is not allowed`;
      }
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const child = (value as Record<string, unknown>)[keys[i]!];
      if (child !== null && typeof child === 'object') stack.push({ value: child, path: `${path}.${keys[i]}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * The JSON body parser. Native JSON.parse makes `__proto__` an ordinary own key (it never sets
 * the prototype), so such a body can be named and refused clearly instead of being called invalid JSON.
 */
function parseJsonBody(body: string): unknown {
  if (body.length === 0) throw new AiError('invalid_request', 'request body is empty', { retryable: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // The parser's message would quote the body (learner text): never echo it.
    throw new AiError('invalid_request', 'request body is not valid JSON', { retryable: false });
  }
  const problem = bodyProblem(parsed);
  if (problem) throw new AiError('invalid_request', problem, { retryable: false });
  return parsed;
}

function sendError(reply: FastifyReply, e: HttpError): FastifyReply {
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
  return reply.code(e.status).send(e.body);
}

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** 'body.text: must NOT have fewer than 1 characters'; names fields, never quotes values. */
function validationMessage(context: string | undefined, items: unknown): string {
  const first = (Array.isArray(items) ? items[0] : undefined) as ValidationItem | undefined;
  const where = [context ?? 'request', ...(first?.instancePath ?? '').split('/').filter(Boolean)].join('.');
  if (first?.keyword === 'additionalProperties') return `${where}: unknown field '${String(first.params?.additionalProperty)}'`;
  if (first?.keyword === 'dependencies') return `${where}: ${String(first.params?.property)} needs ${String(first.params?.missingProperty)}`;
  if (first?.keyword === 'pattern' && first.params?.pattern === NO_NUL_PATTERN) return `${where}: must not contain NUL (\\u0000) characters`;
  return `${where}: ${first?.message ?? 'invalid'}`;
}

/** A call's meta without anything the caller did not send: ids, providers, attempts, latency, cost. */
function publicMeta(meta: ResultMeta) {
  return {
    callId: meta.callId,
    provider: meta.provider,
    providerKey: meta.providerKey,
    modelId: meta.modelId,
    latencyMs: meta.latencyMs,
    costUsd: meta.costUsd,
    attempts: meta.attempts.map((a) => ({
      attempt: a.attempt,
      providerKey: a.providerKey,
      provider: a.provider,
      modelId: a.modelId,
      outcome: a.outcome,
      ...(a.errorCode && { errorCode: a.errorCode }),
      latencyMs: a.latencyMs,
      costUsd: a.costUsd,
    })),
  };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

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
    // Draining answers 503 itself (below), in the server's error shape.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    genReqId: () => randomUUID(),
  });
  const log = app.log;

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
  let shuttingDown = false;

  /** Aborted when the caller hangs up or the shutdown deadline passes. */
  function callSignal(reply: FastifyReply): AbortSignal {
    const ac = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) ac.abort();
    });
    return AbortSignal.any([ac.signal, shutdownAbort.signal]);
  }

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number; code?: string; validationContext?: string }, request, reply) => {
    if (error.validation) return sendError(reply, requestError(400, 'invalid_request', validationMessage(error.validationContext, error.validation)));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, requestError(413, 'payload_too_large', `request body over ${BODY_LIMIT_BYTES} bytes`));
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, requestError(415, 'invalid_request', 'content-type must be application/json'));
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendError(reply, requestError(400, 'invalid_request', 'request body is empty'));
    // The parser's message would quote the body (learner text): never echo it.
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return sendError(reply, requestError(400, 'invalid_request', 'request body is not valid JSON'));
    const http = toHttpError(error);
    if (http.status >= 500) request.log.error({ code: http.body.error.code }, `${request.method} ${request.routeOptions.url ?? ''}: ${http.body.error.message}`);
    return sendError(reply, http);
  });
  // Only JSON bodies: Fastify's text/plain parser would hand a string to the schema (a 400),
  // where a client sending the wrong type needs 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, requestError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));

  // ---- AI routes ------------------------------------------------------------------------

  app.post<{ Body: SttBody }>('/v1/stt', { schema: { body: sttBody } }, async (request, reply) => {
    const b = request.body;
    const r = await client.stt.transcribe(
      { audio: fromB64(b.audio), encoding: b.encoding, ...(b.sampleRateHertz && { sampleRateHertz: b.sampleRateHertz }), languageCode: b.languageCode ?? 'ko-KR' },
      { signal: callSignal(reply), ...(b.sessionId && { sessionId: b.sessionId }) },
    );
    return { transcript: r.transcript, ...(r.confidence !== undefined && { confidence: r.confidence }), audioDurationMs: r.audioDurationMs, meta: publicMeta(r.meta) };
  });

  app.post<{ Body: TtsBody }>('/v1/tts', { schema: { body: ttsBody } }, async (request, reply) => {
    const b = request.body;
    const r = await client.tts.synthesize(
      { text: b.text, ...(b.voice && { voice: b.voice }), ...(b.audioEncoding && { audioEncoding: b.audioEncoding }), ...(b.speakingRate && { speakingRate: b.speakingRate }) },
      { signal: callSignal(reply), ...(b.sessionId && { sessionId: b.sessionId }) },
    );
    return { audio: b64(r.audio), encoding: r.encoding, characters: r.characters, ...(r.audioDurationMs !== undefined && { audioDurationMs: r.audioDurationMs }), meta: publicMeta(r.meta) };
  });

  app.post<{ Body: EvaluateBody }>('/v1/evaluate', { schema: { body: evaluateBody } }, async (request, reply) => {
    const { sessionId, ...req } = request.body;
    const r = await client.eval.evaluate(req, { signal: callSignal(reply), ...(sessionId && { sessionId }) });
    const { meta, ...grade } = r;
    return { ...grade, meta: publicMeta(meta) };
  });

  app.post<{ Body: TurnBody }>('/v1/turns', { schema: { body: turnBody } }, async (request, reply) => {
    const b = request.body;
    if ((b.audio === undefined) === (b.text === undefined)) {
      throw new AiError('invalid_request', 'body: give either audio (with encoding) or text, not both', { retryable: false });
    }
    const t = await runTurn(
      { client, db: { queryable: db.queryable, schema: db.schema }, signal: callSignal(reply) },
      {
        sessionId: b.sessionId ?? randomUUID(),
        prompt: b.prompt,
        ...(b.activityId && { activityId: b.activityId }),
        ...(b.expectedAnswer && { expectedAnswer: b.expectedAnswer }),
        ...(b.targetFormality && { targetFormality: b.targetFormality }),
        ...(b.level && { level: b.level }),
        ...(b.audio && b.encoding && { audio: { data: fromB64(b.audio), encoding: b.encoding, ...(b.sampleRateHertz && { sampleRateHertz: b.sampleRateHertz }) } }),
        ...(b.text && { text: b.text }),
        ...(b.voice && { voice: b.voice }),
        ...(b.replyEncoding && { replyEncoding: b.replyEncoding }),
      },
    );
    const evaluation = t.evaluation ? (({ meta: _meta, ...grade }) => grade)(t.evaluation) : null;
    return {
      sessionId: t.sessionId,
      transcript: t.transcript,
      evaluation,
      reply: {
        text: t.reply.text,
        audio: t.reply.tts ? b64(t.reply.tts.audio) : null,
        encoding: t.reply.tts?.encoding ?? null,
        ...(t.reply.errorCode && { errorCode: t.reply.errorCode }),
      },
      eventIds: t.eventIds,
      calls: t.calls.map((c) => ({ capability: c.capability, purpose: c.purpose, ok: c.ok, ...(c.meta && { meta: publicMeta(c.meta) }), ...(c.errorCode && { errorCode: c.errorCode }) })),
      costUsd: t.calls.reduce((sum, c) => sum + (c.meta?.costUsd ?? 0), 0),
    };
  });

  // ---- stats ----------------------------------------------------------------------------

  app.get<{ Querystring: StatsQuery }>('/v1/stats/costs', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await dailyCosts(db, request.query.days) }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/evaluations', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await evaluationStats(db, request.query.days) }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/latency', { schema: { querystring: statsQuery } }, async (request) => ({
    days: request.query.days,
    rows: await latencyPercentiles(db, request.query.days),
    window: await latencyOverWindow(db, request.query.days),
  }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/calls', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await callStats(db, request.query.days) }));
  app.get('/v1/stats/breakers', async () => ({ breakers: client.breakerStates() }));

  // ---- health ---------------------------------------------------------------------------

  const startedAt = Date.now();
  app.get('/health', async () => ({ status: 'ok', uptimeMs: Date.now() - startedAt }));

  app.get('/ready', async (_request: FastifyRequest, reply: FastifyReply) => {
    let database: { kind: string; reachable: boolean; error?: string };
    try {
      await db.ping();
      database = { kind: db.kind, reachable: true };
    } catch (e) {
      database = { kind: db.kind, reachable: false, error: (e as { code?: string }).code ?? 'unreachable' };
    }
    const sink = db.sink.stats();
    const breakers = client.breakerStates();
    // A capability whose every provider is open cannot answer at all.
    const capabilitiesDown = (['stt', 'tts', 'eval'] as const).filter((cap) => {
      const states = Object.entries(breakers).filter(([k]) => k.startsWith(`${cap}:`));
      return states.length > 0 && states.every(([, s]) => s === 'open');
    });
    const ready = !shuttingDown && database.reachable && capabilitiesDown.length === 0;
    reply.code(ready ? 200 : 503);
    return {
      ready,
      shuttingDown,
      database,
      usageSink: {
        databaseUp: sink.databaseUp,
        backlog: sink.pending,
        written: sink.written,
        spilled: sink.spilled,
        spillSegments: sink.spillSegments,
        replayed: sink.replayed,
        failed: sink.failed,
        dropped: sink.dropped,
      },
      breakers,
      capabilitiesDown,
      inFlight: client.inFlight(),
    };
  });

  // Requests being handled (answered or not yet), so shutdown() knows when the drain is over.
  let openRequests = 0;
  let lastRequestAt = 0;
  let onDrained: (() => void) | undefined;
  let openConnections = 0;
  app.server.on('connection', (socket: net.Socket) => {
    openConnections++;
    socket.once('close', () => openConnections--);
  });
  app.addHook('onRequest', async (request, reply) => {
    openRequests++;
    lastRequestAt = Date.now();
    reply.raw.once('close', () => {
      openRequests--;
      if (openRequests === 0) onDrained?.();
    });
    // A request on a connection that was open before the stop: answered, not reset, and told
    // to reconnect elsewhere. The probes still answer (/ready with 503 and shuttingDown).
    if (shuttingDown && !PROBES.has(request.url.split('?')[0]!)) {
      reply.header('connection', 'close');
      return sendError(reply, requestError(503, 'unavailable', 'the server is shutting down; retry on another instance', true));
    }
  });

  registerDashboard(app);

  // While shutting down, answer in-flight requests with `Connection: close`, so keep-alive
  // sockets end with their last response and close() is not held up by idle clients.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shuttingDown) reply.header('connection', 'close');
    return payload;
  });

  // What shutdown() is waiting for, named in the log when the timeout cuts it short.
  let closingStep = 'draining in-flight requests';
  // Runs once the open connections have closed. shutdown() has closed the client by then (a
  // second close() returns the first); app.close() called on its own needs it here.
  app.addHook('onClose', async () => {
    closingStep = 'closing the AI client (flushing the usage sink)';
    await client.close();
    closingStep = 'closing the providers';
    await providerSet.close();
    closingStep = 'closing the database';
    await db.close();
  });

  let stopping: Promise<{ forced: boolean }> | undefined;
  return {
    app,
    client,
    db,
    shutdown() {
      stopping ??= (async () => {
        shuttingDown = true;
        let forced = false;
        // Stop accepting, but keep the open connections: net.Server's close, not http.Server's,
        // which would also close idle keep-alive sockets under a client about to reuse them (a
        // reset). Requests on them get the 503 above; idle ones are closed once the drain is over.
        if (app.server.listening) net.Server.prototype.close.call(app.server);
        const startedAt = Date.now();
        // The AI client's close starts by then at the latest, whatever requests are still doing:
        // its time (and the sink's, within it) is what shutdownBudget() left it.
        const closeClientAt = startedAt + budget.closeClientAfterMs;
        const drained = openRequests > 0 ? new Promise<void>((resolve) => (onDrained = resolve)) : undefined;
        const closed = (async () => {
          if (drained) {
            await pTimeout(drained, {
              milliseconds: Math.max(1, deadlineMs),
              fallback: () => {
                forced = true;
                log.warn(`shutdown: in-flight requests still running after ${deadlineMs} ms; aborting their AI calls`);
                shutdownAbort.abort();
              },
            });
            // Aborted calls answer at once; a request waiting on a database that stopped answering
            // (up to DB_QUERY_TIMEOUT_MS) must not eat the usage sink's time.
            await pTimeout(drained, {
              milliseconds: Math.max(1, closeClientAt - Date.now()),
              fallback: () => log.warn(`shutdown: ${openRequests} request(s) still running after ${budget.closeClientAfterMs} ms; closing the AI client and the usage sink anyway`),
            });
          }
          closingStep = 'waiting for idle keep-alive connections to go quiet';
          for (let quiet = Date.now() - lastRequestAt; openConnections > 0 && quiet < IDLE_LINGER_MS && Date.now() < closeClientAt; quiet = Date.now() - lastRequestAt) {
            await sleep(Math.min(IDLE_LINGER_MS - quiet, closeClientAt - Date.now()));
          }
          app.server.closeIdleConnections();
          closingStep = 'closing the AI client (flushing the usage sink)';
          await client.close();
          closingStep = 'waiting for open connections to close';
          // The listener's close, then the onClose hook: providers, database.
          await app.close();
          return 'closed' as const;
        })();
        // Once the timeout has won, a late failure of the closing must not surface as an unhandled rejection.
        closed.catch(() => {});
        if ((await pTimeout(closed, { milliseconds: timeoutMs, fallback: () => 'timeout' as const })) === 'timeout') {
          forced = true;
          log.error(`shutdown: still ${closingStep} after ${timeoutMs} ms; giving up`);
          app.server.closeAllConnections();
        }
        return { forced };
      })();
      return stopping;
    },
  };
}
