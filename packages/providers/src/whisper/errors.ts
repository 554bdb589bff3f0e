import { openAiErrorDetails } from '@korean-together/core/provider-kit';
import type { HttpCallInfo } from '../shared/http.js';

/**
 * The message of an OpenAI-style error body (`{ error: { message, code } }`) or a FastAPI one
 * (`{ detail }`, as self-hosted servers send). The status code decides the AiError code (via the
 * core's `httpError`: 429 rate_limited, 5xx unavailable, 401/403 unauthenticated, other 4xx
 * invalid_request) unless the body's `error.code` decides it (`insufficient_quota`: no credits
 * left, `unauthenticated`, not retryable); this text only goes into the message, truncated and
 * redacted.
 */
export function openAiErrorText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { error?: { message?: unknown; code?: unknown } | string; detail?: unknown };
  if (typeof b.error === 'string') return b.error;
  if (b.error && typeof b.error.message === 'string') return typeof b.error.code === 'string' ? `${b.error.code}: ${b.error.message}` : b.error.message;
  if (typeof b.detail === 'string') return b.detail;
  return undefined;
}

/** How the Whisper adapter's HTTP calls are named and redacted. */
export function whisperCallInfo(provider: string, apiKey: string | undefined): HttpCallInfo {
  return { provider, what: 'transcription', secrets: [apiKey], errorText: openAiErrorText, errorDetails: openAiErrorDetails };
}
