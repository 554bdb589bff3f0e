import type { AiError } from '../errors/ai-error.js';
import { requestError } from './invalid-request.js';
import { MAX_TIMER_MS } from './limits.js';

const MAX_ID_CHARS = 200;

function id(issues: string[] | undefined, field: string, v: unknown): string[] | undefined {
  if (v === undefined) return issues;
  if (typeof v !== 'string') (issues ??= []).push(`options.${field}: must be a string`);
  else if (v.length === 0) (issues ??= []).push(`options.${field}: must not be empty`);
  else if (v.length > MAX_ID_CHARS) (issues ??= []).push(`options.${field}: must be at most ${MAX_ID_CHARS} characters`);
  return issues;
}

function isPlainObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks a call's options before anything is reserved or sent; the `invalid_request` names each
 * bad option. Returns undefined when they are fine (the common case allocates nothing).
 */
export function callOptionsError(operation: string, opts: unknown): AiError | undefined {
  if (opts === undefined) return undefined;
  if (opts === null || typeof opts !== 'object') return requestError(operation, ['options.(options): must be an object'], undefined, 'invalid call options');
  const o = opts as Record<string, unknown>;
  let issues: string[] | undefined;
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) (issues ??= []).push('options.signal: must be an AbortSignal');
  issues = id(issues, 'sessionId', o.sessionId);
  issues = id(issues, 'eventId', o.eventId);
  if (o.metadata !== undefined && !isPlainObject(o.metadata)) (issues ??= []).push('options.metadata: must be an object');
  const d = o.deadlineMs;
  if (d !== undefined) {
    if (typeof d !== 'number' || !Number.isFinite(d)) (issues ??= []).push('options.deadlineMs: must be a number of milliseconds');
    else if (!Number.isSafeInteger(d)) (issues ??= []).push('options.deadlineMs: must be an integer');
    else if (d <= 0) (issues ??= []).push('options.deadlineMs: must be > 0');
    else if (d > MAX_TIMER_MS) (issues ??= []).push(`options.deadlineMs: must be <= ${MAX_TIMER_MS}`);
  }
  return issues ? requestError(operation, issues, undefined, 'invalid call options') : undefined;
}
