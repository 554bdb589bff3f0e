import { AiError, codeForGrpcStatus, GrpcStatus, parseRetryAfter, parseRetryDelay, safeProviderText } from '@korean-together/core';
import { type AttemptScope, sanitisedCause } from './attempt-scope.js';
import { redactSecrets } from './redact.js';

const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

export interface GoogleCallInfo {
  provider: string;
  what: string;
  secrets: readonly (string | undefined)[];
}

const num = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  // protobufjs decodes int64 as Long when long.js is around.
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
};

/**
 * The google.rpc.RetryInfo delay carried by a google-gax error: decoded status details
 * (gRPC `grpc-status-details-bin`, REST `error.details`), else a `retry-after` trailer.
 */
export function grpcRetryAfterMs(err: unknown): number | undefined {
  const e = err as { statusDetails?: unknown; metadata?: { get?(key: string): unknown[] } };
  if (Array.isArray(e.statusDetails)) {
    for (const d of e.statusDetails) {
      const delay = (d as { retryDelay?: unknown } | null)?.retryDelay;
      if (delay === undefined || delay === null) continue;
      const ms = typeof delay === 'string' ? parseRetryDelay(delay) : parseRetryDelay({ seconds: num((delay as { seconds?: unknown }).seconds), nanos: num((delay as { nanos?: unknown }).nanos) });
      if (ms !== undefined) return ms;
    }
  }
  const header = typeof e.metadata?.get === 'function' ? e.metadata.get('retry-after')[0] : undefined;
  return typeof header === 'string' ? parseRetryAfter(header) : undefined;
}

/**
 * Maps an error from a google-gax call (gRPC or REST fallback) to an AiError: aborts by the
 * attempt become timeout / cancelled, numeric gRPC codes go through `codeForGrpcStatus`,
 * RetryInfo becomes `retryAfterMs`, anything without a code is `unavailable`.
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
  const { code, retryable } = codeForGrpcStatus(e.code);
  const name = STATUS_NAMES.get(e.code) ?? 'STATUS';
  const detail = safeProviderText(redactSecrets(typeof e.details === 'string' && e.details ? e.details : String(e.message ?? ''), info.secrets));
  const retryAfterMs = grpcRetryAfterMs(err);
  return new AiError(code, `${info.provider}: ${info.what} failed with gRPC ${name} (${e.code})${detail ? `: ${detail}` : ''}`, {
    provider: info.provider,
    retryable,
    status: e.code,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
    ...(cause && { cause }),
  });
}
