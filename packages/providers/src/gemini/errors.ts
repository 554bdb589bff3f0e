import { AiError, type BilledUsage } from '@korean-together/core';
import { classifyProviderError, googleErrorDetails, parseRetryAfter, safeProviderText } from '@korean-together/core/provider-kit';
import { type AttemptScope, sanitisedCause } from '../shared/attempt-scope.js';
import { redactSecrets } from '../shared/redact.js';

/** What the adapter knows about one call when it maps an error. */
export interface GeminiErrorContext {
  provider: string;
  model: string;
  scope: AttemptScope;
  secrets: readonly (string | undefined)[];
  /** The Retry-After header of the failed response, captured by the adapter's fetch wrapper. */
  retryAfterHeader?: string | null;
  /**
   * True when the call failed before any request was sent on Vertex AI: google-auth-library
   * could not produce credentials (no ADC, a refresh that failed). No retry helps.
   */
  credentialsFailed?: boolean;
}

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: unknown[] };
}

function parseBody(message: string): GoogleErrorBody | undefined {
  try {
    const body = JSON.parse(message) as unknown;
    return body && typeof body === 'object' ? (body as GoogleErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/** True for @google/genai's ApiError, also when another copy of the package threw it. */
function isApiError(err: unknown): err is Error & { status: number } {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'number';
}

/**
 * Maps what `models.generateContent` throws to an AiError. An ApiError is classified by the
 * core's `classifyProviderError` from its HTTP status and the body's google.rpc details (read by
 * the core's `googleErrorDetails`): an ErrorInfo reason such as API_KEY_INVALID, which Google
 * sends with 400 INVALID_ARGUMENT, makes it `unauthenticated`; otherwise 429 rate_limited (with
 * RetryInfo, else Retry-After), 5xx unavailable, 400 invalid_request, 401/403 unauthenticated.
 * An abort becomes timeout or cancelled (whichever fired), a network failure unavailable.
 */
export function mapGeminiError(err: unknown, c: GeminiErrorContext): AiError {
  if (err instanceof AiError) return err;
  if (c.scope.aborted || (err as { name?: unknown })?.name === 'AbortError') {
    return c.scope.abortError(c.provider, `generateContent (${c.model})`, sanitisedCause(err, c.secrets));
  }
  if (isApiError(err)) {
    const body = parseBody(err.message);
    const details = googleErrorDetails(body?.error?.details);
    const { code, retryable } = classifyProviderError({ http: err.status }, details);
    const retryAfterMs = details.retryAfterMs ?? parseRetryAfter(c.retryAfterHeader ?? undefined);
    const status = body?.error?.status ? ` ${body.error.status}` : '';
    const reason = details.reason ? ` (${safeProviderText(details.reason, 60)})` : '';
    const text = safeProviderText(redactSecrets(body?.error?.message ?? err.message, c.secrets));
    return new AiError(code, `${c.provider}: generateContent (${c.model}) failed with HTTP ${err.status}${status}${reason}${text ? `: ${text}` : ''}`, {
      provider: c.provider,
      status: err.status,
      retryable,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
  }
  const cause = sanitisedCause(err, c.secrets);
  if (c.credentialsFailed) {
    return new AiError('unauthenticated', `${c.provider}: generateContent (${c.model}) sent nothing: no Google Cloud credentials could be obtained (googleAuthOptions or Application Default Credentials)`, {
      provider: c.provider,
      retryable: false,
      ...(cause && { cause }),
    });
  }
  const netCode = (err as { cause?: { code?: unknown } })?.cause?.code;
  return new AiError(
    'unavailable',
    `${c.provider}: generateContent (${c.model}) failed before a response arrived${typeof netCode === 'string' ? ` (${netCode})` : ''}`,
    { provider: c.provider, retryable: true, ...(cause && { cause }) },
  );
}

/** The answer arrived but holds nothing to grade: blocked, empty, cut off or not JSON. Retryable so the chain moves on. */
export function unusableAnswer(provider: string, model: string, why: string, usage?: BilledUsage): AiError {
  // The answer was generated, so its tokens were billed: `usage` lets the core record the cost.
  return new AiError('schema_violation', `${provider}: generateContent (${model}) returned no usable evaluation: ${why}`, {
    provider,
    retryable: true,
    ...(usage && { usage }),
  });
}
