import { GoogleGenAI, type GenerateContentConfig, type GenerateContentResponse, type Part } from '@google/genai';
import { AiError, type AttemptContext, type EvalProvider, type EvalProviderResult, type EvalRequest } from '@korean-together/core';
import { evalOutputJsonSchema, evalSystemInstruction, evalUserPrompt, validateEvalRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { mapGeminiError, unusableAnswer } from './errors.js';
import { GEMINI_DEFAULTS, type GeminiEvaluatorOptions, type GeminiVertexOptions } from './options.js';

const PROVIDER = 'gemini';
const VERTEX_PROVIDER = 'gemini-vertex';
// Project ids: 6-30 lowercase letters, digits and hyphens; locations: a region name or 'global'.
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION = /^[a-z][a-z0-9-]{1,40}$/;

// Finish reasons that mean the model refused or was stopped by a content filter.
const BLOCKED = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT']);

/** An `EvalProvider` backed by the Gemini API (or Gemini on Vertex AI) through `@google/genai`. */
export class GeminiEvaluator implements EvalProvider {
  readonly capability = 'eval' as const;
  /** 'gemini' (the Gemini API) or 'gemini-vertex' (Vertex AI): usage rows tell the routes apart. */
  readonly name: string;
  readonly modelId: string;
  /** Most output tokens one answer may bill (for worst-case budget estimates). */
  readonly maxOutputTokens: number;
  private readonly client: GoogleGenAI;
  private readonly secrets: (string | undefined)[];
  private readonly passMark: number;
  private readonly thinkingBudget: number | undefined;

  constructor(private readonly options: GeminiEvaluatorOptions = {}) {
    const vertex = options.vertex;
    this.name = vertex ? VERTEX_PROVIDER : PROVIDER;
    const invalid = (message: string) => new AiError('invalid_config', `geminiEvaluator: ${message}`, { retryable: false, provider: this.name });
    if (options.httpOptions?.retryOptions) throw invalid('httpOptions.retryOptions is not allowed: the policy owns retries');
    const passMark = options.passMark ?? GEMINI_DEFAULTS.passMark;
    if (!Number.isInteger(passMark) || passMark < 0 || passMark > 100) throw invalid(`passMark must be an integer from 0 to 100, got ${passMark}`);
    this.modelId = options.model ?? GEMINI_DEFAULTS.model;
    this.maxOutputTokens = options.maxOutputTokens ?? GEMINI_DEFAULTS.maxOutputTokens;
    this.passMark = passMark;
    this.thinkingBudget = options.thinkingBudget ?? (this.modelId.startsWith('gemini-2.5') ? GEMINI_DEFAULTS.thinkingBudget : undefined);
    if (vertex) {
      this.client = this.vertexClient(vertex, invalid);
      this.secrets = [vertex.apiKey];
      return;
    }
    const apiKey = options.apiKey ?? process.env.GEMINI_API_KEY ?? process.env.GOOGLE_API_KEY;
    if (!apiKey) throw invalid('no API key: pass apiKey or set GEMINI_API_KEY');
    this.secrets = [apiKey];
    this.client = new GoogleGenAI({
      apiKey,
      httpOptions: { ...options.httpOptions, apiVersion: options.httpOptions?.apiVersion ?? GEMINI_DEFAULTS.apiVersion },
    });
  }

  /** Vertex AI: a project and location with Google Cloud credentials, or an API key in express mode. */
  private vertexClient(vertex: GeminiVertexOptions, invalid: (m: string) => AiError): GoogleGenAI {
    const httpOptions = { ...this.options.httpOptions, apiVersion: this.options.httpOptions?.apiVersion ?? GEMINI_DEFAULTS.vertexApiVersion };
    if (vertex.apiKey !== undefined) {
      if (vertex.project !== undefined) throw invalid('vertex.apiKey (express mode) and vertex.project are mutually exclusive');
      if (vertex.apiKey.trim() === '') throw invalid('vertex.apiKey must not be empty');
      return new GoogleGenAI({ vertexai: true, apiKey: vertex.apiKey, httpOptions });
    }
    const project = vertex.project ?? process.env.GOOGLE_CLOUD_PROJECT;
    const location = vertex.location ?? process.env.GOOGLE_CLOUD_LOCATION ?? GEMINI_DEFAULTS.vertexLocation;
    if (!project) throw invalid('vertex.project is required (or set GOOGLE_CLOUD_PROJECT), unless vertex.apiKey selects express mode');
    // Both go into the request path: refuse anything that is not a plain id.
    if (!PROJECT_ID.test(project)) throw invalid(`vertex.project must be a Google Cloud project id (6-30 lowercase letters, digits, hyphens), got '${project.slice(0, 40)}'`);
    if (!LOCATION.test(location)) throw invalid(`vertex.location must be a region such as 'us-central1' or 'global', got '${location.slice(0, 40)}'`);
    return new GoogleGenAI({
      vertexai: true,
      project,
      location,
      ...(vertex.googleAuthOptions && { googleAuthOptions: vertex.googleAuthOptions }),
      httpOptions,
    });
  }

  async evaluate(req: EvalRequest, ctx: AttemptContext): Promise<EvalProviderResult> {
    validateEvalRequest(req, { who: this.name, provider: this.name });
    const scope = new AttemptScope(ctx);
    // Per-call fetch wrapper: ApiError keeps only the body, so the Retry-After header is read here.
    let retryAfterHeader: string | null = null;
    // Whether a request left at all: on Vertex AI, credentials are fetched before it does.
    let sent = false;
    const baseFetch = this.options.httpOptions?.fetch ?? globalThis.fetch;
    const fetchWithHeaders: typeof fetch = async (input, init) => {
      sent = true;
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
      scope.throwIfAborted(this.name, `generateContent (${this.modelId})`);
      res = await this.client.models.generateContent({ model: this.modelId, contents: [{ role: 'user', parts }], config });
    } catch (err) {
      throw mapGeminiError(err, {
        provider: this.name,
        model: this.modelId,
        scope,
        secrets: this.secrets,
        retryAfterHeader,
        credentialsFailed: this.options.vertex !== undefined && !sent,
      });
    } finally {
      scope.dispose();
    }
    const usage = usageOf(res);
    return { output: this.parseAnswer(res, usage, maxOutputTokens), ...usage };
  }

  private parseAnswer(res: GenerateContentResponse, usage: ReturnType<typeof usageOf>, maxOutputTokens: number): unknown {
    const unusable = (why: string) => unusableAnswer(this.name, this.modelId, why, usage);
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
function usageOf(res: GenerateContentResponse): { tokensIn: number; audioTokensIn?: number; cachedTokensIn?: number; tokensOut: number } {
  const u = res.usageMetadata;
  // Audio input is priced apart on some models: report its share of the prompt tokens.
  const audio = u?.promptTokensDetails?.find((d) => String(d.modality) === 'AUDIO')?.tokenCount;
  // Prompt tokens served from the (implicit or explicit) cache bill at the cached rate.
  const cached = u?.cachedContentTokenCount;
  return {
    tokensIn: u?.promptTokenCount ?? 0,
    ...(audio !== undefined && { audioTokensIn: audio }),
    ...(typeof cached === 'number' && cached > 0 && { cachedTokensIn: cached }),
    tokensOut: (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0),
  };
}

/**
 * A Korean-tutor evaluator on Gemini, through the Gemini API or, with `vertex`, Vertex AI. It
 * sends the core's system instruction and user prompt,
 * asks for JSON matching the core's evaluation schema (`responseJsonSchema`) and returns the
 * parsed JSON for the core to check. Retries are left to the policy.
 */
export function geminiEvaluator(options: GeminiEvaluatorOptions = {}): GeminiEvaluator {
  return new GeminiEvaluator(options);
}
