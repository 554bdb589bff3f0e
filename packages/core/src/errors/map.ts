import { AiError, type AiErrorCode } from './ai-error.js';

/** Longest provider error text an AiError message may quote. Bodies can echo request content. */
export const MAX_PROVIDER_TEXT = 200;

/**
 * Truncates provider error text and strips things that look like secrets (API keys,
 * bearer tokens, `key=` query parameters), so a message is safe to log.
 */
export function safeProviderText(text: unknown, max = MAX_PROVIDER_TEXT): string {
  let s = typeof text === 'string' ? text : text instanceof Error ? text.message : String(text ?? '');
  s = s
    .replace(/AIza[0-9A-Za-z_-]{20,}/g, '[redacted]')
    .replace(/\b(sk|pk|rk)-[0-9A-Za-z_-]{10,}/g, '[redacted]')
    .replace(/(bearer\s+)[^\s"',]+/gi, '$1[redacted]')
    .replace(/([?&](?:key|api_key|apikey|token|access_token)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Maps an HTTP status to the AiError code and retryability the policy acts on. */
export function codeForHttpStatus(status: number): { code: AiErrorCode; retryable: boolean } {
  if (status === 429) return { code: 'rate_limited', retryable: true };
  if (status === 401 || status === 403) return { code: 'unauthenticated', retryable: false };
  if (status === 408 || status === 504) return { code: 'timeout', retryable: true };
  if (status >= 500) return { code: 'unavailable', retryable: true };
  if (status === 409) return { code: 'unavailable', retryable: true };
  return { code: 'invalid_request', retryable: false };
}

/** gRPC status codes (google.rpc.Code) the adapters meet. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Maps a gRPC status code to the AiError code and retryability the policy acts on. */
export function codeForGrpcStatus(code: number): { code: AiErrorCode; retryable: boolean } {
  switch (code) {
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return { code: 'rate_limited', retryable: true };
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.INTERNAL:
    case GrpcStatus.ABORTED:
    case GrpcStatus.UNKNOWN:
      return { code: 'unavailable', retryable: true };
    case GrpcStatus.DEADLINE_EXCEEDED:
      return { code: 'timeout', retryable: true };
    case GrpcStatus.CANCELLED:
      return { code: 'cancelled', retryable: false };
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return { code: 'unauthenticated', retryable: false };
    default:
      return { code: 'invalid_request', retryable: false };
  }
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value == null || value === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Parses a google.rpc.RetryInfo `retryDelay` ("1.5s", or { seconds, nanos }) into milliseconds.
 */
export function parseRetryDelay(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  }
  if (value && typeof value === 'object') {
    const v = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(v.seconds ?? 0);
    const n = Number(v.nanos ?? 0);
    if (Number.isFinite(s) && Number.isFinite(n)) return Math.round(s * 1000 + n / 1e6);
  }
  return undefined;
}

/**
 * Builds the AiError for a failed HTTP response: code from the status, a truncated and
 * redacted body excerpt, Retry-After honoured.
 */
export function httpError(
  provider: string,
  status: number,
  body: unknown,
  opts: { retryAfterMs?: number; what?: string } = {},
): AiError {
  const { code, retryable } = codeForHttpStatus(status);
  const excerpt = safeProviderText(body);
  return new AiError(code, `${provider}: ${opts.what ?? 'request'} failed with HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, {
    provider,
    status,
    retryable,
    ...(opts.retryAfterMs !== undefined && { retryAfterMs: opts.retryAfterMs }),
  });
}
