import { AiError } from '../errors/ai-error.js';

/**
 * The AiError for a request a provider would reject anyway: `<who>: invalid request: <field>: <rule>`.
 * Names the field and the rule it breaks, never quotes the value (learner content). `who` is
 * the operation ('stt.transcribe') in the client, the provider's name in an adapter, which also
 * passes itself as `provider`.
 */
export function invalidRequest(who: string, field: string, problem: string, provider?: string): AiError {
  return requestError(who, [`${field}: ${problem}`], provider);
}

/** One `invalid_request` naming every broken rule (`field: rule`), joined by '; '. */
export function requestError(who: string, issues: readonly string[], provider?: string, what = 'invalid request'): AiError {
  return new AiError('invalid_request', `${who}: ${what}: ${issues.join('; ')}`, { retryable: false, ...(provider !== undefined && { provider }) });
}

/** Where a request validator reports: the operation or adapter named in messages, and the provider for `AiError.provider`. */
export interface RequestCheckOptions {
  /** Named first in messages. Default: the client operation ('stt.transcribe'). */
  who?: string;
  /** Set as `AiError.provider` (an adapter passes its name). Default: none. */
  provider?: string;
}
