// Attribute names and values, after the OpenTelemetry GenAI semantic conventions (the GenAI
// registry as of semantic-conventions v1.44.0, now maintained in
// open-telemetry/semantic-conventions-genai). Speech-to-text and text-to-speech are only
// proposed there (semantic-conventions-genai pull request #390: `speech_to_text` /
// `text_to_speech` operations, `gen_ai.speech.voice`, `gen_ai.speech.input.language`); they are
// used under those proposed names. What the conventions have no name for is `korean_together.*`.
import type { Capability } from '../spec/types.js';

export const ATTR = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  outputType: 'gen_ai.output.type',
  conversationId: 'gen_ai.conversation.id',
  stream: 'gen_ai.request.stream',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  tokensIn: 'gen_ai.usage.input_tokens',
  tokensOut: 'gen_ai.usage.output_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  cachedTokensIn: 'gen_ai.usage.cache_read.input_tokens',
  tokenType: 'gen_ai.token.type',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',
  // Proposed for speech (semantic-conventions-genai #390).
  voice: 'gen_ai.speech.voice',
  language: 'gen_ai.speech.input.language',
  // Not in the proposal: the audio's length in seconds, named after it.
  audioDuration: 'gen_ai.speech.audio.duration',
  // Evaluation event (gen_ai.evaluation.result).
  evalName: 'gen_ai.evaluation.name',
  evalScore: 'gen_ai.evaluation.score.value',
  evalLabel: 'gen_ai.evaluation.score.label',
  // The SDK's own.
  capability: 'korean_together.capability',
  callId: 'korean_together.call.id',
  deadlineMs: 'korean_together.call.deadline_ms',
  attemptCount: 'korean_together.call.attempts',
  providerKey: 'korean_together.provider.key',
  providerRawName: 'korean_together.provider.name',
  attempt: 'korean_together.attempt.number',
  outcome: 'korean_together.attempt.outcome',
  timeoutMs: 'korean_together.attempt.timeout_ms',
  retryDelayMs: 'korean_together.attempt.retry_delay_ms',
  retryable: 'korean_together.attempt.retryable',
  hedgeLost: 'korean_together.attempt.hedge_lost',
  breakerSkipped: 'korean_together.attempt.breaker_skipped',
  costMicro: 'korean_together.cost.micro_usd',
  costUsd: 'korean_together.cost.usd',
  characters: 'korean_together.usage.characters',
  attemptTokensIn: 'korean_together.usage.input_tokens',
  attemptTokensOut: 'korean_together.usage.output_tokens',
  attemptAudioMs: 'korean_together.usage.audio_duration_ms',
  primaryErrorType: 'korean_together.evaluation.primary_error_type',
  passMark: 'korean_together.evaluation.pass_mark',
  evalExplanation: 'gen_ai.evaluation.explanation',
  chainIndex: 'korean_together.chain.index',
  cache: 'korean_together.cache.result',
  breakerKey: 'korean_together.breaker.key',
  breakerState: 'korean_together.breaker.state',
  budgetMessage: 'korean_together.budget.message',
  sinkIndex: 'korean_together.sink.index',
} as const;

/** `gen_ai.provider.name` for our providers' `name`s; any other name is used as it is. */
const PROVIDER_NAMES: Record<string, string> = {
  gemini: 'gcp.gemini',
  'gemini-vertex': 'gcp.vertex_ai',
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  whisper: 'openai',
  // Google Cloud Speech-to-Text and Text-to-Speech have no value in the conventions: their API names.
  'google-stt': 'gcp.speech',
  'google-tts': 'gcp.texttospeech',
};

export function genAiProviderName(providerName: string): string {
  return PROVIDER_NAMES[providerName] ?? providerName;
}

/** `gen_ai.operation.name`: Gemini's generateContent, a chat completion, or the proposed speech operations. */
export function operationName(capability: Capability, providerName: string): string {
  if (capability === 'stt') return 'speech_to_text';
  if (capability === 'tts') return 'text_to_speech';
  return providerName === 'gemini' || providerName === 'gemini-vertex' ? 'generate_content' : 'chat';
}

/** `gen_ai.output.type`. */
export const OUTPUT_TYPE: Record<Capability, string> = { stt: 'text', tts: 'speech', eval: 'json' };

/** The breaker gauge's value per state. */
export const BREAKER_LEVEL = { closed: 0, half_open: 1, open: 2 } as const;
