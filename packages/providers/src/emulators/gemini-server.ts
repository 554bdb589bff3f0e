// A Gemini REST emulator: what @google/genai sends to
// POST /{v1|v1beta}/models/{model}:generateContent (and :streamGenerateContent), graded by
// the Korean rules in grading.ts, with Google's error shapes and realistic usage metadata.
// The same models on Vertex AI answer under
// POST /{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
// (an OAuth bearer token) and, in express mode, /{v1|v1beta1}/publishers/google/models/{model}:...
// (an API key): a separate target, 'gemini-vertex', with its own faults and hit counts.

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { hearAudio } from './audio.js';
import type { FaultScript, HitCounter } from './faults.js';
import { gradeAnswer, parseEvalPrompt, parsePassMark } from './grading.js';
import { estimateTokens } from './token-estimate.js';
import { BodyTooLargeError, HttpEmulator, readBody, sendJson, waitOutFault, type RequestScope } from './http-kit.js';
import { googleStatusName, httpStatusFor } from './status-codes.js';
import type { Fault } from './types.js';

/** Largest request body accepted (Gemini's inline-data request limit is 20 MB). */
export const GEMINI_MAX_REQUEST_BYTES = 20 * 1024 * 1024;
/** Prompt tokens per second of inline audio, as Gemini counts them. */
export const AUDIO_TOKENS_PER_SECOND = 32;

const ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const VERTEX_ROUTE = /^\/(v1|v1beta1)\/(?:projects\/([^/]+)\/locations\/([^/]+)\/)?publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const KNOWN_MODEL = /^(gemini|gemma|learnlm)-[\w.-]+$/;

export { estimateTokens };

interface Part {
  text?: string;
  inlineData?: { mimeType?: string; data?: string };
}
interface Content {
  role?: string;
  parts?: Part[];
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  const parts = (c as Content | undefined)?.parts;
  return Array.isArray(parts) ? parts.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('\n') : '';
}

/** Writes Google's JSON error body: {"error":{"code","message","status","details"?}}. */
export function sendGoogleError(res: http.ServerResponse, status: number, message: string, extra: { retryAfterSeconds?: number; details?: unknown[] } = {}): void {
  const code = httpStatusFor(status);
  const details = [...(extra.details ?? [])];
  const headers: Record<string, string> = {};
  if (extra.retryAfterSeconds !== undefined) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${extra.retryAfterSeconds}s` });
    headers['retry-after'] = String(Math.ceil(extra.retryAfterSeconds));
  }
  sendJson(res, code, { error: { code, message, status: googleStatusName(code), ...(details.length && { details }) } }, headers);
}

/** Google's message for a bad API key, in the body and its LocalizedMessage detail. */
export const API_KEY_INVALID_MESSAGE = 'API key not valid. Please pass a valid API key.';

/**
 * What the Gemini API answers a bad key: 400 INVALID_ARGUMENT whose details name the reason
 * (google.rpc.ErrorInfo API_KEY_INVALID in domain googleapis.com). Only the details tell it
 * apart from any other bad request.
 */
function sendApiKeyInvalid(res: http.ServerResponse): void {
  sendGoogleError(res, 400, API_KEY_INVALID_MESSAGE, {
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: API_KEY_INVALID_MESSAGE },
    ],
  });
}

/** The QuotaFailure detail a Gemini 429 carries beside its RetryInfo. */
function quotaFailure(model: string): unknown {
  return {
    '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
    violations: [
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        quotaDimensions: { location: 'global', model },
        quotaValue: '10',
      },
    ],
  };
}

const DEFAULT_FAULT_MESSAGES: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  401: 'Request had invalid authentication credentials.',
  403: 'The caller does not have permission.',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'The request timed out. Please try again.',
};

interface Route {
  target: 'gemini' | 'gemini-vertex';
  vertex: boolean;
  version: string;
  model: string;
  method: string;
  /** Vertex project and location; both undefined in express mode. */
  project?: string;
  location?: string;
}

/** Which API a path belongs to: the Gemini API or Vertex AI (project path or express mode). */
function parseRoute(pathname: string): Route | undefined {
  const g = ROUTE.exec(pathname);
  if (g) return { target: 'gemini', vertex: false, version: g[1]!, model: g[2]!, method: g[3]! };
  const v = VERTEX_ROUTE.exec(pathname);
  if (!v) return undefined;
  const [, version, project, location, model, method] = v as unknown as [string, string, string | undefined, string | undefined, string, string];
  return { target: 'gemini-vertex', vertex: true, version, model, method, ...(project !== undefined && { project: decodeURIComponent(project), location: decodeURIComponent(location!) }) };
}

/** The ErrorInfo metadata Vertex AI puts on its auth failures. */
function vertexErrorInfo(reason: string, version: string, domain = 'googleapis.com', extra: Record<string, string> = {}): unknown {
  return {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason,
    domain,
    metadata: { service: 'aiplatform.googleapis.com', method: `google.cloud.aiplatform.${version}.PredictionService.GenerateContent`, ...extra },
  };
}

/** Vertex AI's 401: no credential at all (CREDENTIALS_MISSING), or one that no longer works (ACCESS_TOKEN_EXPIRED). */
function sendVertexUnauthenticated(res: http.ServerResponse, reason: 'CREDENTIALS_MISSING' | 'ACCESS_TOKEN_EXPIRED', version: string): void {
  const message =
    reason === 'CREDENTIALS_MISSING'
      ? 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
      : 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
  sendGoogleError(res, 401, message, { details: [vertexErrorInfo(reason, version)] });
}

/** Vertex AI's own text (and details) for a scripted status, where it differs from the Gemini API's. */
function vertexFault(status: number, route: Route): { message: string; details?: unknown[] } | undefined {
  const resource = `projects/${route.project ?? 'express'}/locations/${route.location ?? 'global'}/publishers/google/models/${route.model}`;
  switch (status) {
    case 429:
      return { message: 'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.' };
    case 403:
      return {
        message: `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
        details: [vertexErrorInfo('IAM_PERMISSION_DENIED', route.version, 'aiplatform.googleapis.com', { permission: 'aiplatform.endpoints.predict', resource })],
      };
    case 503:
      return { message: 'The service is currently unavailable.' };
    default:
      return undefined;
  }
}

interface Answer {
  candidates: unknown[];
  usageMetadata: Record<string, unknown>;
  modelVersion: string;
  responseId: string;
  promptFeedback?: unknown;
  createTime?: string;
}

export class GeminiEmulator {
  readonly http: HttpEmulator;

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
    const route = parseRoute(url.pathname);
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

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return sendGoogleError(res, 400, 'Invalid JSON payload received. Unexpected token.');
    }
    const contents = body.contents as Content[] | undefined;
    if (!Array.isArray(contents) || contents.length === 0) {
      return sendGoogleError(res, 400, route.vertex ? 'Unable to submit request because it must include at least one parts field, which describes the prompt input.' : '* GenerateContentRequest.contents: contents is not specified\n');
    }
    // Vertex AI refuses a turn without a role; the Gemini API assumes 'user'.
    if (route.vertex && contents.some((c) => c?.role !== 'user' && c?.role !== 'model')) {
      return sendGoogleError(res, 400, 'Please use a valid role: user, model.');
    }
    if (!KNOWN_MODEL.test(model)) {
      if (route.vertex) {
        return sendGoogleError(
          res,
          404,
          `Publisher Model \`${route.project !== undefined ? `projects/${route.project}/locations/${route.location}/` : ''}publishers/google/models/${model}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
        );
      }
      return sendGoogleError(res, 404, `models/${model} is not found for API version ${version}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
    }
    const gc = (body.generationConfig ?? body.generation_config ?? {}) as Record<string, unknown>;
    const mime = (gc.responseMimeType ?? gc.response_mime_type) as string | undefined;
    const hasSchema = [gc.responseSchema, gc.response_schema, gc.responseJsonSchema, gc.response_json_schema].some((s) => s !== undefined);
    if ((gc.responseSchema ?? gc.response_schema) !== undefined && (gc.responseJsonSchema ?? gc.response_json_schema) !== undefined) {
      return sendGoogleError(res, 400, 'Only one of response_schema and response_json_schema may be set.');
    }
    if (hasSchema && mime !== 'application/json') {
      return sendGoogleError(res, 400, "* GenerateContentRequest.generation_config.response_mime_type: must be 'application/json' when response_schema or response_json_schema is set.\n");
    }

    const answer = this.answer(model, body, contents, gc, mime === 'application/json', fault);
    if (route.vertex) {
      // Vertex AI's response also carries its creation time and the traffic type it billed.
      answer.createTime = new Date().toISOString();
      answer.usageMetadata = { ...answer.usageMetadata, trafficType: 'ON_DEMAND' };
    }
    if (method === 'generateContent') return sendJson(res, 200, answer);
    const chunks = streamChunks(answer);
    if (url.searchParams.get('alt') === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      res.end();
      return;
    }
    sendJson(res, 200, chunks);
  }

  private answer(model: string, body: Record<string, unknown>, contents: Content[], gc: Record<string, unknown>, jsonMode: boolean, fault: Fault | undefined): Answer {
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
      },
      ...base,
    };
  }

  listen(host: string, port: number): Promise<number> {
    return this.http.listen(host, port);
  }

  close(): Promise<void> {
    return this.http.close();
  }
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

/** Splits an answer into stream chunks of about 48 characters; usage rides on each, the finish reason on the last. */
function streamChunks(answer: Answer): Answer[] {
  const cand = answer.candidates[0] as { content?: { parts: { text: string }[] }; finishReason?: string } | undefined;
  const text = cand?.content?.parts[0]?.text;
  if (!cand || text === undefined) return [answer];
  const cps = [...text];
  const pieces: string[] = [];
  for (let i = 0; i < cps.length; i += 48) pieces.push(cps.slice(i, i + 48).join(''));
  if (!pieces.length) pieces.push('');
  let sent = '';
  return pieces.map((piece, i) => {
    sent += piece;
    const last = i === pieces.length - 1;
    const candidatesTokenCount = estimateTokens(sent);
    const u = answer.usageMetadata as { promptTokenCount: number; thoughtsTokenCount?: number };
    return {
      ...answer,
      candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0, ...(last && { finishReason: cand.finishReason }) }],
      usageMetadata: last
        ? answer.usageMetadata
        : { ...answer.usageMetadata, candidatesTokenCount, totalTokenCount: u.promptTokenCount + candidatesTokenCount + (u.thoughtsTokenCount ?? 0) },
    };
  });
}
