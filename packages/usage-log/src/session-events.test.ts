import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { isAiError, type EvalResult } from '@korean-together/core';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { ensureSession, writeSessionEvent } from './session-events.js';

const evaluation: EvalResult = {
  score: 72,
  passFail: true,
  primaryErrorType: 'formality',
  errors: [{ type: 'formality', message: 'Use 합쇼체 with a stranger', span: '고마워', correction: '감사합니다' }],
  suggestions: ['감사합니다 is more polite'],
  rationale: 'Meaning is right, register is too casual.',
  meta: {
    callId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    provider: 'gemini',
    providerKey: 'gemini-flash',
    modelId: 'gemini-2.5-flash',
    attempts: [
      { attempt: 1, providerKey: 'gemini-flash', provider: 'gemini', modelId: 'gemini-2.5-flash', outcome: 'error', errorCode: 'timeout', startedAt: 0, latencyMs: 900, costUsd: 0 },
      { attempt: 2, providerKey: 'gemini-flash', provider: 'gemini', modelId: 'gemini-2.5-flash', outcome: 'success', startedAt: 950, latencyMs: 400, costUsd: 0.000131 },
    ],
    latencyMs: 1350.4,
    costUsd: 0.000131,
  },
};

describe('writeSessionEvent', () => {
  const db = useMigratedDatabase('events');
  const session = randomUUID();
  beforeAll(async () => {
    await ensureSession(db.client, { id: session, userId: 'learner-1' }, { schema: db.schema });
    await ensureSession(db.client, { id: session }, { schema: db.schema }); // idempotent
  });

  it('fills the analysis columns from an EvalResult and its meta', async () => {
    const eventId = randomUUID();
    const { id } = await writeSessionEvent(
      db.client,
      { id: eventId, sessionId: session, eventType: 'evaluation', userInput: '고마워', evaluation, metadata: { lesson: 3 } },
      { schema: db.schema },
    );
    expect(id).toBe(eventId);
    const [row] = await db.query<Record<string, unknown>>(
      `SELECT session_id, event_type, user_input, score, pass_fail, primary_error_type, provider, model_id, latency_ms, evaluation_detail, metadata
         FROM "${db.schema}".session_events WHERE id = $1`,
      [eventId],
    );
    expect(row).toEqual({
      session_id: session,
      event_type: 'evaluation',
      user_input: '고마워',
      score: 72,
      pass_fail: true,
      primary_error_type: 'formality',
      provider: 'gemini',
      model_id: 'gemini-2.5-flash',
      latency_ms: 1350,
      evaluation_detail: { errors: evaluation.errors, suggestions: evaluation.suggestions, rationale: evaluation.rationale },
      metadata: { lesson: 3, ai: { callId: evaluation.meta.callId, providerKey: 'gemini-flash', attempts: 2, costUsd: 0.000131 } },
    });
    const [stats] = await db.query<{ total: number; pass_rate: number }>(
      `SELECT total_evaluations::int AS total, pass_rate FROM "${db.schema}".v_evaluation_stats WHERE primary_error_type = 'formality'`,
    );
    expect(stats).toEqual({ total: 1, pass_rate: 1 });
  });

  it('writes a plain event without evaluation columns, with a generated id', async () => {
    const { id } = await writeSessionEvent(db.client, { sessionId: session, eventType: 'tutor_response', tutorResponse: '안녕하세요!' }, { schema: db.schema });
    const [row] = await db.query<Record<string, unknown>>(`SELECT score, provider, evaluation_detail, metadata FROM "${db.schema}".session_events WHERE id = $1`, [id]);
    expect(row).toEqual({ score: null, provider: null, evaluation_detail: null, metadata: null });
  });

  it('throws invalid_request for a session that does not exist and for missing fields', async () => {
    const err = await writeSessionEvent(db.client, { sessionId: randomUUID(), eventType: 'evaluation', evaluation }, { schema: db.schema }).catch((e: unknown) => e);
    expect(isAiError(err) && err.code).toBe('invalid_request');
    expect((err as Error).message).toContain('session_events');
    expect((err as Error).message).toContain('23503');
    await expect(writeSessionEvent(db.client, { sessionId: '', eventType: 'x' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(writeSessionEvent(db.client, { sessionId: session, eventType: '' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(writeSessionEvent(db.client, { sessionId: session, eventType: 'x' }, { schema: 'bad schema' })).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('a row a host trigger refuses (P0001, outside classes 22/23) is invalid_request, not retryable; other rows are written', async () => {
    const fn = `"${db.schema}".refuse_blocked_event`;
    await db.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.event_type = 'blocked' THEN RAISE EXCEPTION 'event type is blocked here'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER refuse_blocked BEFORE INSERT ON "${db.schema}".session_events FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    const err = await writeSessionEvent(db.client, { sessionId: session, eventType: 'blocked' }, { schema: db.schema }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(((err as Error).cause as { code?: string }).code).toBe('P0001');
    await expect(writeSessionEvent(db.client, { sessionId: session, eventType: 'user_input' }, { schema: db.schema })).resolves.toMatchObject({ id: expect.any(String) });
  });

  it('a table the statement cannot use is the database side\'s trouble (unavailable), not the row\'s', async () => {
    // The same statement with no row fails too: the row is not what is wrong.
    const missing = `${db.schema.slice(0, 50)}_none`;
    await expect(writeSessionEvent(db.client, { sessionId: session, eventType: 'evaluation', evaluation }, { schema: missing })).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    await expect(ensureSession(db.client, { id: randomUUID() }, { schema: missing })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('an unreachable database is unavailable and retryable', async () => {
    const pool = new pg.Pool({ connectionString: 'postgresql://app@127.0.0.1:1/db', connectionTimeoutMillis: 500 });
    try {
      await expect(writeSessionEvent(pool, { sessionId: session, eventType: 'x' })).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    } finally {
      await pool.end();
    }
  });

  it('inside the caller\'s transaction (which the refusal aborts) a refused row is still invalid_request', async () => {
    const client = await db.poolLike.connect();
    try {
      await client.query('BEGIN');
      await expect(writeSessionEvent(client, { sessionId: randomUUID(), eventType: 'evaluation' }, { schema: db.schema })).rejects.toMatchObject({ code: 'invalid_request' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
