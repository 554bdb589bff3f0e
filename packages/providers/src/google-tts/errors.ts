import type { AiError } from '@korean-together/core';
import type { AttemptScope } from '../shared/attempt-scope.js';
import { mapGoogleCallError } from '../shared/grpc-error.js';

/**
 * Maps a SynthesizeSpeech failure to an AiError: gRPC codes through the core's
 * `codeForGrpcStatus`, RetryInfo to retryAfterMs, aborts to timeout or cancelled.
 * `piece` names the part of a split text that failed.
 */
export function mapTextToSpeechError(
  err: unknown,
  scope: AttemptScope,
  provider: string,
  secrets: readonly (string | undefined)[],
  piece?: { index: number; count: number },
): AiError {
  const what = piece && piece.count > 1 ? `SynthesizeSpeech (piece ${piece.index + 1} of ${piece.count})` : 'SynthesizeSpeech';
  return mapGoogleCallError(err, scope, { provider, what, secrets });
}
