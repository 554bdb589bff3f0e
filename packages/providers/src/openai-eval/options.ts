/** Azure OpenAI: a deployment of a model on your resource, called with `api-key` and `api-version`. */
export interface AzureOpenAiOptions {
  /** Resource endpoint, e.g. 'https://my-resource.openai.azure.com'. */
  endpoint: string;
  /** Deployment name: the adapter posts to `{endpoint}/openai/deployments/{deployment}/chat/completions`. */
  deployment: string;
  /** `api-version` query parameter, e.g. '2024-10-21' (GA, structured output). Required: Azure answers 404 without it. */
  apiVersion: string;
  /** Sent in the `api-key` header. Default: `process.env.AZURE_OPENAI_API_KEY`. */
  apiKey?: string;
  /** Microsoft Entra ID instead of a key: returns a bearer token, called for every request. */
  azureADTokenProvider?: () => Promise<string>;
}

/** Options of `openaiEvaluator`. Every field is optional. */
export interface OpenAiEvaluatorOptions {
  /**
   * Server root or API base: the adapter posts to `{baseUrl}/v1/chat/completions`, and a base
   * that already ends in '/v1' is used as it is ('https://api.groq.com/openai/v1',
   * 'http://localhost:11434/v1'). Default `'https://api.openai.com/v1'`. Ignored with `azure`.
   */
  baseUrl?: string;
  /**
   * Bearer token. Default: `process.env.OPENAI_API_KEY` when `baseUrl` is OpenAI's own host
   * (never sent to other servers); no Authorization header when there is no key (local vLLM or
   * Ollama). Never quoted in errors.
   */
  apiKey?: string;
  /** Azure OpenAI instead of `baseUrl` / `apiKey`. */
  azure?: AzureOpenAiOptions;
  /** Model sent in the request body. Default `'gpt-4.1-mini'`. With `azure`, the model the deployment runs. */
  model?: string;
  /**
   * The modelId on usage rows, priced by the core's table. Default: `model`. For a self-hosted
   * server use 'self-hosted/<name>' (the default table prices it at 0); for Together, Groq and
   * other hosted servers add price rows for the id you choose.
   */
  modelId?: string;
  /**
   * Provider name on usage rows and errors. Default 'openai' for api.openai.com, 'azure-openai'
   * with `azure`, 'openai-compatible' for any other `baseUrl`.
   */
  name?: string;
  /**
   * Most output tokens per answer, reasoning tokens included (`max_completion_tokens`). Default
   * 1024, the policy's default `capabilities.eval.maxOutputTokens`; the policy's value, when the
   * core passes one in the attempt context, wins.
   */
  maxOutputTokens?: number;
  /**
   * Which request field carries the cap: 'max_completion_tokens' (default; OpenAI, Azure
   * api-version 2024-09-01-preview and later, vLLM) or 'max_tokens' (older OpenAI-compatible servers).
   */
  maxTokensField?: 'max_completion_tokens' | 'max_tokens';
  /**
   * Send the schema with `strict: true` (default): OpenAI then constrains decoding to it. Set
   * false for a server that refuses strict mode; the answer is still checked by the core.
   */
  strict?: boolean;
  /** Sampling temperature 0..2. Default: unset (the model's default; reasoning models accept no other). */
  temperature?: number;
  /** `reasoning_effort` for reasoning models (o-series, gpt-5). Default: unset. */
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  /**
   * Pass mark (0..100) written into the system instruction. Default 70. The policy's
   * `capabilities.eval.passMark`, passed in the attempt context, wins.
   */
  passMark?: number;
  /** Extra HTTP headers sent with every request (an organization or project header, a gateway key). */
  headers?: Record<string, string>;
}

export const OPENAI_EVAL_DEFAULTS = {
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4.1-mini',
  maxOutputTokens: 1024,
  passMark: 70,
  /** The name OpenAI shows for the schema in errors (`response_format.json_schema.name`). */
  schemaName: 'korean_tutor_grade',
} as const;
