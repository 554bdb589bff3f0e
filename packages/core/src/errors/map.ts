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

/** A protobuf int64 as a number: google-gax decodes it as a string, a number or a Long. */
function int64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

/**
 * Parses a google.rpc.RetryInfo `retryDelay` ("1.5s" in JSON, or { seconds, nanos } decoded
 * from protobuf, seconds as a number, string or Long) into milliseconds.
 */
export function parseRetryDelay(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  }
  if (value && typeof value === 'object') {
    const v = value as { seconds?: unknown; nanos?: unknown };
    const s = int64(v.seconds);
    const n = int64(v.nanos);
    if (Number.isFinite(s) && Number.isFinite(n)) return Math.round(s * 1000 + n / 1e6);
  }
  return undefined;
}

/**
 * The wait a failed HTTP response asks for: `retry-after-ms` (milliseconds, which OpenAI sends
 * and its own client reads first), else `Retry-After` (delta seconds or an HTTP date).
 */
export function retryAfterFromHeaders(headers: { get(name: string): string | null } | null | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  return parseRetryAfter(headers.get('retry-after'), nowMs);
}

/** What a provider's structured error details say beyond the status. */
export interface ErrorDetails {
  /** google.rpc.ErrorInfo `reason` ('API_KEY_INVALID'), or an OpenAI-style `error.code` ('insufficient_quota'). */
  reason?: string;
  /** ErrorInfo `domain` ('googleapis.com'), or `OPENAI_ERROR_DOMAIN` for an OpenAI-style body. */
  domain?: string;
  /** google.rpc.RetryInfo `retryDelay`, or the response's retry headers, in milliseconds. */
  retryAfterMs?: number;
}

/** The ErrorInfo domain of Google's own reasons (google.api.ErrorReason). */
export const GOOGLE_ERROR_DOMAIN = 'googleapis.com';
/** The domain `openAiErrorDetails` puts on OpenAI-style error codes, which carry none of their own. */
export const OPENAI_ERROR_DOMAIN = 'openai';

type Verdict = { code: AiErrorCode; retryable: boolean };
const ACCOUNT: Verdict = { code: 'unauthenticated', retryable: false };

/**
 * Reasons that decide the code whatever the status says. Google answers a bad API key with
 * 400 / INVALID_ARGUMENT and ErrorInfo API_KEY_INVALID: the status alone would call it a bad
 * request. OpenAI answers "no credits left" with 429 `insufficient_quota`: the status alone would
 * call it a transient rate limit. Both are about the credentials or the account behind them:
 * no retry helps, only an operator, so they are `unauthenticated` (not retryable, and not a
 * health failure for the circuit breakers), like the 401 / 403 of the same services.
 */
const REASONS: ReadonlyMap<string, Verdict> = new Map([
  ...[
    'API_KEY_INVALID',
    'API_KEY_SERVICE_BLOCKED',
    'API_KEY_HTTP_REFERRER_BLOCKED',
    'API_KEY_IP_ADDRESS_BLOCKED',
    'API_KEY_ANDROID_APP_BLOCKED',
    'API_KEY_IOS_APP_BLOCKED',
    'ACCESS_TOKEN_EXPIRED',
    'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
    'ACCESS_TOKEN_TYPE_UNSUPPORTED',
    'ACCOUNT_STATE_INVALID',
    'SERVICE_DISABLED',
    'BILLING_DISABLED',
    'CONSUMER_SUSPENDED',
    'CONSUMER_INVALID',
    'USER_PROJECT_DENIED',
  ].map((r): [string, Verdict] => [`${GOOGLE_ERROR_DOMAIN}/${r}`, ACCOUNT]),
  ...['insufficient_quota', 'billing_not_active'].map((r): [string, Verdict] => [`${OPENAI_ERROR_DOMAIN}/${r}`, ACCOUNT]),
]);

/**
 * The AiError code and retryability of a provider failure: a known ErrorInfo / error-code
 * reason (in its domain) decides; otherwise the HTTP status or gRPC code does.
 */
export function classifyProviderError(status: { http: number } | { grpc: number }, details: ErrorDetails = {}): Verdict {
  const byReason = details.reason !== undefined ? REASONS.get(`${details.domain ?? ''}/${details.reason}`) : undefined;
  if (byReason) return { ...byReason };
  return 'http' in status ? codeForHttpStatus(status.http) : codeForGrpcStatus(status.grpc);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Reads a google.rpc.Status `details` list, in either form the clients surface it: JSON objects
 * with '@type' (Gemini's error body: ErrorInfo `reason` / `domain`, RetryInfo `retryDelay: "26s"`)
 * or google-gax's decoded messages (`err.statusDetails`, from the `grpc-status-details-bin`
 * trailer). `promoted` is what google-gax already lifted out of the ErrorInfo (`err.reason`,
 * `err.domain`); the list wins when both are present. Unknown details are skipped.
 */
export function googleErrorDetails(details: unknown, promoted: { reason?: unknown; domain?: unknown } = {}): ErrorDetails {
  let reason: string | undefined;
  let domain: string | undefined;
  let retryAfterMs: number | undefined;
  for (const d of Array.isArray(details) ? (details as unknown[]) : []) {
    if (!d || typeof d !== 'object') continue;
    const o = d as Record<string, unknown> & { $type?: { fullName?: unknown } };
    const type = str(o['@type']) ?? str(o.$type?.fullName) ?? '';
    const isErrorInfo = type ? type.endsWith('google.rpc.ErrorInfo') : typeof o.reason === 'string';
    const isRetryInfo = type ? type.endsWith('google.rpc.RetryInfo') : o.retryDelay !== undefined;
    if (isErrorInfo && reason === undefined) {
      reason = str(o.reason);
      domain = str(o.domain);
    } else if (isRetryInfo && retryAfterMs === undefined) {
      retryAfterMs = parseRetryDelay(o.retryDelay);
    }
  }
  reason ??= str(promoted.reason);
  domain ??= reason !== undefined ? str(promoted.domain) : undefined;
  return { ...(reason !== undefined && { reason }), ...(domain !== undefined && { domain }), ...(retryAfterMs !== undefined && { retryAfterMs }) };
}

/**
 * Reads an OpenAI-style error body (`{ error: { message, type, code } }`): its `code`, else its
 * `type`, as the reason, in `OPENAI_ERROR_DOMAIN`. Empty for any other shape.
 */
export function openAiErrorDetails(body: unknown): ErrorDetails {
  const error = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (!error || typeof error !== 'object') return {};
  const e = error as { code?: unknown; type?: unknown };
  const reason = str(e.code) ?? str(e.type);
  return reason === undefined ? {} : { reason, domain: OPENAI_ERROR_DOMAIN };
}

/**
 * Builds the AiError for a failed HTTP response: code from the status unless `details` name a
 * reason that decides it (see `classifyProviderError`), a truncated and redacted body excerpt,
 * the requested wait (`retryAfterMs`, else `details.retryAfterMs`) honoured.
 */
export function httpError(
  provider: string,
  status: number,
  body: unknown,
  opts: { retryAfterMs?: number; what?: string; details?: ErrorDetails } = {},
): AiError {
  const { code, retryable } = classifyProviderError({ http: status }, opts.details);
  const excerpt = safeProviderText(body);
  const retryAfterMs = opts.retryAfterMs ?? opts.details?.retryAfterMs;
  return new AiError(code, `${provider}: ${opts.what ?? 'request'} failed with HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, {
    provider,
    status,
    retryable,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}
