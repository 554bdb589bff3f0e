// Every public export of @korean-together/core, by name.
export { AiError, isAiError, AI_ERROR_CODES } from './errors/ai-error.js';
export type { AiErrorCode, AiErrorOptions, BilledUsage } from './errors/ai-error.js';
export {
  safeProviderText,
  codeForHttpStatus,
  codeForGrpcStatus,
  GrpcStatus,
  parseRetryAfter,
  parseRetryDelay,
  retryAfterFromHeaders,
  classifyProviderError,
  googleErrorDetails,
  openAiErrorDetails,
  GOOGLE_ERROR_DOMAIN,
  OPENAI_ERROR_DOMAIN,
  httpError,
  MAX_PROVIDER_TEXT,
} from './errors/map.js';
export type { ErrorDetails } from './errors/map.js';
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
export { evalSystemInstruction, evalUserPrompt, FORMALITY_LABELS } from './eval/prompt.js';
export { defaultPriceTable, mergePriceTables, findPriceRows, priceTableSchema } from './pricing/price-table.js';
export type { PriceRow, PriceTable, PriceUnit } from './pricing/price-table.js';
export { costMicroUsd, billedUnits, microToUsd, usdToMicro, Pricer } from './pricing/cost.js';
export type { UsageUnits } from './pricing/cost.js';
export { definePolicy, defaultPolicy, loadPolicy, aiPolicySchema, isDefinedPolicy } from './policy/ai-policy.js';
export type {
  AiPolicy,
  AiPolicyInput,
  CapabilityPolicy,
  EvalCapabilityPolicy,
  RetryPolicy,
  CircuitBreakerPolicy,
  RateLimitPolicy,
  SharedRateLimitPolicy,
  TtsCapabilityPolicy,
} from './policy/ai-policy.js';
export { MemoryBudgetStore, createMemoryBudgetStore } from './budget/memory-budget-store.js';
export type { BudgetStore, BudgetLimit, ReserveRequest, ReserveResult } from './budget/budget-store.js';
export type { UsageRecord, UsageSink } from './usage/usage-record.js';
export { createAiClient } from './client.js';
export type { AiClient, CreateAiClientOptions } from './client.js';
export type { AiClientEvents, BackgroundErrorEvent, ClosePending } from './call.js';
export { systemClock, sleep, backgroundTimeout } from './policy/clock.js';
export type { Clock, RandomSource, SleepOptions } from './policy/clock.js';
export { Deadline, ChildAbort, AbortReason, abortCauseOf } from './policy/deadline.js';
export type { AbortCause } from './policy/deadline.js';
export { backoffDelayMs } from './policy/backoff.js';
export type { BackoffOptions } from './policy/backoff.js';
export { decideRetry } from './policy/retry.js';
export type { RetryDecision } from './policy/retry.js';
export { CircuitBreaker, countsAsBreakerFailure } from './policy/circuit-breaker.js';
export type { BreakerState, BreakerPermit, BreakerEvents } from './policy/circuit-breaker.js';
export { RateLimiter } from './policy/rate-limit.js';
export type { Release, LimiterBackendOptions, Limiter, SharedRateLimits, SharedLimiterSpec } from './policy/rate-limit.js';
export { walkChain } from './policy/fallback.js';
export type { Step, StepOutcome, WalkOptions, WalkResult } from './policy/fallback.js';
export { BudgetGuard } from './budget/budget-guard.js';
export { worstCaseUnits } from './budget/worst-case.js';
export {
  validateSttRequest,
  validateTtsRequest,
  validateEvalRequest,
  MAX_SYNC_AUDIO_BYTES,
  MAX_SYNC_AUDIO_MS,
  MAX_EVAL_TEXT_CHARS,
} from './requests/validate.js';
export { audioDurationMs, flacDurationMs, oggOpusDurationMs } from './audio/audio-info.js';
export { audioContainerProblem } from './audio/container-check.js';
export { mp3Problem } from './audio/mp3.js';
export { flacProblem } from './audio/flac.js';
export { oggOpusProblem } from './audio/ogg.js';
export { webmOpusProblem } from './audio/webm.js';
export { scanMp3, joinMp3, parseMp3FrameHeader, id3v2Length } from './audio/mp3.js';
export type { Mp3Scan, Mp3FrameHeader } from './audio/mp3.js';
export { parseWav, joinWav, buildWav, pcm16Fmt, isWav, wavData } from './audio/wav.js';
export type { WavInfo } from './audio/wav.js';
