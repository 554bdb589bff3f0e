// The generateContent answer: the grade from grading.ts as the model's text (fenced, bare in
// JSON mode), cut at maxOutputTokens, shaped by the scripted output faults, with usage
// metadata billed as Gemini bills it (text and audio prompt tokens, thinking tokens).

import { randomBytes } from 'node:crypto';
import { hearAudio } from './audio.js';
import type { Content } from './gemini-request.js';
import { contentText } from './gemini-request.js';
import { gradeAnswer, parseEvalPrompt, parsePassMark } from './grading.js';
import type { PromptCache } from './openai-prompt-cache.js';
import { estimateTokens } from './token-estimate.js';
import type { Fault } from './types.js';

/** Prompt tokens per second of inline audio, as Gemini counts them. */
export const AUDIO_TOKENS_PER_SECOND = 32;

export interface GeminiAnswer {
  candidates: unknown[];
  usageMetadata: Record<string, unknown>;
  modelVersion: string;
  responseId: string;
  promptFeedback?: unknown;
  createTime?: string;
}

/**
 * `promptCache`: Gemini's implicit cache. A prompt whose text shares a prefix of at least 1,024
 * tokens with a recent prompt to the same model reports that prefix as cachedContentTokenCount
 * (part of promptTokenCount, as the API counts it).
 */
export function buildGeminiAnswer(
  model: string,
  body: Record<string, unknown>,
  contents: Content[],
  gc: Record<string, unknown>,
  jsonMode: boolean,
  fault: Fault | undefined,
  promptCache?: PromptCache,
): GeminiAnswer {
  const system = contentText(body.systemInstruction ?? body.system_instruction);
  const userTurn = [...contents].reverse().find((c) => c?.role === undefined || c.role === 'user') ?? contents[contents.length - 1]!;
  const userText = contentText(userTurn);
  const audioPart = userTurn.parts?.find((p) => p?.inlineData?.mimeType?.startsWith('audio/') && typeof p.inlineData.data === 'string');
  const audio = audioPart ? hearAudio(Buffer.from(audioPart.inlineData!.data!, 'base64')) : undefined;

  const audioTokens = audio ? Math.ceil((audio.durationMs / 1000) * AUDIO_TOKENS_PER_SECOND) : 0;
  // A response schema is billed as prompt text too (the model is shown it).
  const schema = [gc.responseSchema, gc.response_schema, gc.responseJsonSchema, gc.response_json_schema].find((x) => x !== undefined);
  const schemaTokens = schema !== undefined ? estimateTokens(JSON.stringify(schema)) : 0;
  const textTokens = estimateTokens([system, ...contents.map(contentText)].filter(Boolean).join('\n')) + schemaTokens;
  const promptTokenCount = textTokens + audioTokens;
  const promptTokensDetails = [{ modality: 'TEXT', tokenCount: textTokens }, ...(audio ? [{ modality: 'AUDIO', tokenCount: audioTokens }] : [])];
  const promptText = [system, ...contents.map(contentText)].filter(Boolean).join('\n');
  const cachedContentTokenCount = promptCache ? Math.min(promptCache.cachedPrefixTokens(model, promptText, textTokens), textTokens) : 0;
  const cacheUsage = cachedContentTokenCount > 0 ? { cachedContentTokenCount, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cachedContentTokenCount }] } : {};
  const base = { modelVersion: model, responseId: randomBytes(16).toString('base64url').slice(0, 22) };

  if (fault?.kind === 'empty_candidates') {
    return { candidates: [], usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount, promptTokensDetails }, ...base };
  }
  if (fault?.kind === 'safety') {
    return {
      candidates: [
        {
          finishReason: 'SAFETY',
          index: 0,
          safetyRatings: [
            { category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true },
            { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
          ],
        },
      ],
      usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount, promptTokensDetails },
      ...base,
    };
  }

  const parsed = parseEvalPrompt(userText);
  let output: Record<string, unknown> = { ...gradeAnswer({ ...parsed, passMark: parsePassMark(system), ...(audio && { heardAudio: audio.transcript }) }) };
  if (fault?.kind === 'schema_invalid') {
    output = { ...output, score: 150, primaryErrorType: 'spelling', errors: [{ type: 'spelling', message: 'Not an error type the schema allows.' }] };
  }
  // Free text fences its JSON; JSON mode sends it bare, unless the fenced_json fault asks for the fence anyway.
  let text = jsonMode && fault?.kind !== 'fenced_json' ? JSON.stringify(output) : `\`\`\`json\n${JSON.stringify(output, null, 2)}\n\`\`\``;
  if (fault?.kind === 'malformed_json') text = text.slice(0, Math.floor(text.length * 0.6));

  let finishReason = 'STOP';
  const maxOut = Number(gc.maxOutputTokens ?? gc.max_output_tokens);
  if (fault?.kind === 'max_tokens') {
    // As if the cap were hit mid-answer: the JSON stops part way, every token billed.
    text = [...text].slice(0, Math.floor([...text].length * 0.6)).join('');
    finishReason = 'MAX_TOKENS';
  } else if (Number.isInteger(maxOut) && maxOut > 0 && estimateTokens(text) > maxOut) {
    const cps = [...text];
    let keep = cps.length;
    while (keep > 0 && estimateTokens(cps.slice(0, keep).join('')) > maxOut) keep = Math.floor(keep * 0.9);
    text = cps.slice(0, keep).join('');
    finishReason = 'MAX_TOKENS';
  }
  const candidatesTokenCount = estimateTokens(text);
  const thoughtsTokenCount = thinkingTokens(model, gc, candidatesTokenCount);
  return {
    candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason, index: 0 }],
    usageMetadata: {
      promptTokenCount,
      candidatesTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount + thoughtsTokenCount,
      ...(thoughtsTokenCount > 0 && { thoughtsTokenCount }),
      promptTokensDetails,
      ...cacheUsage,
    },
    ...base,
  };
}

/**
 * Thinking tokens billed: 'pro' models always think (100 + 2 x output tokens, capped by a
 * thinkingBudget when one is set); other models think only when given a positive
 * thinkingBudget (50 + output tokens, capped by it).
 */
export function thinkingTokens(model: string, gc: Record<string, unknown>, outputTokens: number): number {
  const tc = (gc.thinkingConfig ?? gc.thinking_config ?? {}) as Record<string, unknown>;
  const budget = Number(tc.thinkingBudget ?? tc.thinking_budget ?? NaN);
  if (/-pro\b/.test(model)) {
    const want = 100 + 2 * outputTokens;
    return Number.isInteger(budget) && budget > 0 ? Math.min(want, Math.max(128, budget)) : want;
  }
  return Number.isInteger(budget) && budget > 0 ? Math.min(budget, 50 + outputTokens) : 0;
}
