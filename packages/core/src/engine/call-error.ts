// The AiErrors a call ends with, and those its own aborts give an attempt.
import { AiError, isAiError, type AiErrorCode } from '../errors/ai-error.js';
import type { AbortCause } from '../policy/abort-reason.js';
import type { AttemptInfo, Capability } from '../spec/types.js';

/** The error an attempt ends with when the engine aborted it. */
export function errorForAbort(cause: AbortCause, key: string, timeoutMs: number): AiError {
  switch (cause) {
    case 'attempt_timeout':
      return new AiError('timeout', `${key}: attempt timed out after ${timeoutMs} ms`, { provider: key, retryable: true });
    case 'deadline':
      return new AiError('timeout', `${key}: call deadline passed during the attempt`, { provider: key, retryable: false });
    case 'hedge_lost':
      return new AiError('cancelled', `${key}: aborted because another provider answered first (hedge lost)`, { provider: key, retryable: false });
    case 'closing':
      return new AiError('cancelled', `${key}: aborted because the client is closing`, { provider: key, retryable: false });
    case 'caller':
      return new AiError('cancelled', `${key}: the caller aborted the call`, { provider: key, retryable: false });
  }
}

/** A foreign error's kind ('TypeError', 'Error ECONNRESET'): never its message, which may quote the request. */
export function errorKind(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${e.name} ${code}` : e.name;
  }
  return typeof e;
}

/** What a provider threw that is not an AiError: 'unavailable', retryable, kind only. */
export function unexpectedProviderError(key: string, e: unknown): AiError {
  const kind = errorKind(e);
  // Only the error's kind goes into the message and the cause: a foreign error's text may
  // quote the request, and the error itself may hold request bodies or headers.
  return new AiError('unavailable', `${key}: provider failed unexpectedly (${kind})`, { provider: key, retryable: true, cause: { kind } });
}

/**
 * The error of a call the budget refused (or whose budget store failed) before any attempt,
 * keeping the budget's own code; undefined when the budget let every step through.
 */
export function budgetRefusal(call: { budgetFailure: AiError | undefined; attempts: AttemptInfo[] }): AiError | undefined {
  const f = call.budgetFailure;
  return f && new AiError(f.code, f.message, { retryable: f.retryable, attempts: call.attempts, cause: f });
}

/**
 * The code of a stream that failed after it had delivered output: 'cancelled' when the caller
 * or close() stopped it, else the last attempt's code ('unavailable' for a foreign error).
 */
export function interruptedCode(cause: AbortCause | undefined, last: unknown): AiErrorCode {
  return cause === 'caller' || cause === 'closing' ? 'cancelled' : isAiError(last) ? last.code : 'unavailable';
}

/** The error of a call whose walk found no answer. */
export function callError(
  capability: Capability,
  what: string,
  errors: unknown[],
  attempts: AttemptInfo[],
  abortCause: AbortCause | undefined,
  deadlineMs: number,
): AiError {
  const last = errors[errors.length - 1];
  const summary = summarize(attempts);
  if (abortCause === 'caller' || abortCause === 'closing') {
    return new AiError('cancelled', `${what}: cancelled after ${attempts.length} attempt(s)${summary}`, { retryable: false, attempts, cause: last });
  }
  if (abortCause === 'deadline') {
    return new AiError('timeout', `${what}: call deadline of ${deadlineMs} ms passed after ${attempts.length} attempt(s)${summary}`, {
      retryable: true,
      attempts,
      cause: last,
    });
  }
  if (attempts.length > 0 && attempts.every((a) => a.outcome === 'skipped')) {
    const waits = errors.filter(isAiError).map((e) => e.retryAfterMs ?? 0);
    return new AiError('circuit_open', `${what}: every provider's circuit breaker is open (${attempts.map((a) => a.providerKey).join(', ')})`, {
      retryable: true,
      retryAfterMs: waits.length ? Math.min(...waits) : undefined,
      attempts,
    });
  }
  const retryable = errors.some((e) => isAiError(e) && e.retryable);
  return new AiError('exhausted', `${what}: every provider in the ${capability} chain failed${summary}`, { retryable, attempts, cause: last });
}

function summarize(attempts: AttemptInfo[]): string {
  if (attempts.length === 0) return '';
  const parts = attempts.map((a) => `${a.providerKey}#${a.attempt} ${a.outcome === 'success' ? 'ok' : (a.errorCode ?? a.outcome)}`);
  return ` (${parts.join(', ')})`;
}
