import { AiError } from '@korean-together/core';
import { type ErrorDetails, httpError, retryAfterFromHeaders, safeProviderText } from '@korean-together/core/provider-kit';
import { type AttemptScope, sanitisedCause } from './attempt-scope.js';
import { redactSecrets } from './redact.js';

/** Most error-body bytes read from a failed response; the message quotes far less. */
const MAX_ERROR_BODY = 8 * 1024;

export interface HttpCallInfo {
  /** Provider name for messages and AiError.provider. */
  provider: string;
  /** What the request does, for messages: 'transcription', 'speech synthesis'. */
  what: string;
  /** Secrets to strip from anything quoted (API keys). */
  secrets: readonly (string | undefined)[];
  /** Pulls the human-readable message out of a JSON error body, when the API has a shape for it. */
  errorText?: (body: unknown) => string | undefined;
  /** Pulls the structured reason out of a JSON error body (OpenAI's `error.code`), which can decide the AiError code. */
  errorDetails?: (body: unknown) => ErrorDetails;
}

async function readErrorBody(res: Response): Promise<string> {
  try {
    const text = await res.text();
    return text.length > MAX_ERROR_BODY ? text.slice(0, MAX_ERROR_BODY) : text;
  } catch {
    return '';
  }
}

/** Maps a thrown fetch / body-read error: aborts to timeout or cancelled, the rest to unavailable. */
export function fetchFailure(err: unknown, scope: AttemptScope, info: HttpCallInfo): AiError {
  if (scope.aborted || (err as { name?: unknown })?.name === 'AbortError') return scope.abortError(info.provider, info.what, err);
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return new AiError('unavailable', `${info.provider}: ${info.what} failed before a response arrived${code}`, {
    provider: info.provider,
    retryable: true,
    cause: sanitisedCause(cause ?? err, info.secrets),
  });
}

/**
 * Sends one HTTP request under the attempt's signal and returns the OK response. Network
 * failures, aborts and non-2xx statuses become AiErrors (status mapped by the core,
 * Retry-After honoured, the body excerpt redacted).
 */
export async function fetchOk(url: string, init: RequestInit, scope: AttemptScope, info: HttpCallInfo): Promise<Response> {
  scope.throwIfAborted(info.provider, info.what);
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: init.signal ?? scope.signal });
  } catch (err) {
    throw fetchFailure(err, scope, info);
  }
  if (res.ok) return res;
  const raw = await readErrorBody(res);
  if (scope.aborted) throw scope.abortError(info.provider, info.what);
  let text = raw;
  let details: ErrorDetails | undefined;
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(raw);
    isJson = true;
  } catch {
    // Not JSON: quote the raw text.
  }
  if (isJson) {
    text = info.errorText?.(json) ?? raw;
    details = info.errorDetails?.(json);
  }
  // retry-after-ms first (OpenAI sends it and its own client reads it first), then Retry-After.
  const retryAfterMs = retryAfterFromHeaders(res.headers);
  throw httpError(info.provider, res.status, safeProviderText(redactSecrets(text, info.secrets)), {
    what: info.what,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
    ...(details && { details }),
  });
}

/** Reads a successful body as bytes, mapping aborts and connection loss mid-body. */
export async function readBytes(res: Response, scope: AttemptScope, info: HttpCallInfo): Promise<Uint8Array> {
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw fetchFailure(err, scope, info);
  }
}

/** Reads a successful body as text, mapping aborts and connection loss mid-body. */
export async function readText(res: Response, scope: AttemptScope, info: HttpCallInfo): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    throw fetchFailure(err, scope, info);
  }
}

/**
 * The URL of an OpenAI-style endpoint: `path` starts with 'v1/'. A base URL that already
 * ends in '/v1' (the OpenAI SDK's convention) is accepted too.
 */
export function openAiUrl(baseUrl: string, path: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const rel = path.replace(/^\/+/, '');
  return base.endsWith('/v1') && rel.startsWith('v1/') ? `${base}/${rel.slice(3)}` : `${base}/${rel}`;
}

/**
 * `OPENAI_API_KEY` from the environment, but only for OpenAI's own host: a key found in the
 * environment is never sent to a self-hosted or third-party server the host app pointed at.
 */
export function envKeyFor(baseUrl: string): string | undefined {
  try {
    return new URL(baseUrl).hostname === 'api.openai.com' ? process.env.OPENAI_API_KEY : undefined;
  } catch {
    return undefined;
  }
}
