// The errors a stream ends with once it delivered what a fallback could not take back.
import { AiError, type AiErrorCode } from '../errors/ai-error.js';
import type { AttemptInfo } from '../spec/types.js';
import type { SttStreamEvent } from '../spec/streaming.js';

/** A final result of a recognition stream. */
export type SttFinal = Extract<SttStreamEvent, { type: 'final' }>;

/**
 * A recognition stream failed after it had delivered final results: the chain does not move on
 * (the next provider would hear the turn again from its start). `finals` are the results the
 * caller already received, in order; `code` is the failure's, `retryable` false.
 */
export class SttStreamInterruptedError extends AiError {
  readonly finals: readonly SttFinal[];
  constructor(code: AiErrorCode, message: string, finals: readonly SttFinal[], attempts: AttemptInfo[], cause: unknown) {
    super(code, message, { retryable: false, attempts, cause });
    this.name = 'SttStreamInterruptedError';
    this.finals = finals;
  }

  /** The finals delivered, joined as `result.transcript` would have been. */
  get transcript(): string {
    return joinFinals(this.finals);
  }
}

/**
 * A synthesis stream failed after it had yielded audio: a reply must not restart mid-sentence,
 * so the chain does not move on. `bytesDelivered` and `chunksDelivered` say how much the caller
 * already received; `code` is the failure's, `retryable` false.
 */
export class TtsStreamInterruptedError extends AiError {
  constructor(
    code: AiErrorCode,
    message: string,
    readonly chunksDelivered: number,
    readonly bytesDelivered: number,
    attempts: AttemptInfo[],
    cause: unknown,
  ) {
    super(code, message, { retryable: false, attempts, cause });
    this.name = 'TtsStreamInterruptedError';
  }
}

/** Final transcripts joined by one space, blank ones left out. */
export function joinFinals(finals: readonly SttFinal[]): string {
  return finals
    .map((f) => f.transcript.trim())
    .filter((t) => t.length > 0)
    .join(' ');
}
