import { AiError } from '@korean-together/core';
import { classifyProviderError, GrpcStatus, type ErrorDetails, googleErrorDetails, parseRetryAfter, safeProviderText } from '@korean-together/core/provider-kit';
import { type AttemptScope, sanitisedCause } from './attempt-scope.js';
import { redactSecrets } from './redact.js';

const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

export interface GoogleCallInfo {
  provider: string;
  what: string;
  secrets: readonly (string | undefined)[];
}

/**
 * The google.rpc.Status details of a google-gax error, read by the core's shared
 * `googleErrorDetails`: ErrorInfo reason / domain (decoded from the `grpc-status-details-bin`
 * trailer into `err.statusDetails`, and promoted by google-gax to `err.reason` / `err.domain`)
 * and the RetryInfo delay, else a `retry-after` trailer.
 */
export function grpcErrorDetails(err: unknown): ErrorDetails {
  const e = (err ?? {}) as { statusDetails?: unknown; reason?: unknown; domain?: unknown; metadata?: { get?(key: string): unknown[] } };
  const details = googleErrorDetails(e.statusDetails, { reason: e.reason, domain: e.domain });
  if (details.retryAfterMs === undefined && typeof e.metadata?.get === 'function') {
    const header = e.metadata.get('retry-after')[0];
    const ms = typeof header === 'string' ? parseRetryAfter(header) : undefined;
    if (ms !== undefined) return { ...details, retryAfterMs: ms };
  }
  return details;
}

/**
 * Maps an error from a google-gax call (gRPC or REST fallback) to an AiError: aborts by the
 * attempt become timeout / cancelled; numeric gRPC codes go through the core's
 * `classifyProviderError`, where an ErrorInfo reason such as API_KEY_INVALID (sent with
 * INVALID_ARGUMENT) decides before the code does; RetryInfo becomes `retryAfterMs`; anything
 * without a code is `unavailable`.
 */
export function mapGoogleCallError(err: unknown, scope: AttemptScope, info: GoogleCallInfo): AiError {
  if (scope.aborted) return scope.abortError(info.provider, info.what, sanitisedCause(err, info.secrets));
  if (err instanceof AiError) return err;
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown; httpStatusCode?: unknown };
  const cause = sanitisedCause(err, info.secrets);
  if (typeof e.code !== 'number') {
    return new AiError('unavailable', `${info.provider}: ${info.what} failed before a status arrived (${safeProviderText(redactSecrets(String(e.message ?? ''), info.secrets), 120)})`, {
      provider: info.provider,
      retryable: true,
      ...(cause && { cause }),
    });
  }
  const details = grpcErrorDetails(err);
  const { code, retryable } = classifyProviderError({ grpc: e.code }, details);
  const name = STATUS_NAMES.get(e.code) ?? 'STATUS';
  const reason = details.reason ? `, reason ${safeProviderText(details.reason, 60)}` : '';
  const detail = safeProviderText(redactSecrets(typeof e.details === 'string' && e.details ? e.details : String(e.message ?? ''), info.secrets));
  return new AiError(code, `${info.provider}: ${info.what} failed with gRPC ${name} (${e.code})${reason}${detail ? `: ${detail}` : ''}`, {
    provider: info.provider,
    retryable,
    status: e.code,
    ...(details.retryAfterMs !== undefined && { retryAfterMs: details.retryAfterMs }),
    ...(cause && { cause }),
  });
}
