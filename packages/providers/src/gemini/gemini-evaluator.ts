import { GoogleGenAI, type GenerateContentConfig, type GenerateContentResponse, type Part } from '@google/genai';
import {
  AiError,
  evalOutputJsonSchema,
  evalSystemInstruction,
  evalUserPrompt,
  type AttemptContext,
  type EvalProvider,
  type EvalProviderResult,
  type EvalRequest,
} from '@korean-together/core';
import { AttemptScope } from '../shared/attempt-scope.js';
import { validateEvalRequest } from '../shared/validate.js';
import { mapGeminiError, unusableAnswer } from './errors.js';
import { GEMINI_DEFAULTS, type GeminiEvaluatorOptions } from './options.js';

const PROVIDER = 'gemini';

// Finish reasons that mean the model refused or was stopped by a content filter.
const BLOCKED = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT']);

/** An `EvalProvider` backed by the Gemini API through `@google/genai`. */
export class GeminiEvaluator implements EvalProvider {
  readonly capability = 'eval' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  /** Most output tokens one answer may bill (for worst-case budget estimates). */
  readonly maxOutputTokens: number;
  private readonly client: GoogleGenAI;
  private readonly apiKey: string;
  private readonly passMark: number;
  private readonly thinkingBudget: number | undefined;

  constructor(private readonly options: GeminiEvaluatorOptions = {}) {
    const apiKey = options.apiKey ?? process.env.GEMINI_API_KEY ?? process.env.GOOGLE_API_KEY;
    if (!apiKey) {
      throw new AiError('invalid_config', 'geminiEvaluator: no API key: pass apiKey or set GEMINI_API_KEY', { retryable: false, provider: PROVIDER });
    }
    if (options.httpOptions?.retryOptions) {
      throw new AiError('invalid_config', 'geminiEvaluator: httpOptions.retryOptions is not allowed: the policy owns retries', {
        retryable: false,
        provider: PROVIDER,
      });
    }
    const passMark = options.passMark ?? GEMINI_DEFAULTS.passMark;
    if (!Number.isInteger(passMark) || passMark < 0 || passMark > 100) {
      throw new AiError('invalid_config', `geminiEvaluator: passMark must be an integer from 0 to 100, got ${passMark}`, { retryable: false, provider: PROVIDER });
    }
    this.apiKey = apiKey;
    this.modelId = options.model ?? GEMINI_DEFAULTS.model;
    this.maxOutputTokens = options.maxOutputTokens ?? GEMINI_DEFAULTS.maxOutputTokens;
    this.passMark = passMark;
    this.thinkingBudget = options.thinkingBudget ?? (this.modelId.startsWith('gemini-2.5') ? GEMINI_DEFAULTS.thinkingBudget : undefined);
    this.client = new GoogleGenAI({
      apiKey,
      httpOptions: { ...options.httpOptions, apiVersion: options.httpOptions?.apiVersion ?? GEMINI_DEFAULTS.apiVersion },
    });
  }

  async evaluate(req: EvalRequest, ctx: AttemptContext): Promise<EvalProviderResult> {
    validateEvalRequest(PROVIDER, req);
    const scope = new AttemptScope(ctx);
    // Per-call fetch wrapper: ApiError keeps only the body, so the Retry-After header is read here.
    let retryAfterHeader: string | null = null;
    const baseFetch = this.options.httpOptions?.fetch ?? globalThis.fetch;
    const fetchWithHeaders: typeof fetch = async (input, init) => {
      const res = await baseFetch(input, init);
      if (!res.ok) retryAfterHeader = res.headers.get('retry-after');
      return res;
    };
    const parts: Part[] = [{ text: evalUserPrompt(req) }];
    if (req.audio) parts.push({ inlineData: { mimeType: req.audio.mimeType, data: Buffer.from(req.audio.data).toString('base64') } });
    // The policy's pass mark and token cap (in the attempt context) win over the adapter's own,
    // so the instruction matches the core's check and the budget's worst case.
    const maxOutputTokens = ctx.maxOutputTokens ?? this.maxOutputTokens;
    const config: GenerateContentConfig = {
      systemInstruction: evalSystemInstruction(ctx.passMark ?? this.passMark),
      responseMimeType: 'application/json',
      responseJsonSchema: evalOutputJsonSchema,
      maxOutputTokens,
      candidateCount: 1,
      abortSignal: scope.signal,
      httpOptions: { fetch: fetchWithHeaders },
      ...(this.options.temperature !== undefined && { temperature: this.options.temperature }),
      ...(this.thinkingBudget !== undefined && { thinkingConfig: { thinkingBudget: this.thinkingBudget } }),
    };
    let res: GenerateContentResponse;
    try {
      scope.throwIfAborted(PROVIDER, `generateContent (${this.modelId})`);
      res = await this.client.models.generateContent({ model: this.modelId, contents: [{ role: 'user', parts }], config });
    } catch (err) {
      throw mapGeminiError(err, { provider: PROVIDER, model: this.modelId, scope, secrets: [this.apiKey], retryAfterHeader });
    } finally {
      scope.dispose();
    }
    const usage = usageOf(res);
    return { output: this.parseAnswer(res, usage, maxOutputTokens), ...usage };
  }

  private parseAnswer(res: GenerateContentResponse, usage: { tokensIn: number; audioTokensIn?: number; tokensOut: number }, maxOutputTokens: number): unknown {
    const unusable = (why: string) => unusableAnswer(PROVIDER, this.modelId, why, usage);
    const candidate = res.candidates?.[0];
    if (!candidate) {
      const blockReason = res.promptFeedback?.blockReason;
      throw unusable(blockReason ? `blocked by safety (prompt blockReason ${blockReason})` : 'no candidates in the response');
    }
    const finish = candidate.finishReason ? String(candidate.finishReason) : undefined;
    if (finish && BLOCKED.has(finish)) throw unusable(`blocked by safety (finishReason ${finish})`);
    const text = (candidate.content?.parts ?? [])
      .filter((p) => typeof p.text === 'string' && !p.thought)
      .map((p) => p.text)
      .join('');
    if (text.trim() === '') {
      throw unusable(finish === 'MAX_TOKENS' ? `thinking used up maxOutputTokens ${maxOutputTokens} before any answer` : `the candidate holds no text (finishReason ${finish ?? 'none'})`,
      );
    }
    try {
      return JSON.parse(unfenced(text)) as unknown;
    } catch {
      // The text may quote the learner's answer: report its length only.
      throw unusable(finish === 'MAX_TOKENS'
          ? `the answer was cut off at maxOutputTokens ${maxOutputTokens} (finishReason MAX_TOKENS)`
          : `the answer is not valid JSON (${text.length} characters)`,
      );
    }
  }
}

// One markdown code block, optionally tagged json, and nothing around it but whitespace.
const FENCED = /^\s*```(?:json)?[ \t]*\r?\n?([\s\S]*?)\r?\n?[ \t]*```\s*$/i;

/**
 * The JSON inside a single ```json (or bare ```) fence, else the text as it is. Models sometimes
 * fence their JSON even in JSON mode (seen from gemini-2.5-pro); the answer is paid for, so it is
 * read rather than rejected. A fence inside the block, another language tag or text around it
 * is left alone and fails as invalid JSON.
 */
export function unfenced(text: string): string {
  const m = FENCED.exec(text);
  return m && !m[1]!.includes('```') ? m[1]! : text;
}

/** Raw token usage: prompt tokens in, candidates + thinking tokens out (both are billed as output). */
function usageOf(res: GenerateContentResponse): { tokensIn: number; audioTokensIn?: number; tokensOut: number } {
  const u = res.usageMetadata;
  // Audio input is priced apart on some models: report its share of the prompt tokens.
  const audio = u?.promptTokensDetails?.find((d) => String(d.modality) === 'AUDIO')?.tokenCount;
  return {
    tokensIn: u?.promptTokenCount ?? 0,
    ...(audio !== undefined && { audioTokensIn: audio }),
    tokensOut: (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0),
  };
}

/**
 * A Korean-tutor evaluator on Gemini. It sends the core's system instruction and user prompt,
 * asks for JSON matching the core's evaluation schema (`responseJsonSchema`) and returns the
 * parsed JSON for the core to check. Retries are left to the policy.
 */
export function geminiEvaluator(options: GeminiEvaluatorOptions = {}): GeminiEvaluator {
  return new GeminiEvaluator(options);
}
