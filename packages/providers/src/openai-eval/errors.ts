import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { AiError, type BilledUsage } from '@korean-together/core';
import { httpError, openAiErrorDetails, retryAfterFromHeaders, safeProviderText } from '@korean-together/core/provider-kit';
import { type AttemptScope, sanitisedCause } from '../shared/attempt-scope.js';
import { redactSecrets } from '../shared/redact.js';
import { openAiErrorText } from '../whisper/errors.js';

/** What the adapter knows about one call when it maps an error. */
export interface OpenAiErrorContext {
  provider: string;
  model: string;
  scope: AttemptScope;
  secrets: readonly (string | undefined)[];
}

/** The fields of the `openai` package's APIError the mapping reads (read by shape, so another copy of the package works too). */
interface ApiErrorLike {
  status: number;
  headers?: { get(name: string): string | null };
  /** The body's `error` object (OpenAI, Azure), or undefined when the body was not JSON. */
  error?: unknown;
  message: string;
}

function isApiError(err: unknown): err is ApiErrorLike {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** The first `code` along an error's cause chain (fetch puts ECONNREFUSED two levels down). */
function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps what `chat.completions.create` throws to an AiError. An APIError is classified by the
 * core from its status and the body's `error.code` (`openAiErrorDetails` / `httpError`): 429
 * `rate_limit_exceeded` rate_limited (retryable, honouring `retry-after-ms`, then
 * `Retry-After`), 429 `insufficient_quota` unauthenticated (not retryable: no wait brings
 * credits back, and it is no health failure for the breaker), 401 `invalid_api_key`
 * unauthenticated, 400 `context_length_exceeded` and Azure's 400 `content_filter`
 * invalid_request (the chain moves on), 5xx unavailable. An abort becomes timeout or
 * cancelled (whichever fired); no response at all, unavailable.
 */
export function mapOpenAiError(err: unknown, c: OpenAiErrorContext): AiError {
  if (err instanceof AiError) return err;
  const what = `chat completion (${c.model})`;
  if (c.scope.aborted || err instanceof APIUserAbortError || (err as { name?: unknown })?.name === 'AbortError') {
    return c.scope.abortError(c.provider, what, sanitisedCause(err, c.secrets));
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new AiError('timeout', `${c.provider}: ${what} timed out in the client`, { provider: c.provider, retryable: true });
  }
  if (isApiError(err)) {
    // The SDK keeps the body's `error` object; the core's helpers read the whole body.
    const body = err.error !== undefined ? { error: err.error } : undefined;
    const details = openAiErrorDetails(body);
    const text = openAiErrorText(body) ?? err.message;
    const retryAfterMs = retryAfterFromHeaders(err.headers);
    return httpError(c.provider, err.status, safeProviderText(redactSecrets(text, c.secrets)), {
      what,
      details,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
  }
  const code = networkCode(err);
  const cause = sanitisedCause(err, c.secrets);
  return new AiError('unavailable', `${c.provider}: ${what} failed before a response arrived${code ? ` (${code})` : ''}`, {
    provider: c.provider,
    retryable: true,
    ...(cause && { cause }),
  });
}

/**
 * The answer arrived but holds no grade: a refusal, a cut-off or filtered answer, text that is
 * not JSON. It was generated, so its tokens were billed (`usage`, for the core to price). Retryable
 * like the core's own schema_violation: a second sample may answer, and the chain moves on.
 */
export function unusableAnswer(provider: string, model: string, why: string, usage: BilledUsage): AiError {
  return new AiError('schema_violation', `${provider}: chat completion (${model}) returned no usable evaluation: ${why}`, {
    provider,
    retryable: true,
    usage,
  });
}
