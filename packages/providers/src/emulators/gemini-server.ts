// A Gemini REST emulator: what @google/genai sends to
// POST /{v1|v1beta}/models/{model}:generateContent (and :streamGenerateContent), graded by
// the Korean rules in grading.ts, with Google's error shapes and realistic usage metadata.
// The same models on Vertex AI answer under
// POST /{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
// (an OAuth bearer token) and, in express mode, /{v1|v1beta1}/publishers/google/models/{model}:...
// (an API key): a separate target, 'gemini-vertex', with its own faults and hit counts.

import type http from 'node:http';
import { buildGeminiAnswer } from './gemini-answer.js';
import { PROMPT_CACHE_MIN_TOKENS, PromptCache } from './openai-prompt-cache.js';
import { DEFAULT_FAULT_MESSAGES, quotaFailure, sendApiKeyInvalid, sendGoogleError, sendVertexUnauthenticated, vertexFault } from './gemini-errors.js';
import { checkGeminiRequest } from './gemini-request.js';
import { parseGeminiRoute } from './gemini-route.js';
import { sendGeminiStream } from './gemini-stream.js';
import type { FaultScript, HitCounter } from './faults.js';
import { BodyTooLargeError, HttpEmulator, readBody, sendJson, waitOutFault, type RequestScope } from './http-kit.js';
import { httpStatusFor } from './status-codes.js';

/** Largest request body accepted (Gemini's inline-data request limit is 20 MB). */
export const GEMINI_MAX_REQUEST_BYTES = 20 * 1024 * 1024;

// Moved to files of their own; still importable from here.
export { estimateTokens } from './token-estimate.js';
export { AUDIO_TOKENS_PER_SECOND, thinkingTokens } from './gemini-answer.js';
export { API_KEY_INVALID_MESSAGE, sendGoogleError } from './gemini-errors.js';

export class GeminiEmulator {
  readonly http: HttpEmulator;
  /** Gemini 2.5's implicit prompt cache: a repeated prefix of 1,024+ tokens is reported as cached. */
  private readonly promptCache = new PromptCache({ minTokens: PROMPT_CACHE_MIN_TOKENS, stepTokens: 1 });

  constructor(
    private readonly faults: FaultScript,
    hits: HitCounter,
  ) {
    this.http = new HttpEmulator('gemini', hits, (req, res, scope) => this.handle(req, res, scope), (res) =>
      sendGoogleError(res, 500, DEFAULT_FAULT_MESSAGES[500]!),
    );
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    const route = parseGeminiRoute(url.pathname);
    if (!route) return sendGoogleError(res, 404, `The requested URL ${url.pathname} was not found on this server.`);
    if (req.method !== 'POST') return sendGoogleError(res, 405, `Method ${req.method} is not allowed for ${url.pathname}.`);
    const { target, version, model, method } = route;
    scope.hit(target, [model]);

    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    const hasKey = typeof key === 'string' && key.trim() !== '';
    if (route.vertex && route.project !== undefined) {
      // Vertex AI takes OAuth access tokens (service accounts, ADC), never API keys, on project paths.
      if (!/^Bearer\s+\S+$/i.test(String(req.headers.authorization ?? ''))) return sendVertexUnauthenticated(res, 'CREDENTIALS_MISSING', version);
    } else if (!hasKey) {
      if (route.vertex) return sendVertexUnauthenticated(res, 'CREDENTIALS_MISSING', version);
      return sendGoogleError(
        res,
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }

    let raw: Buffer;
    try {
      raw = await readBody(req, GEMINI_MAX_REQUEST_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendGoogleError(res, 413, `Request payload size exceeds the limit: ${err.limitBytes} bytes.`);
      throw err;
    }

    const fault = this.faults.pick(target, [model]);
    if (!(await waitOutFault(fault, scope.signal))) return;
    if (fault?.kind === 'api_key_invalid') {
      // A bearer token that no longer works, or (express mode) a bad key.
      return route.vertex && route.project !== undefined ? sendVertexUnauthenticated(res, 'ACCESS_TOKEN_EXPIRED', version) : sendApiKeyInvalid(res);
    }
    if (fault?.kind === 'status') {
      const status = httpStatusFor(fault.status);
      const defaults = route.vertex ? vertexFault(status, route) : undefined;
      return sendGoogleError(res, fault.status, fault.message ?? defaults?.message ?? DEFAULT_FAULT_MESSAGES[status] ?? 'Request failed.', {
        ...(fault.retryAfterSeconds !== undefined && { retryAfterSeconds: fault.retryAfterSeconds }),
        // The Gemini API names the quota a 429 hit; Vertex AI says only "Resource exhausted".
        ...(status === 429 && !route.vertex && { details: [quotaFailure(model)] }),
        ...(defaults?.details && { details: defaults.details }),
      });
    }

    const request = checkGeminiRequest(res, raw, route);
    if (!request) return;

    const answer = buildGeminiAnswer(model, request.body, request.contents, request.gc, request.jsonMode, fault, this.promptCache);
    if (route.vertex) {
      // Vertex AI's response also carries its creation time and the traffic type it billed.
      answer.createTime = new Date().toISOString();
      answer.usageMetadata = { ...answer.usageMetadata, trafficType: 'ON_DEMAND' };
    }
    if (method === 'generateContent') return sendJson(res, 200, answer);
    sendGeminiStream(res, answer, url.searchParams.get('alt') === 'sse');
  }

  listen(host: string, port: number): Promise<number> {
    return this.http.listen(host, port);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
