// A request handler's core: hear the learner, grade the answer, keep the session log.
import { randomUUID } from 'node:crypto';
import { isAiError, type AudioEncoding } from '@korean-together/core';
import { ensureSession, writeSessionEvent } from '@korean-together/usage-log';
import type { Ai } from './ai.js';

export async function gradeSpokenAnswer(
  ai: Ai,
  input: { sessionId: string; prompt: string; expectedAnswer?: string; audio: Uint8Array; encoding: AudioEncoding },
  signal?: AbortSignal,
) {
  const { client, db, schema } = ai;
  await ensureSession(db, { id: input.sessionId }, { schema });
  // The same id on the AI call and the session event: ai_usage_log.event_id joins session_events.id.
  const heardId = randomUUID();
  const heard = await client.stt.transcribe({ audio: input.audio, encoding: input.encoding }, { sessionId: input.sessionId, eventId: heardId, signal });
  await writeSessionEvent(db, { id: heardId, sessionId: input.sessionId, eventType: 'user_input', userInput: heard.transcript }, { schema });

  const gradeId = randomUUID();
  const grade = await client.eval.evaluate(
    { prompt: input.prompt, learnerAnswer: heard.transcript, expectedAnswer: input.expectedAnswer, targetFormality: 'haeyo' },
    { sessionId: input.sessionId, eventId: gradeId, signal },
  );
  await writeSessionEvent(db, { id: gradeId, sessionId: input.sessionId, eventType: 'evaluation', evaluation: grade }, { schema });
  return { transcript: heard.transcript, score: grade.score, passed: grade.passFail, mistake: grade.primaryErrorType, costUsd: heard.meta.costUsd + grade.meta.costUsd };
}

/** Errors to HTTP: branch on the code, never on the message (which is safe to show: no keys, no learner text). */
export function httpStatusOf(e: unknown): number {
  if (!isAiError(e)) return 500;
  switch (e.code) {
    case 'invalid_request':
      return 400;
    case 'budget_exceeded':
      return 402;
    case 'rate_limited':
      return 429;
    case 'timeout':
      return 504;
    case 'unavailable':
    case 'circuit_open':
    case 'cancelled':
      return 503;
    default:
      return 502; // exhausted, schema_violation, unauthenticated: the providers failed, not the caller
  }
}
