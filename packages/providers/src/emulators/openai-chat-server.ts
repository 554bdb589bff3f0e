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
import { BodyTooLargeError, HttpEmulator, readBody, sendJson, waitOutFault, type RequestScope } from './http-kit.js';
import { sendOpenAiError } from './openai-audio-server.js';
import { buildChatAnswer, CHAT_CONTEXT_TOKENS, chatPromptText, chatPromptTokens } from './openai-chat-answer.js';
import { AZURE_MESSAGES, sendAzureError, sendChatFault } from './openai-chat-errors.js';
import { checkChatRequest, parseChatBody } from './openai-chat-request.js';
import { PromptCache } from './openai-prompt-cache.js';

/** Largest request body accepted (OpenAI's own limit is far larger; grading prompts are small). */
export const CHAT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

// Moved to files of their own; still importable from here.
export { CHAT_CONTEXT_TOKENS, CHAT_TOKENS_PER_MESSAGE } from './openai-chat-answer.js';
export { PROMPT_CACHE_MIN_TOKENS, PROMPT_CACHE_STEP_TOKENS } from './openai-prompt-cache.js';
export { strictSchemaProblem } from './openai-strict-schema.js';

export class OpenAiChatEmulator {
  readonly http: HttpEmulator;
  /** OpenAI's prompt cache: recent prompts per model, for cached_tokens on a repeated prefix. */
  private readonly promptCache = new PromptCache();

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
    const body = parseChatBody(raw);
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
    if (sendChatFault(res, fault, deployment !== undefined)) return;

    const request = checkChatRequest(res, body, model, deployment);
    if (!request) return;
    const { messages, maxTokens, schema } = request;

    const promptTokens = chatPromptTokens(messages, schema);
    if (promptTokens > CHAT_CONTEXT_TOKENS || fault?.kind === 'context_length_exceeded') {
      return sendOpenAiError(
        res,
        400,
        `This model's maximum context length is ${CHAT_CONTEXT_TOKENS} tokens. However, your messages resulted in ${Math.max(promptTokens, CHAT_CONTEXT_TOKENS + 1)} tokens. Please reduce the length of the messages.`,
        { param: 'messages', code: 'context_length_exceeded' },
      );
    }
    const servedModel = model ?? deployment!;
    const cachedTokens = this.promptCache.cachedPrefixTokens(servedModel, chatPromptText(messages), promptTokens);
    const answer = buildChatAnswer({ messages, schema, maxTokens, servedModel, deployment, promptTokens, cachedTokens, fault });
    sendJson(res, 200, answer, { 'x-request-id': `req_${randomBytes(12).toString('hex')}` });
  }

  listen(host: string, port: number): Promise<number> {
    return this.http.listen(host, port);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
