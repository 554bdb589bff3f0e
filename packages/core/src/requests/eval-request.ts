import { OPERATIONS, type EvalRequest } from '../spec/types.js';
import { requestError, type RequestCheckOptions } from './invalid-request.js';
import { MAX_EVAL_AUDIO_BYTES, MAX_EVAL_LEVEL_CHARS, MAX_EVAL_TEXT_CHARS } from './limits.js';

const FORMALITIES: readonly string[] = ['hapsyo', 'haeyo', 'banmal'];
const AUDIO_MIME = /^audio\/[a-z0-9.+-]+$/i;

/** Checks one text field; `optional`: may be absent, `blank`: may be empty or whitespace. */
function text(issues: string[] | undefined, field: string, v: unknown, optional: boolean, blank: boolean, max: number): string[] | undefined {
  if (v === undefined && optional) return issues;
  if (typeof v !== 'string') (issues ??= []).push(`${field}: must be a string`);
  else if (!blank && v.trim().length === 0) (issues ??= []).push(`${field}: must not be empty`);
  else if (v.length > max) (issues ??= []).push(`${field}: must be at most ${max} characters`);
  return issues;
}

/**
 * Checks an evaluation request before anything is sent; throws `invalid_request` naming every
 * bad field: a blank task, a blank answer (unless audio carries it), text over 4,000
 * characters, an unknown speech level, audio that is empty, over 10 MB or not `audio/*`.
 */
export function validateEvalRequest(req: unknown, options: RequestCheckOptions = {}): void {
  const who = options.who ?? OPERATIONS.eval;
  if (req === null || typeof req !== 'object') throw requestError(who, ['(request): must be an object'], options.provider);
  const r = req as Partial<EvalRequest>;
  let issues = text(undefined, 'prompt', r.prompt, false, false, MAX_EVAL_TEXT_CHARS);
  // A spoken answer may come as audio alone: the evaluator judges the recording.
  issues = text(issues, 'learnerAnswer', r.learnerAnswer, false, r.audio !== undefined, MAX_EVAL_TEXT_CHARS);
  issues = text(issues, 'expectedAnswer', r.expectedAnswer, true, true, MAX_EVAL_TEXT_CHARS);
  if (r.targetFormality !== undefined && !FORMALITIES.includes(r.targetFormality)) (issues ??= []).push("targetFormality: must be 'hapsyo', 'haeyo' or 'banmal'");
  issues = text(issues, 'level', r.level, true, true, MAX_EVAL_LEVEL_CHARS);
  const audio = r.audio;
  if (audio !== undefined) {
    if (audio === null || typeof audio !== 'object' || Array.isArray(audio)) (issues ??= []).push('audio: must be an object { data, mimeType }');
    else {
      const data = audio.data;
      if (!(data instanceof Uint8Array)) (issues ??= []).push('audio.data: must be a Uint8Array (or Buffer)');
      else if (data.byteLength === 0) (issues ??= []).push('audio.data: must not be empty');
      else if (data.byteLength > MAX_EVAL_AUDIO_BYTES) (issues ??= []).push('audio.data: must be at most 10 MB');
      if (typeof audio.mimeType !== 'string' || !AUDIO_MIME.test(audio.mimeType)) (issues ??= []).push("audio.mimeType: must be an audio MIME type such as 'audio/wav'");
    }
  }
  if (issues) throw requestError(who, issues, options.provider);
}
