// An OpenAI Chat Completions emulator: POST /v1/chat/completions as OpenAI (and vLLM, Ollama,
// Together, Groq) serve it, and Azure OpenAI's deployment URLs
// (/openai/deployments/{deployment}/chat/completions?api-version=...). It grades with the same
// Korean rules as the Gemini emulator (grading.ts), answers structured output
// (`response_format: json_schema`, checked against strict mode's rules), bills usage the way
// OpenAI reports it (cached prompt prefixes, reasoning tokens inside completion_tokens) and
// fails the way the services do (429 rate_limit_exceeded / insufficient_quota, refusals,
// finish_reason 'length', Azure's content_filter 400).

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { FaultScript, HitCounter } from './faults.js';
import { gradeAnswer, parseEvalPrompt, parsePassMark } from './grading.js';
import { BodyTooLargeError, HttpEmulator, readBody, sendJson, waitOutFault, type RequestScope } from './http-kit.js';
import { INSUFFICIENT_QUOTA_MESSAGE, sendOpenAiError } from './openai-audio-server.js';
import { httpStatusFor } from './status-codes.js';
import { estimateTokens } from './token-estimate.js';
import type { Fault } from './types.js';

/** Largest request body accepted (OpenAI's own limit is far larger; grading prompts are small). */
export const CHAT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** Context window the emulator enforces (gpt-4o and gpt-4o-mini: 128k tokens). */
export const CHAT_CONTEXT_TOKENS = 128_000;
/** Framing tokens per message and for priming the reply, as OpenAI's token-counting guide counts them. */
export const CHAT_TOKENS_PER_MESSAGE = 3;
/** Prompts shorter than this are never cached; longer shared prefixes cache in 128-token steps (OpenAI's prompt caching). */
export const PROMPT_CACHE_MIN_TOKENS = 1024;
export const PROMPT_CACHE_STEP_TOKENS = 128;

/** Keywords strict structured output does not accept (OpenAI's structured-outputs guide, "unsupported"). */
const STRICT_UNSUPPORTED = [
  'minLength',
  'maxLength',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  'uniqueItems',
];

/** Models that reason before answering: their reasoning tokens are billed inside completion_tokens. */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

const FAULT_MESSAGES: Record<number, [string, string | null, string?]> = {
  400: ['Bad request.', null],
  401: ['Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_api_key'],
  403: ['You are not allowed to sample from this model', null],
  404: ['The model does not exist or you do not have access to it.', 'model_not_found'],
  429: ['Rate limit reached for requests. Please try again later.', 'rate_limit_exceeded', 'requests'],
  500: ['The server had an error while processing your request. Sorry about that!', null],
  502: ['Bad gateway.', null],
  503: ['The engine is currently overloaded, please try again later.', null],
};

/** Azure OpenAI's own texts for the statuses it answers itself (its gateway, not the model). */
const AZURE_MESSAGES: Record<number, string> = {
  401: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  404: 'Resource not found',
  429: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 1 second.',
  500: 'The server had an error while processing your request. Sorry about that!',
  503: 'The service is temporarily unable to process your request. Please try again later.',
};

/** Azure's content-filter verdict per category, as its error and answers report it. */
function contentFilterResult(filtered: boolean): Record<string, unknown> {
  return {
    hate: { filtered: false, severity: 'safe' },
    jailbreak: { filtered: false, detected: false },
    self_harm: { filtered: false, severity: 'safe' },
    sexual: { filtered: false, severity: 'safe' },
    violence: { filtered, severity: filtered ? 'medium' : 'safe' },
  };
}

/** Azure's error body: `{ error: { code: '<status>', message } }` for its gateway's own answers. */
function sendAzureError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code: String(status), message } }, headers);
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

function messageText(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('\n');
  return '';
}

/** Where strict mode's rules are broken, as OpenAI's 400 names it, or undefined when the schema is acceptable. */
export function strictSchemaProblem(schema: unknown, context: string[] = []): string | undefined {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as Record<string, unknown>;
  const where = `In context=(${context.map((c) => `'${c}'`).join(', ')})`;
  for (const k of STRICT_UNSUPPORTED) if (k in s) return `${where}, '${k}' is not permitted.`;
  if (context.length === 0 && (s.type !== 'object' || 'anyOf' in s)) return `${where}, schema must be a JSON Schema of 'type: "object"', got 'type: "${String(s.type)}"'.`;
  const isObject = s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object'));
  if (isObject) {
    if (s.additionalProperties !== false) return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
    const props = s.properties && typeof s.properties === 'object' ? Object.keys(s.properties) : [];
    const required = Array.isArray(s.required) ? s.required : [];
    const missing = props.filter((p) => !required.includes(p));
    if (missing.length) return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    for (const p of props) {
      const problem = strictSchemaProblem((s.properties as Record<string, unknown>)[p], [...context, 'properties', p]);
      if (problem) return problem;
    }
  }
  if (s.items) {
    const problem = strictSchemaProblem(s.items, [...context, 'items']);
    if (problem) return problem;
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (!Array.isArray(s[key])) continue;
    for (const [i, sub] of (s[key] as unknown[]).entries()) {
      const problem = strictSchemaProblem(sub, [...context, key, String(i)]);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * Fills what a strict schema requires but the grade left out with null (a strict model writes
 * every property, null where the schema allows it), so the answer looks as OpenAI's would.
 */
function conformToSchema(value: unknown, schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return value;
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; items?: unknown };
  if (Array.isArray(value)) return value.map((v) => conformToSchema(v, s.items));
  if (value && typeof value === 'object' && s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(s.properties)) {
      const v = (value as Record<string, unknown>)[k];
      out[k] = v === undefined ? null : conformToSchema(v, sub);
    }
    return out;
  }
  return value;
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export class OpenAiChatEmulator {
  readonly http: HttpEmulator;
  /** Recent prompts per model, for prompt-cache hits on a repeated prefix. */
  private readonly recentPrompts = new Map<string, string[]>();

  constructor(
    private readonly faults: FaultScript,
    hits: HitCounter,
  ) {
    this.http = new HttpEmulator('openai', hits, (req, res, scope) => this.handle(req, res, scope), (res) =>
      sendOpenAiError(res, 500, 'The server had an error while processing your request. Sorry about that!'),
    );
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    if (!azure && !url.pathname.endsWith('/chat/completions')) return sendOpenAiError(res, 404, `Invalid URL (${req.method} ${url.pathname})`);
    if (req.method !== 'POST') return sendOpenAiError(res, 405, `Invalid method ${req.method} for ${url.pathname}`);
    const deployment = azure ? decodeURIComponent(azure[1]!) : undefined;

    let raw: Buffer;
    try {
      raw = await readBody(req, CHAT_MAX_REQUEST_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        scope.hit('openai', deployment ? [deployment] : []);
        return sendOpenAiError(res, 413, `Request too large: the limit is ${err.limitBytes} bytes.`);
      }
      throw err;
    }
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const model = typeof body?.model === 'string' && body.model ? body.model : undefined;
    const names = [model, deployment].filter((n): n is string => n !== undefined);
    scope.hit('openai', names);

    if (deployment !== undefined) {
      // Azure: its gateway checks the key and the API version before any model runs.
      const key = req.headers['api-key'];
      const bearer = /^Bearer\s+\S+$/i.test(String(req.headers.authorization ?? ''));
      if ((typeof key !== 'string' || key.trim() === '') && !bearer) return sendAzureError(res, 401, AZURE_MESSAGES[401]!);
      if (!url.searchParams.get('api-version')) return sendAzureError(res, 404, AZURE_MESSAGES[404]!);
    } else {
      const auth = req.headers.authorization;
      if (auth !== undefined && !/^Bearer\s+\S+$/i.test(auth)) {
        return sendOpenAiError(res, 401, 'Incorrect API key provided. Send it as "Authorization: Bearer <key>".', { code: 'invalid_api_key' });
      }
    }

    const fault = this.faults.pick('openai', names);
    if (!(await waitOutFault(fault, scope.signal))) return;
    if (this.sendFault(res, fault, deployment !== undefined)) return;

    if (!body) return sendOpenAiError(res, 400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)');
    if (!model && deployment === undefined) return sendOpenAiError(res, 400, 'you must provide a model parameter', { param: 'model' });
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return sendOpenAiError(res, 400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", { param: 'messages', code: 'empty_array' });
    }
    for (const [i, m] of (messages as ChatMessage[]).entries()) {
      if (!m || typeof m !== 'object' || !['system', 'developer', 'user', 'assistant', 'tool'].includes(String(m.role))) {
        return sendOpenAiError(res, 400, `Invalid value for 'messages[${i}].role'.`, { param: `messages[${i}].role`, code: 'invalid_value' });
      }
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) > 0)) {
      return sendOpenAiError(res, 400, `Invalid 'max_completion_tokens': expected a positive integer, got ${JSON.stringify(maxTokens)}.`, { param: 'max_completion_tokens', code: 'invalid_value' });
    }
    const format = body.response_format as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } } | undefined;
    let schema: unknown;
    if (format?.type === 'json_schema') {
      const js = format.json_schema;
      if (!js || typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name)) {
        return sendOpenAiError(res, 400, "Invalid 'response_format.json_schema.name': must be a-z, A-Z, 0-9, underscores and dashes, at most 64 characters.", { param: 'response_format.json_schema.name', code: 'invalid_value' });
      }
      if (js.strict === true) {
        const problem = strictSchemaProblem(js.schema);
        if (problem) return sendOpenAiError(res, 400, `Invalid schema for response_format '${js.name}': ${problem}`, { param: 'response_format', code: 'invalid_json_schema' });
      }
      schema = js.schema;
    }

    const system = (messages as ChatMessage[]).filter((m) => m.role === 'system' || m.role === 'developer').map(messageText).join('\n');
    const user = [...(messages as ChatMessage[])].reverse().find((m) => m.role === 'user');
    const promptText = (messages as ChatMessage[]).map((m) => `${String(m.role)}\n${messageText(m)}`).join('\n');
    // A json_schema response format is billed as prompt tokens too (the model is shown the schema).
    const schemaTokens = schema !== undefined ? estimateTokens(JSON.stringify(schema)) : 0;
    const promptTokens = estimateTokens((messages as ChatMessage[]).map(messageText).join('\n')) + schemaTokens + CHAT_TOKENS_PER_MESSAGE * (messages.length + 1);
    if (promptTokens > CHAT_CONTEXT_TOKENS || fault?.kind === 'context_length_exceeded') {
      return sendOpenAiError(
        res,
        400,
        `This model's maximum context length is ${CHAT_CONTEXT_TOKENS} tokens. However, your messages resulted in ${Math.max(promptTokens, CHAT_CONTEXT_TOKENS + 1)} tokens. Please reduce the length of the messages.`,
        { param: 'messages', code: 'context_length_exceeded' },
      );
    }
    const servedModel = model ?? deployment!;
    const cachedTokens = this.cachedPrefixTokens(servedModel, promptText, promptTokens);

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
    const answer: Record<string, unknown> = {
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
    sendJson(res, 200, answer, { 'x-request-id': `req_${randomBytes(12).toString('hex')}` });
  }

  /**
   * Tokens of this prompt served from the prompt cache: the longest prefix it shares with a
   * recent prompt to the same model, when that prefix is at least 1,024 tokens, counted in
   * 128-token steps (OpenAI's documented caching rule).
   */
  private cachedPrefixTokens(model: string, promptText: string, promptTokens: number): number {
    const recent = this.recentPrompts.get(model) ?? [];
    let best = 0;
    for (const earlier of recent) best = Math.max(best, commonPrefixLength(earlier, promptText));
    recent.unshift(promptText);
    this.recentPrompts.set(model, recent.slice(0, 16));
    const shared = Math.min(estimateTokens(promptText.slice(0, best)), promptTokens);
    if (shared < PROMPT_CACHE_MIN_TOKENS) return 0;
    return PROMPT_CACHE_MIN_TOKENS + Math.floor((shared - PROMPT_CACHE_MIN_TOKENS) / PROMPT_CACHE_STEP_TOKENS) * PROMPT_CACHE_STEP_TOKENS;
  }

  /** Answers the faults that replace the whole response; returns false for the others. */
  private sendFault(res: http.ServerResponse, fault: Fault | undefined, azure: boolean): boolean {
    if (fault?.kind === 'api_key_invalid') {
      if (azure) sendAzureError(res, 401, AZURE_MESSAGES[401]!);
      else sendOpenAiError(res, 401, FAULT_MESSAGES[401]![0], { code: 'invalid_api_key' });
      return true;
    }
    if (fault?.kind === 'insufficient_quota') {
      sendOpenAiError(res, 429, INSUFFICIENT_QUOTA_MESSAGE, { type: 'insufficient_quota', code: 'insufficient_quota' });
      return true;
    }
    if (fault?.kind === 'content_filter') {
      sendJson(res, 400, {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: contentFilterResult(true) },
        },
      });
      return true;
    }
    if (fault?.kind !== 'status') return false;
    const status = httpStatusFor(fault.status);
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(fault.retryAfterSeconds));
    if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(Math.round(fault.retryAfterMs));
    if (azure && AZURE_MESSAGES[status] !== undefined) {
      sendAzureError(res, status, fault.message ?? AZURE_MESSAGES[status]!, headers);
      return true;
    }
    const [message, code, type] = FAULT_MESSAGES[status] ?? ['The request failed.', null];
    sendOpenAiError(res, status, fault.message ?? message, {
      code,
      ...(type !== undefined && { type }),
      ...(fault.retryAfterSeconds !== undefined && { retryAfterSeconds: fault.retryAfterSeconds }),
      ...(fault.retryAfterMs !== undefined && { retryAfterMs: fault.retryAfterMs }),
    });
    return true;
  }

  listen(host: string, port: number): Promise<number> {
    return this.http.listen(host, port);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
