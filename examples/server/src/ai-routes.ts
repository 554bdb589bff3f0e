import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AiError, type AiClient, type ResultMeta } from '@korean-together/core';
import type { Database } from './database.js';
import { evaluateBody, sttBody, ttsBody, turnBody, type EvaluateBody, type SttBody, type TtsBody, type TurnBody } from './schemas.js';
import { runTurn } from './turn.js';

/** A call's meta without anything the caller did not send: ids, providers, attempts, latency, cost. */
export function publicMeta(meta: ResultMeta) {
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

/** Aborted when the caller hangs up or `shutdownSignal` aborts (the shutdown deadline passed). */
function callSignal(reply: FastifyReply, shutdownSignal: AbortSignal): AbortSignal {
  const ac = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return AbortSignal.any([ac.signal, shutdownSignal]);
}

/** The AI routes: /v1/stt, /v1/tts, /v1/evaluate and /v1/turns. */
export function registerAiRoutes(app: FastifyInstance, deps: { client: AiClient; db: Database; shutdownSignal: AbortSignal }): void {
  const { client, db, shutdownSignal } = deps;
  app.post<{ Body: SttBody }>('/v1/stt', { schema: { body: sttBody } }, async (request, reply) => {
    const b = request.body;
    const r = await client.stt.transcribe(
      { audio: fromB64(b.audio), encoding: b.encoding, ...(b.sampleRateHertz && { sampleRateHertz: b.sampleRateHertz }), languageCode: b.languageCode ?? 'ko-KR' },
      { signal: callSignal(reply, shutdownSignal), ...(b.sessionId && { sessionId: b.sessionId }) },
    );
    return { transcript: r.transcript, ...(r.confidence !== undefined && { confidence: r.confidence }), audioDurationMs: r.audioDurationMs, meta: publicMeta(r.meta) };
  });

  app.post<{ Body: TtsBody }>('/v1/tts', { schema: { body: ttsBody } }, async (request, reply) => {
    const b = request.body;
    const r = await client.tts.synthesize(
      { text: b.text, ...(b.voice && { voice: b.voice }), ...(b.audioEncoding && { audioEncoding: b.audioEncoding }), ...(b.speakingRate && { speakingRate: b.speakingRate }) },
      { signal: callSignal(reply, shutdownSignal), ...(b.sessionId && { sessionId: b.sessionId }) },
    );
    return { audio: b64(r.audio), encoding: r.encoding, characters: r.characters, ...(r.audioDurationMs !== undefined && { audioDurationMs: r.audioDurationMs }), meta: publicMeta(r.meta) };
  });

  app.post<{ Body: EvaluateBody }>('/v1/evaluate', { schema: { body: evaluateBody } }, async (request, reply) => {
    const { sessionId, ...req } = request.body;
    const r = await client.eval.evaluate(req, { signal: callSignal(reply, shutdownSignal), ...(sessionId && { sessionId }) });
    const { meta, ...grade } = r;
    return { ...grade, meta: publicMeta(meta) };
  });

  app.post<{ Body: TurnBody }>('/v1/turns', { schema: { body: turnBody } }, async (request, reply) => {
    const b = request.body;
    if ((b.audio === undefined) === (b.text === undefined)) {
      throw new AiError('invalid_request', 'body: give either audio (with encoding) or text, not both', { retryable: false });
    }
    const t = await runTurn(
      { client, db: { queryable: db.queryable, schema: db.schema }, signal: callSignal(reply, shutdownSignal) },
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
}
