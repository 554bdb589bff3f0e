// The chat.completion answer: the grade from grading.ts as JSON (filled to a strict schema),
// shaped by the scripted output faults (refusal, malformed JSON, a cut at the token cap), with
// usage billed the way OpenAI reports it (framing tokens, cached prefix, reasoning tokens
// inside completion_tokens) and Azure's content-filter results on deployment answers.

import { randomBytes } from 'node:crypto';
import { contentFilterResult } from './openai-chat-errors.js';
import { messageText, type ChatMessage } from './openai-chat-request.js';
import { conformToSchema } from './openai-strict-schema.js';
import { gradeAnswer, parseEvalPrompt, parsePassMark } from './grading.js';
import { estimateTokens } from './token-estimate.js';
import type { Fault } from './types.js';

/** Context window the emulator enforces (gpt-4o and gpt-4o-mini: 128k tokens). */
export const CHAT_CONTEXT_TOKENS = 128_000;
/** Framing tokens per message and for priming the reply, as OpenAI's token-counting guide counts them. */
export const CHAT_TOKENS_PER_MESSAGE = 3;

/** Models that reason before answering: their reasoning tokens are billed inside completion_tokens. */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

/** Prompt tokens as billed: the messages' text, the response schema (the model is shown it) and the per-message framing. */
export function chatPromptTokens(messages: ChatMessage[], schema: unknown): number {
  const schemaTokens = schema !== undefined ? estimateTokens(JSON.stringify(schema)) : 0;
  return estimateTokens(messages.map(messageText).join('\n')) + schemaTokens + CHAT_TOKENS_PER_MESSAGE * (messages.length + 1);
}

/** The text the prompt cache compares: each message's role and text. */
export function chatPromptText(messages: ChatMessage[]): string {
  return messages.map((m) => `${String(m.role)}\n${messageText(m)}`).join('\n');
}

export interface ChatAnswerInput {
  messages: ChatMessage[];
  schema: unknown;
  maxTokens: unknown;
  servedModel: string;
  deployment: string | undefined;
  promptTokens: number;
  cachedTokens: number;
  fault: Fault | undefined;
}

export function buildChatAnswer({ messages, schema, maxTokens, servedModel, deployment, promptTokens, cachedTokens, fault }: ChatAnswerInput): Record<string, unknown> {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map(messageText).join('\n');
  const user = [...messages].reverse().find((m) => m.role === 'user');
  let output: Record<string, unknown> = { ...gradeAnswer({ ...parseEvalPrompt(user ? messageText(user) : ''), passMark: parsePassMark(system) }) };
  if (fault?.kind === 'schema_invalid') {
    output = { ...output, score: 150, primaryErrorType: 'spelling', errors: [{ type: 'spelling', message: 'Not an error type the schema allows.' }] };
  }
  let content: string | null = JSON.stringify(schema !== undefined ? conformToSchema(output, schema) : output);
  let refusal: string | null = null;
  let finishReason = 'stop';
  if (fault?.kind === 'malformed_json') content = content.slice(0, Math.floor(content.length * 0.6));
  if (fault?.kind === 'refusal') {
    content = null;
    refusal = "I'm sorry, I can't help with that request.";
  }
  const reasoningTokens = isReasoningModel(servedModel) ? 64 + estimateTokens(content ?? '') : 0;
  const cap = typeof maxTokens === 'number' ? maxTokens : Infinity;
  if (content !== null && (fault?.kind === 'max_tokens' || estimateTokens(content) + reasoningTokens > cap)) {
    // Cut where the cap falls (or part way, when scripted): the JSON is left unterminated.
    const cps = [...content];
    let keep = fault?.kind === 'max_tokens' ? Math.floor(cps.length * 0.6) : cps.length;
    while (keep > 0 && estimateTokens(cps.slice(0, keep).join('')) + reasoningTokens > cap) keep = Math.floor(keep * 0.9);
    content = cps.slice(0, keep).join('');
    finishReason = 'length';
  }
  const completionTokens = estimateTokens(content ?? refusal ?? '') + reasoningTokens;
  return {
    id: `chatcmpl-${randomBytes(15).toString('base64url')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: servedModel,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal, annotations: [] },
        logprobs: null,
        finish_reason: finishReason,
        ...(deployment !== undefined && { content_filter_results: contentFilterResult(false) }),
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
    ...(deployment !== undefined && { prompt_filter_results: [{ prompt_index: 0, content_filter_results: contentFilterResult(false) }] }),
  };
}
