import { isAiError, type AiErrorCode } from '@korean-together/core';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: {
    /** An AiError code, or 'not_found' / 'internal' for errors outside the SDK. */
    code: AiErrorCode | 'not_found' | 'internal' | 'payload_too_large';
    /** What failed, never with keys, learner text or audio (AiError messages are sanitised by the SDK). */
    message: string;
    retryable: boolean;
    provider?: string;
    retryAfterMs?: number;
    /** On `exhausted` and other call-level errors: every attempt, without error text. */
    attempts?: { provider: string; modelId: string; outcome: string; errorCode?: string; latencyMs: number }[];
  };
}

const STATUS_BY_CODE: Record<AiErrorCode, number> = {
  invalid_request: 400,
  invalid_config: 500,
  // The learner (or the day) has spent its allowance: not the client's fault, not transient.
  budget_exceeded: 402,
  rate_limited: 429,
  timeout: 504,
  unavailable: 503,
  circuit_open: 503,
  // Every provider failed, or answered something unusable: a bad gateway.
  exhausted: 502,
  schema_violation: 502,
  // The server's own credentials were refused upstream; the caller can do nothing about it.
  unauthenticated: 502,
  // The call was cut short (the server is shutting down).
  cancelled: 503,
};

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** Seconds for a Retry-After header, when the SDK knows one. */
  retryAfterSeconds?: number;
}

/**
 * Turns anything thrown by a route into an HTTP status and a JSON body. AiErrors keep their
 * code and (already sanitised) message; anything else becomes a bare 'internal' error whose
 * text is not echoed, since it could carry request data.
 */
export function toHttpError(e: unknown): HttpError {
  if (isAiError(e)) {
    const status = STATUS_BY_CODE[e.code] ?? 500;
    const body: ErrorBody = {
      error: {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        ...(e.provider && { provider: e.provider }),
        ...(e.retryAfterMs !== undefined && { retryAfterMs: e.retryAfterMs }),
        ...(e.attempts && {
          attempts: e.attempts.map((a) => ({
            provider: a.provider,
            modelId: a.modelId,
            outcome: a.outcome,
            ...(a.errorCode && { errorCode: a.errorCode }),
            latencyMs: a.latencyMs,
          })),
        }),
      },
    };
    return { status, body, ...(e.retryAfterMs !== undefined && { retryAfterSeconds: Math.max(1, Math.ceil(e.retryAfterMs / 1000)) }) };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal server error', retryable: false } } };
}

/** A request-shaped error (validation, bad JSON, body too large, draining) as the same JSON body. */
export function requestError(status: number, code: ErrorBody['error']['code'], message: string, retryable = false): HttpError {
  return { status, body: { error: { code, message, retryable } } };
}
