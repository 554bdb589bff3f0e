import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AiError, createAiClient, type AiClient, type AiClientEvents, type AiPolicy, type ResultMeta } from '@korean-together/core';
import { openDatabase, type Database, type OpenDatabaseOptions } from './database.js';
import { registerDashboard } from './dashboard.js';
import { requestError, toHttpError, type HttpError } from './http-errors.js';
import { buildProviders, type AiBackend } from './providers.js';
import {
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
  /** Extra engine events (the server adds its own logging of breaker changes). */
  events?: AiClientEvents;
}

export interface TutoringServer {
  app: FastifyInstance;
  client: AiClient;
  db: Database;
  /**
   * Graceful stop: /ready answers 503, the listener closes, in-flight requests finish (their AI
   * calls are aborted once the deadline passes), then the client drains and flushes the usage
   * sink and the database closes. `forced` tells whether the deadline had to cut calls short.
   */
  shutdown(): Promise<{ forced: boolean }>;
}

/** Bodies up to this size are accepted: 10 MB of audio as base64, plus the other fields. */
const BODY_LIMIT_BYTES = 15 * 1024 * 1024;

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
  const policy = typeof options.policy === 'object' ? options.policy : tutoringPolicy(options.policy);
  const app = Fastify({
    logger: options.logger ?? { level: 'info' },
    bodyLimit: BODY_LIMIT_BYTES,
    // 503 to requests that arrive on an open connection while closing.
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    genReqId: () => randomUUID(),
  });
  const log = app.log;

  const db = await openDatabase({
    ...options.database,
    onSinkError: (e) => log.warn({ code: (e as { code?: string }).code }, `usage sink: ${e.message}`),
  });
  const providerSet = buildProviders(options.backend);
  const client = createAiClient({
    policy,
    providers: providerSet.providers,
    sinks: [db.sink],
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

  registerDashboard(app);

  // While shutting down, answer in-flight requests with `Connection: close`, so keep-alive
  // sockets end with their last response and close() is not held up by idle clients.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shuttingDown) reply.header('connection', 'close');
    return payload;
  });

  // Runs after every in-flight request has been answered.
  app.addHook('onClose', async () => {
    await client.close();
    await providerSet.close();
    await db.close();
  });

  const deadlineMs = options.shutdownDeadlineMs ?? 8_000;
  let stopping: Promise<{ forced: boolean }> | undefined;
  return {
    app,
    client,
    db,
    shutdown() {
      stopping ??= (async () => {
        shuttingDown = true;
        let forced = false;
        const timer = setTimeout(() => {
          forced = true;
          log.warn(`shutdown: in-flight requests still running after ${deadlineMs} ms; aborting their AI calls`);
          shutdownAbort.abort();
        }, deadlineMs);
        // Sockets that went idle after close() began (a response without Connection: close
        // already on its way) would otherwise keep the listener open until keep-alive expires.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
          clearInterval(sweep);
        }
        return { forced };
      })();
      return stopping;
    },
  };
}
