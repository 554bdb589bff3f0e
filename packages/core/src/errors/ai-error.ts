import type { AttemptInfo } from '../spec/types.js';

/** Every failure the SDK reports is an AiError with one of these codes. */
export const AI_ERROR_CODES = [
  'timeout',
  'rate_limited',
  'unavailable',
  'invalid_request',
  'unauthenticated',
  'schema_violation',
  'budget_exceeded',
  'circuit_open',
  'cancelled',
  'exhausted',
  'invalid_config',
] as const;
export type AiErrorCode = (typeof AI_ERROR_CODES)[number];

/** Codes that are worth another attempt by default (same provider after backoff, or the next chain step). */
const RETRYABLE_BY_DEFAULT: ReadonlySet<AiErrorCode> = new Set(['timeout', 'rate_limited', 'unavailable', 'schema_violation']);

export interface AiErrorOptions {
  /** Whether another attempt may succeed. Defaults by code: timeout, rate_limited, unavailable, schema_violation are retryable. */
  retryable?: boolean;
  /** Provider name (or chain key) the error came from. */
  provider?: string;
  /** HTTP status or gRPC status code from the provider, when there was one. */
  status?: number;
  /** Provider-requested wait before the next try (Retry-After / RetryInfo), in milliseconds. */
  retryAfterMs?: number;
  /** Every attempt made, on `exhausted` (and on other call-level errors when attempts were made). */
  attempts?: AttemptInfo[];
  /**
   * What the provider billed although the attempt failed (e.g. an evaluator answer that was
   * generated but unusable): the core prices and records it.
   */
  usage?: BilledUsage;
  /** The underlying error. Never contains secrets: adapters pass sanitised causes. */
  cause?: unknown;
}

/** Raw usage units of a failed-but-billed attempt. */
export interface BilledUsage {
  tokensIn?: number;
  audioTokensIn?: number;
  cachedTokensIn?: number;
  tokensOut?: number;
  audioDurationMs?: number;
  characters?: number;
}

const BRAND = Symbol.for('korean-together.ai-error');

/**
 * The SDK's one error type. Recognise it with `isAiError(e)` and branch on `e.code`,
 * never on the message text. Messages name what failed and where, but never carry
 * API keys, learner audio or learner text.
 */
export class AiError extends Error {
  readonly code: AiErrorCode;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: AttemptInfo[] | undefined;
  readonly usage: BilledUsage | undefined;
  readonly [BRAND] = true;

  constructor(code: AiErrorCode, message: string, options: AiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AiError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.provider = options.provider;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.attempts = options.attempts;
    this.usage = options.usage;
  }

  /** A plain object for JSON responses and logs: code, message, retryable, provider, status, retryAfterMs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.provider !== undefined && { provider: this.provider }),
      ...(this.status !== undefined && { status: this.status }),
      ...(this.retryAfterMs !== undefined && { retryAfterMs: this.retryAfterMs }),
    };
  }
}

/** True for any AiError, also across duplicated copies of this package (checks a global symbol, not `instanceof`). */
export function isAiError(value: unknown): value is AiError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
