import { isAiError, type AiError } from '../../src/errors/ai-error.js';

/** The AiError `p` rejects with; throws when it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<AiError> {
  try {
    await p;
  } catch (e) {
    if (isAiError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}
