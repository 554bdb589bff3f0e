import type { Capability } from '../spec/types.js';

/**
 * One provider attempt, as stored in ai_usage_log (columns in camelCase). Never carries
 * learner text, audio or secrets: errorMessage is the AiError message, which is sanitised.
 */
export interface UsageRecord {
  /** UUID made when the attempt ends; the database dedups on it. */
  id: string;
  /** UUID shared by every attempt of one call. */
  callId: string;
  /** 1-based attempt number within the call. */
  attempt: number;
  sessionId?: string;
  eventId?: string;
  providerType: Capability;
  providerName: string;
  modelId?: string;
  tokensIn?: number;
  tokensOut?: number;
  /** The part of tokensIn served from the provider's prompt cache (Gemini `cachedContentTokenCount`), priced at the cached rate. */
  tokensCachedIn?: number;
  audioDurationMs?: number;
  characters?: number;
  latencyMs: number;
  success: boolean;
  errorCode?: string;
  errorMessage?: string;
  /** Exact to the micro-dollar; 0 when the provider did not bill. */
  estimatedCostUsd?: number;
  priceVersion?: string;
  /** True when the SDK's own cache answered (no provider call; estimatedCostUsd is 0). */
  cacheHit?: boolean;
  /** Cache hits: what the provider call would have cost, exact to the micro-dollar. */
  savedCostUsd?: number;
  createdAt: Date;
}

/**
 * Where usage records go. `write` must be synchronous, never throw and never wait on I/O:
 * it is called on the caller's path. `flush` resolves when everything written so far is
 * durable; `close` flushes and releases resources.
 */
export interface UsageSink {
  write(record: UsageRecord): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}
