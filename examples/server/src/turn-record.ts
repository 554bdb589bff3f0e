// The parts of a tutoring turn both paths share (POST /v1/turns and the live WebSocket turn):
// checking the activity, the session row, the session events of each step with the ids the AI
// calls carry (so ai_usage_log.event_id joins to session_events.id), the grading request and
// the tutor's reply text.

import { AiError, type EvalRequest, type EvalResult, type Formality, type ResultMeta } from '@korean-together/core';
import { qualifiedName } from '@korean-together/sql';
import { ensureSession, writeSessionEvent, type QueryableLike } from '@korean-together/usage-log';
import { databaseStep } from './database-errors.js';
import { DID_NOT_HEAR, tutorReply } from './tutor-reply.js';

/** What the learner was asked, as the grading needs it. */
export interface TurnTask {
  prompt: string;
  expectedAnswer?: string;
  targetFormality?: Formality;
  level?: string;
}

/** Writes one turn's session events; every method is a no-op without a database. */
export class TurnRecorder {
  private readonly tableOptions: { schema?: string };

  constructor(
    private readonly db: { queryable: QueryableLike; schema: string } | undefined,
    private readonly sessionId: string,
    private readonly activityId: string | undefined,
  ) {
    this.tableOptions = db ? { schema: db.schema } : {};
  }

  /** Refuses an unknown activity (before any AI call) and makes sure the session row exists. */
  async open(): Promise<void> {
    const db = this.db;
    if (!db) return;
    if (this.activityId !== undefined) {
      const found = await databaseStep('checking the activity', () =>
        db.queryable.query(`SELECT 1 FROM ${qualifiedName(db.schema, 'activities')} WHERE id = $1`, [this.activityId]),
      );
      if (found.rows.length === 0) throw new AiError('invalid_request', 'activityId: no such activity (it must exist in activities)', { retryable: false });
    }
    await databaseStep('recording the session', () => ensureSession(db.queryable, { id: this.sessionId }, this.tableOptions));
  }

  private async write(event: Omit<Parameters<typeof writeSessionEvent>[1], 'sessionId' | 'activityId'>): Promise<string | undefined> {
    if (!this.db) return undefined;
    const db = this.db;
    await databaseStep('recording the turn', () => writeSessionEvent(db.queryable, { ...event, sessionId: this.sessionId, activityId: this.activityId }, this.tableOptions));
    return event.id;
  }

  /** The learner's answer: heard (with the STT call's meta and `source`) or typed. */
  userInput(id: string, transcript: string, heard?: { meta: ResultMeta; source: string }): Promise<string | undefined> {
    return this.write(
      heard
        ? { id, eventType: 'user_input', userInput: transcript, provider: heard.meta.provider, modelId: heard.meta.modelId, latencyMs: heard.meta.latencyMs, metadata: { source: heard.source, callId: heard.meta.callId } }
        : { id, eventType: 'user_input', userInput: transcript, metadata: { source: 'text' } },
    );
  }

  evaluation(id: string, evaluation: EvalResult): Promise<string | undefined> {
    return this.write({ id, eventType: 'evaluation', evaluation });
  }

  /** The tutor's reply, with the TTS call's meta when it succeeded, or its error code. */
  tutorResponse(id: string, text: string, tts: { meta: ResultMeta } | null, errorCode?: string, extra?: Record<string, unknown>): Promise<string | undefined> {
    const metadata = { ...(errorCode && { ttsErrorCode: errorCode }), ...extra };
    return this.write({
      id,
      eventType: 'tutor_response',
      tutorResponse: text,
      ...(tts && { provider: tts.meta.provider, modelId: tts.meta.modelId, latencyMs: tts.meta.latencyMs }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
    });
  }
}

/** The grading request for `transcript`. */
export function gradeRequest(task: TurnTask, transcript: string): EvalRequest {
  return {
    prompt: task.prompt,
    learnerAnswer: transcript,
    ...(task.expectedAnswer && { expectedAnswer: task.expectedAnswer }),
    ...(task.targetFormality && { targetFormality: task.targetFormality }),
    ...(task.level && { level: task.level }),
  };
}

/** What the tutor says: the reply to the grade, or "did not hear" when nothing was recognised. */
export function replyText(task: TurnTask, evaluation: EvalResult | null): string {
  if (!evaluation) return DID_NOT_HEAR;
  return tutorReply(evaluation, { ...(task.expectedAnswer && { expectedAnswer: task.expectedAnswer }), ...(task.targetFormality && { targetFormality: task.targetFormality }) });
}
