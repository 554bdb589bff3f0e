// @korean-together/core: the client, the policy, errors, the provider spec types, pricing and
// the budget stores. What provider adapters need lives in '@korean-together/core/provider-kit',
// test doubles in '@korean-together/core/testing', the Redis stores in '@korean-together/core/redis'.

// The client
export { createAiClient } from './client.js';
export type { AiClient, CreateAiClientOptions } from './client.js';
export { closeShares, DEFAULT_CLOSE_TIMEOUT_MS, SINK_CLOSE_SHARE_MS } from './client-close.js';
export type { CloseShares } from './client-close.js';
export type { AiClientEvents, BackgroundErrorEvent, ClosePending } from './events.js';
export type { Telemetry, CallObserver, CallTrace, ObservedCall, ObservedAttempt, ObservedClient } from './engine/call-observer.js';
export type { BreakerState } from './policy/circuit-breaker.js';
export type { Limiter, LimiterBackendOptions, Release, SharedLimiterSpec, SharedRateLimits } from './policy/rate-limit.js';

// The policy
export { definePolicy, defaultPolicy, loadPolicy, aiPolicySchema, isDefinedPolicy } from './policy/ai-policy.js';
export type {
  AiPolicy,
  AiPolicyInput,
  CachePolicy,
  CapabilityPolicy,
  EvalCapabilityPolicy,
  RetryPolicy,
  CircuitBreakerPolicy,
  RateLimitPolicy,
  SharedRateLimitPolicy,
  TtsCapabilityPolicy,
} from './policy/ai-policy.js';

// Errors
export { AiError, isAiError, AI_ERROR_CODES } from './errors/ai-error.js';
export { SttStreamInterruptedError, TtsStreamInterruptedError } from './streaming/stream-errors.js';
export type { SttFinal } from './streaming/stream-errors.js';
export { streamAudioByteLimit, STREAM_AUDIO_MAX_BITS_PER_SECOND, STREAM_AUDIO_HEADER_BYTES } from './streaming/stt-stream-request.js';
export type {
  SttStreamRequest,
  SttStreamEvent,
  SttStream,
  TtsStreamRequest,
  TtsStream,
  SttProviderStream,
  TtsProviderStream,
  SttStreamingCapable,
  TtsStreamingCapable,
} from './spec/streaming.js';
export type { AiErrorCode, AiErrorOptions, BilledUsage } from './errors/ai-error.js';

// The provider spec: requests, results, providers
export { CAPABILITIES, AUDIO_ENCODINGS, TTS_AUDIO_ENCODINGS, ERROR_TYPES } from './spec/types.js';
export type {
  Capability,
  AudioEncoding,
  TtsAudioEncoding,
  Formality,
  ErrorType,
  SttRequest,
  TtsRequest,
  EvalRequest,
  AttemptContext,
  SttProviderResult,
  TtsProviderResult,
  EvalProviderResult,
  SttProvider,
  TtsProvider,
  EvalProvider,
  Provider,
  CallOptions,
  AttemptOutcome,
  AttemptInfo,
  ResultMeta,
  SttResult,
  TtsResult,
  EvalErrorItem,
  EvalResult,
} from './spec/types.js';
export { evalOutputSchema, evalOutputJsonSchema, checkEvalOutput } from './eval/eval-result.js';
export type { EvalOutput } from './eval/eval-result.js';

// Pricing
export { defaultPriceTable, mergePriceTables, findPriceRows, priceTableSchema } from './pricing/price-table.js';
export type { PriceRow, PriceTable, PriceUnit } from './pricing/price-table.js';
export { costMicroUsd, billedUnits, microToUsd, usdToMicro, Pricer } from './pricing/cost.js';
export type { UsageUnits } from './pricing/cost.js';

// Budgets and usage
export { MemoryBudgetStore, createMemoryBudgetStore } from './budget/memory-budget-store.js';
export type { BudgetStore, BudgetLimit, ReserveRequest, ReserveResult } from './budget/budget-store.js';
export { MemoryCacheStore } from './cache/memory-cache-store.js';
export type { MemoryCacheStoreOptions } from './cache/memory-cache-store.js';
export type { CacheStore, CacheOperation } from './cache/cache-store.js';
export type { CacheStoreOption } from './cache/client-caches.js';
export { STORE_FAILURES_TO_PAUSE, STORE_PAUSE_MS } from './cache/response-cache.js';
export { normalizeText } from './cache/normalize-text.js';
export { ttsCacheKey, evalCacheKey, gradingPromptVersion } from './cache/cache-key.js';
export type { TtsPrefetchOptions, TtsPrefetchProgress, TtsPrefetchReport } from './cache/tts-prefetch.js';
export type { UsageRecord, UsageSink } from './usage/usage-record.js';

// Time: the clock the client and the stores run on (usage-log's sinks use these too)
export { systemClock, sleep, backgroundTimeout } from './policy/clock.js';
export type { Clock, RandomSource, SleepOptions } from './policy/clock.js';
export { backoffDelayMs } from './policy/backoff.js';
export type { BackoffOptions } from './policy/backoff.js';
