import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { AiError, type AttemptContext, type EvalProvider, type EvalProviderResult, type EvalRequest } from '@korean-together/core';
import { evalOutputJsonSchema, evalSystemInstruction, evalUserPrompt, validateEvalRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { envKeyFor } from '../shared/http.js';
import { mapOpenAiError, unusableAnswer } from './errors.js';
import { OPENAI_EVAL_DEFAULTS, type OpenAiEvaluatorOptions } from './options.js';
import { dropNullOptionals, toStrictSchema } from './strict-schema.js';

/** The core's grade schema as strict structured output accepts it; computed once. */
const STRICT_GRADE_SCHEMA = toStrictSchema(evalOutputJsonSchema);

/** `{baseUrl}/v1`, unless the base already names its API version ('/v1', '/openai/v1'). */
function apiBase(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/v1$/.test(base) ? base : `${base}/v1`;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function invalidConfig(provider: string, message: string): AiError {
  return new AiError('invalid_config', `openaiEvaluator: ${message}`, { retryable: false, provider });
}

/** Billed tokens: prompt_tokens in (cached_tokens, part of them, priced apart), completion_tokens out (reasoning included). */
function usageOf(res: ChatCompletion): { tokensIn: number; cachedTokensIn?: number; tokensOut: number } {
  const u = res.usage;
  const cached = u?.prompt_tokens_details?.cached_tokens;
  return {
    tokensIn: u?.prompt_tokens ?? 0,
    ...(typeof cached === 'number' && cached > 0 && { cachedTokensIn: cached }),
    tokensOut: u?.completion_tokens ?? 0,
  };
}

/**
 * An `EvalProvider` on the Chat Completions API through the official `openai` package: OpenAI
 * itself, Azure OpenAI (deployment URLs, `api-key`, `api-version`) and OpenAI-compatible
 * servers (vLLM, Ollama, Together, Groq) through `baseUrl`.
 */
export class OpenAiEvaluator implements EvalProvider {
  readonly capability = 'eval' as const;
  readonly name: string;
  readonly modelId: string;
  /** Most output tokens one answer may bill (for worst-case budget estimates). */
  readonly maxOutputTokens: number;
  private readonly model: string;
  private readonly client: OpenAI;
  private readonly secrets: (string | undefined)[];
  private readonly passMark: number;

  constructor(private readonly options: OpenAiEvaluatorOptions = {}) {
    const azure = options.azure;
    const baseUrl = options.baseUrl ?? OPENAI_EVAL_DEFAULTS.baseUrl;
    const host = hostOf(azure ? azure.endpoint : baseUrl);
    this.name = options.name ?? (azure ? 'azure-openai' : host === 'api.openai.com' ? 'openai' : 'openai-compatible');
    if (host === undefined) throw invalidConfig(this.name, azure ? 'azure.endpoint must be an absolute URL' : 'baseUrl must be an absolute URL');
    this.model = options.model ?? OPENAI_EVAL_DEFAULTS.model;
    this.modelId = options.modelId ?? this.model;
    this.maxOutputTokens = options.maxOutputTokens ?? OPENAI_EVAL_DEFAULTS.maxOutputTokens;
    if (!Number.isInteger(this.maxOutputTokens) || this.maxOutputTokens < 1) throw invalidConfig(this.name, `maxOutputTokens must be a positive integer, got ${this.maxOutputTokens}`);
    this.passMark = options.passMark ?? OPENAI_EVAL_DEFAULTS.passMark;
    if (!Number.isInteger(this.passMark) || this.passMark < 0 || this.passMark > 100) throw invalidConfig(this.name, `passMark must be an integer from 0 to 100, got ${this.passMark}`);
    if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 2)) throw invalidConfig(this.name, `temperature must be within 0..2, got ${options.temperature}`);
    if (options.maxTokensField !== undefined && options.maxTokensField !== 'max_completion_tokens' && options.maxTokensField !== 'max_tokens') {
      throw invalidConfig(this.name, `maxTokensField must be 'max_completion_tokens' or 'max_tokens', got '${String(options.maxTokensField)}'`);
    }
    // The SDK's own retries are off: the policy retries, with its deadline and budget in view.
    const common = { maxRetries: 0, organization: null, project: null, defaultHeaders: { ...options.headers } } as const;
    if (azure) {
      for (const field of ['deployment', 'apiVersion'] as const) {
        if (typeof azure[field] !== 'string' || azure[field].trim() === '') throw invalidConfig(this.name, `azure.${field} is required`);
      }
      const apiKey = azure.apiKey ?? (azure.azureADTokenProvider ? undefined : process.env.AZURE_OPENAI_API_KEY);
      if (!apiKey && !azure.azureADTokenProvider) throw invalidConfig(this.name, 'azure: no key: pass azure.apiKey, azure.azureADTokenProvider or set AZURE_OPENAI_API_KEY');
      this.secrets = [apiKey];
      this.client = new AzureOpenAI({
        ...common,
        endpoint: azure.endpoint,
        deployment: azure.deployment,
        apiVersion: azure.apiVersion,
        ...(apiKey ? { apiKey } : { azureADTokenProvider: azure.azureADTokenProvider! }),
      });
    } else {
      const apiKey = options.apiKey ?? envKeyFor(baseUrl);
      this.secrets = [apiKey];
      this.client = new OpenAI({
        ...common,
        baseURL: apiBase(baseUrl),
        // The SDK insists on a key; a keyless local server gets no Authorization header at all,
        // unless the host app sets one itself (a gateway token in `headers`).
        apiKey: apiKey ?? 'no-key',
        ...(!apiKey && !Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'authorization') && { defaultHeaders: { ...options.headers, authorization: null } }),
      });
    }
  }

  async evaluate(req: EvalRequest, ctx: AttemptContext): Promise<EvalProviderResult> {
    validateEvalRequest(req, { who: this.name, provider: this.name });
    // Attached audio is not sent (Chat Completions takes it only on audio models): the written
    // answer is graded, without a pronunciation verdict, so a fallback still answers.
    const scope = new AttemptScope(ctx);
    const maxOutputTokens = ctx.maxOutputTokens ?? this.maxOutputTokens;
    const o = this.options;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: [
        { role: 'system', content: evalSystemInstruction(ctx.passMark ?? this.passMark) },
        { role: 'user', content: evalUserPrompt(req) },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: OPENAI_EVAL_DEFAULTS.schemaName, schema: o.strict === false ? evalOutputJsonSchema : STRICT_GRADE_SCHEMA, strict: o.strict !== false },
      },
      n: 1,
      ...((o.maxTokensField ?? 'max_completion_tokens') === 'max_completion_tokens' ? { max_completion_tokens: maxOutputTokens } : { max_tokens: maxOutputTokens }),
      ...(o.temperature !== undefined && { temperature: o.temperature }),
      ...(o.reasoningEffort !== undefined && { reasoning_effort: o.reasoningEffort }),
    };
    let res: ChatCompletion;
    try {
      scope.throwIfAborted(this.name, `chat completion (${this.model})`);
      res = await this.client.chat.completions.create(body, { signal: scope.signal, timeout: Math.max(1, scope.msLeft()) + 1_000 });
    } catch (err) {
      throw mapOpenAiError(err, { provider: this.name, model: this.model, scope, secrets: this.secrets });
    } finally {
      scope.dispose();
    }
    const usage = usageOf(res);
    return { output: this.parseAnswer(res, usage, maxOutputTokens), ...usage };
  }

  private parseAnswer(res: ChatCompletion, usage: ReturnType<typeof usageOf>, maxOutputTokens: number): unknown {
    const unusable = (why: string) => unusableAnswer(this.name, this.model, why, usage);
    const choice = res.choices?.[0];
    if (!choice) throw unusable('no choices in the response');
    const message = choice.message;
    // A refusal is the model declining to grade: its text may quote the learner, so it is not repeated.
    if (typeof message?.refusal === 'string' && message.refusal !== '') throw unusable(`the model refused (${message.refusal.length} characters)`);
    if (choice.finish_reason === 'content_filter') throw unusable('the answer was filtered by the content filter (finish_reason content_filter)');
    const text = typeof message?.content === 'string' ? message.content : '';
    if (choice.finish_reason === 'length') throw unusable(`the answer was cut off at ${capField(this.options.maxTokensField)} ${maxOutputTokens} (finish_reason length)`);
    if (text.trim() === '') throw unusable(`the message holds no content (finish_reason ${choice.finish_reason ?? 'none'})`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The text may quote the learner's answer: report its length only.
      throw unusable(`the answer is not valid JSON (${text.length} characters)`);
    }
    return dropNullOptionals(parsed, evalOutputJsonSchema);
  }
}

const capField = (field: OpenAiEvaluatorOptions['maxTokensField']) => field ?? 'max_completion_tokens';

/**
 * A Korean-tutor evaluator on OpenAI's Chat Completions API (or Azure OpenAI, or an
 * OpenAI-compatible server). It sends the core's system instruction and user prompt, asks for
 * JSON with the core's grade schema as strict structured output, and returns the parsed JSON
 * for the core to check. Retries are left to the policy.
 */
export function openaiEvaluator(options: OpenAiEvaluatorOptions = {}): OpenAiEvaluator {
  return new OpenAiEvaluator(options);
}
