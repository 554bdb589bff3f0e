import type { AiError } from '@korean-together/core';
import type { AttemptScope } from '../shared/attempt-scope.js';
import { mapGoogleCallError } from '../shared/grpc-error.js';

/**
 * Maps a Speech Recognize failure to an AiError: gRPC codes through the core's
 * `codeForGrpcStatus` (RESOURCE_EXHAUSTED rate_limited with RetryInfo, UNAVAILABLE unavailable,
 * INVALID_ARGUMENT invalid_request, UNAUTHENTICATED / PERMISSION_DENIED unauthenticated,
 * DEADLINE_EXCEEDED timeout), aborts to timeout or cancelled.
 */
export function mapSpeechError(err: unknown, scope: AttemptScope, provider: string, secrets: readonly (string | undefined)[]): AiError {
  return mapGoogleCallError(err, scope, { provider, what: 'Recognize', secrets });
}
