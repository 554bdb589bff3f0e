// A generateContent request body as the Gemini API and Vertex AI check it: JSON, at least one
// content, valid roles (Vertex), a known model, and a response schema only in JSON mode.

import type http from 'node:http';
import { sendGoogleError } from './gemini-errors.js';
import type { GeminiRoute } from './gemini-route.js';

const KNOWN_MODEL = /^(gemini|gemma|learnlm)-[\w.-]+$/;

export interface Part {
  text?: string;
  inlineData?: { mimeType?: string; data?: string };
}
export interface Content {
  role?: string;
  parts?: Part[];
}

/** The text parts of a content (or a bare string), joined by newlines. */
export function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  const parts = (c as Content | undefined)?.parts;
  return Array.isArray(parts) ? parts.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('\n') : '';
}

export interface GeminiRequest {
  body: Record<string, unknown>;
  contents: Content[];
  /** generationConfig (or generation_config), {} when absent. */
  gc: Record<string, unknown>;
  jsonMode: boolean;
}

/** Parses and checks the body; on a bad one sends the service's 400/404 and returns undefined. */
export function checkGeminiRequest(res: http.ServerResponse, raw: Buffer, route: GeminiRoute): GeminiRequest | undefined {
  const { version, model } = route;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  } catch {
    sendGoogleError(res, 400, 'Invalid JSON payload received. Unexpected token.');
    return undefined;
  }
  const contents = body.contents as Content[] | undefined;
  if (!Array.isArray(contents) || contents.length === 0) {
    sendGoogleError(res, 400, route.vertex ? 'Unable to submit request because it must include at least one parts field, which describes the prompt input.' : '* GenerateContentRequest.contents: contents is not specified\n');
    return undefined;
  }
  // Vertex AI refuses a turn without a role; the Gemini API assumes 'user'.
  if (route.vertex && contents.some((c) => c?.role !== 'user' && c?.role !== 'model')) {
    sendGoogleError(res, 400, 'Please use a valid role: user, model.');
    return undefined;
  }
  if (!KNOWN_MODEL.test(model)) {
    if (route.vertex) {
      sendGoogleError(
        res,
        404,
        `Publisher Model \`${route.project !== undefined ? `projects/${route.project}/locations/${route.location}/` : ''}publishers/google/models/${model}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
      );
      return undefined;
    }
    sendGoogleError(res, 404, `models/${model} is not found for API version ${version}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
    return undefined;
  }
  const gc = (body.generationConfig ?? body.generation_config ?? {}) as Record<string, unknown>;
  const mime = (gc.responseMimeType ?? gc.response_mime_type) as string | undefined;
  const hasSchema = [gc.responseSchema, gc.response_schema, gc.responseJsonSchema, gc.response_json_schema].some((s) => s !== undefined);
  if ((gc.responseSchema ?? gc.response_schema) !== undefined && (gc.responseJsonSchema ?? gc.response_json_schema) !== undefined) {
    sendGoogleError(res, 400, 'Only one of response_schema and response_json_schema may be set.');
    return undefined;
  }
  if (hasSchema && mime !== 'application/json') {
    sendGoogleError(res, 400, "* GenerateContentRequest.generation_config.response_mime_type: must be 'application/json' when response_schema or response_json_schema is set.\n");
    return undefined;
  }
  return { body, contents, gc, jsonMode: mime === 'application/json' };
}
