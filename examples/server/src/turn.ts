import { randomUUID } from 'node:crypto';
import {
  isAiError,
  type AiClient,
  type AudioEncoding,
  type Capability,
  type EvalResult,
  type Formality,
  type ResultMeta,
  type TtsAudioEncoding,
  type TtsResult,
} from '@korean-together/core';
import type { QueryableLike } from '@korean-together/usage-log';
import { gradeRequest, replyText, TurnRecorder } from './turn-record.js';

/** One learner turn: what they were asked and what they said (audio) or typed (text). */
export interface TurnInput {
  sessionId: string;
  activityId?: string;
  /** The task the learner was given, e.g. '식당에서 물을 달라고 하세요'. */
  prompt: string;
  expectedAnswer?: string;
  targetFormality?: Formality;
  level?: string;
  /** The spoken answer; give this or `text`. */
  audio?: { data: Uint8Array; encoding: AudioEncoding; sampleRateHertz?: number };
  /** The typed answer. */
  text?: string;
  /** Voice of the tutor's reply; default the TTS provider's. */
  voice?: string;
  /** Encoding of the reply audio; default the TTS provider's. */
  replyEncoding?: TtsAudioEncoding;
}

/** One AI call of the turn, as the API and the demo report it (no learner text). */
export interface CallReport {
  capability: Capability;
  /** What the call was for, e.g. 'transcribe answer'. */
  purpose: string;
  ok: boolean;
  meta?: ResultMeta;
  /** Set when the call failed. */
  errorCode?: string;
  /** Attempts of a failed call (from the AiError). */
  attempts?: ResultMeta['attempts'];
}

export interface TurnResult {
  sessionId: string;
  /** What the learner said ('' when no speech was recognised). */
  transcript: string;
  evaluation: EvalResult | null;
  reply: { text: string; tts: TtsResult | null; errorCode?: string };
  calls: CallReport[];
  /** session_events ids written for this turn (when a database was given). */
  eventIds: { userInput?: string; evaluation?: string; tutorResponse?: string };
}

export interface TurnDeps {
  client: AiClient;
  /** Where session events go; without it the turn writes none (usage rows still go to the client's sinks). */
  db?: { queryable: QueryableLike; schema: string };
  /** Aborts every AI call of the turn. */
  signal?: AbortSignal;
}

/**
 * Runs one tutoring turn: transcribe the answer (when spoken), grade it, speak the tutor's
 * reply; session events are written for each step with the same ids the AI calls carry, so
 * ai_usage_log.event_id joins to session_events.id. STT and evaluation failures fail the turn
 * (an AiError); a failed reply synthesis does not: the grade is still returned, with the reply
 * text and the error code. An `activityId` that is not in `activities` is refused before any AI
 * call; a database failure is an AiError of the server's own wording (see databaseError).
 */
export async function runTurn(deps: TurnDeps, input: TurnInput): Promise<TurnResult> {
  const { client, db, signal } = deps;
  const { sessionId, activityId } = input;
  const calls: CallReport[] = [];
  const eventIds: TurnResult['eventIds'] = {};
  const opts = (eventId: string) => ({ sessionId, eventId, ...(signal && { signal }) });
  const record = new TurnRecorder(db, sessionId, activityId);

  async function tracked<T extends { meta: ResultMeta }>(capability: Capability, purpose: string, run: () => Promise<T>): Promise<T> {
    try {
      const r = await run();
      calls.push({ capability, purpose, ok: true, meta: r.meta });
      return r;
    } catch (e) {
      calls.push({ capability, purpose, ok: false, errorCode: isAiError(e) ? e.code : 'internal', ...(isAiError(e) && e.attempts && { attempts: e.attempts }) });
      throw e;
    }
  }

  await record.open();

  let transcript: string;
  const userEventId = randomUUID();
  if (input.audio) {
    const heard = await tracked('stt', 'transcribe answer', () =>
      client.stt.transcribe({ audio: input.audio!.data, encoding: input.audio!.encoding, sampleRateHertz: input.audio!.sampleRateHertz, languageCode: 'ko-KR' }, opts(userEventId)),
    );
    transcript = heard.transcript.trim();
    eventIds.userInput = await record.userInput(userEventId, transcript, { meta: heard.meta, source: 'audio' });
  } else {
    transcript = (input.text ?? '').trim();
    eventIds.userInput = await record.userInput(userEventId, transcript);
  }

  let evaluation: EvalResult | null = null;
  if (transcript !== '') {
    const evalEventId = randomUUID();
    evaluation = await tracked('eval', 'grade answer', () => client.eval.evaluate(gradeRequest(input, transcript), opts(evalEventId)));
    eventIds.evaluation = await record.evaluation(evalEventId, evaluation);
  }
  const reply = replyText(input, evaluation);

  const replyEventId = randomUUID();
  let tts: TtsResult | null = null;
  let replyError: string | undefined;
  try {
    tts = await tracked('tts', 'speak reply', () =>
      client.tts.synthesize({ text: reply, ...(input.voice && { voice: input.voice }), ...(input.replyEncoding && { audioEncoding: input.replyEncoding }) }, opts(replyEventId)),
    );
  } catch (e) {
    if (!isAiError(e) || e.code === 'cancelled') throw e;
    replyError = e.code;
  }
  eventIds.tutorResponse = await record.tutorResponse(replyEventId, reply, tts, replyError);
  return { sessionId, transcript, evaluation, reply: { text: reply, tts, ...(replyError && { errorCode: replyError }) }, calls, eventIds };
}
