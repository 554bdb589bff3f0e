/** Why an attempt's signal fired. */
export type AbortCause = 'attempt_timeout' | 'deadline' | 'caller' | 'hedge_lost' | 'closing';

/** The reason put on the signals the engine aborts, so it knows which limit fired. */
export class AbortReason extends Error {
  constructor(readonly abortCause: AbortCause, message: string) {
    super(message);
    this.name = 'AbortError';
  }
}
