import { openAiErrorDetails } from '@korean-together/core/provider-kit';
import type { HttpCallInfo } from '../shared/http.js';
import { openAiErrorText } from '../whisper/errors.js';

/**
 * How the speech adapter's HTTP calls are named and redacted. Status codes map through the
 * core's `httpError` (429 rate_limited with retry-after-ms / Retry-After, 5xx unavailable,
 * 401/403 unauthenticated, other 4xx invalid_request), except where OpenAI's `error.code`
 * decides (429 `insufficient_quota` is `unauthenticated`, not retryable); the OpenAI / FastAPI
 * error text is quoted, truncated and redacted.
 */
export function httpTtsCallInfo(provider: string, apiKey: string | undefined, piece?: { index: number; count: number }): HttpCallInfo {
  const what = piece && piece.count > 1 ? `speech synthesis (piece ${piece.index + 1} of ${piece.count})` : 'speech synthesis';
  return { provider, what, secrets: [apiKey], errorText: openAiErrorText, errorDetails: openAiErrorDetails };
}
