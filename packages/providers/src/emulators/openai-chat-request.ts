// A Chat Completions request body as OpenAI checks it: JSON, a model (unless an Azure
// deployment names it), non-empty messages with known roles, a positive token cap, and a
// json_schema response format whose name and (in strict mode) schema are acceptable.

import type http from 'node:http';
import { sendOpenAiError } from './openai-audio-server.js';
import { strictSchemaProblem } from './openai-strict-schema.js';

export interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

/** A message's text: its string content, or its text parts joined by newlines. */
export function messageText(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('\n');
  return '';
}

/** The body as JSON when it is an object, else undefined (reported later, after auth and faults). */
export function parseChatBody(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return undefined;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** max_completion_tokens (or max_tokens), a positive integer when set. */
  maxTokens: unknown;
  /** The json_schema response format's schema, when one is set. */
  schema: unknown;
}

/** Checks the body; on a bad one sends OpenAI's 400 naming the field and returns undefined. */
export function checkChatRequest(res: http.ServerResponse, body: Record<string, unknown> | undefined, model: string | undefined, deployment: string | undefined): ChatRequest | undefined {
  if (!body) {
    sendOpenAiError(res, 400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)');
    return undefined;
  }
  if (!model && deployment === undefined) {
    sendOpenAiError(res, 400, 'you must provide a model parameter', { param: 'model' });
    return undefined;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    sendOpenAiError(res, 400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", { param: 'messages', code: 'empty_array' });
    return undefined;
  }
  for (const [i, m] of (messages as ChatMessage[]).entries()) {
    if (!m || typeof m !== 'object' || !['system', 'developer', 'user', 'assistant', 'tool'].includes(String(m.role))) {
      sendOpenAiError(res, 400, `Invalid value for 'messages[${i}].role'.`, { param: `messages[${i}].role`, code: 'invalid_value' });
      return undefined;
    }
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) > 0)) {
    sendOpenAiError(res, 400, `Invalid 'max_completion_tokens': expected a positive integer, got ${JSON.stringify(maxTokens)}.`, { param: 'max_completion_tokens', code: 'invalid_value' });
    return undefined;
  }
  const format = body.response_format as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } } | undefined;
  let schema: unknown;
  if (format?.type === 'json_schema') {
    const js = format.json_schema;
    if (!js || typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name)) {
      sendOpenAiError(res, 400, "Invalid 'response_format.json_schema.name': must be a-z, A-Z, 0-9, underscores and dashes, at most 64 characters.", { param: 'response_format.json_schema.name', code: 'invalid_value' });
      return undefined;
    }
    if (js.strict === true) {
      const problem = strictSchemaProblem(js.schema);
      if (problem) {
        sendOpenAiError(res, 400, `Invalid schema for response_format '${js.name}': ${problem}`, { param: 'response_format', code: 'invalid_json_schema' });
        return undefined;
      }
    }
    schema = js.schema;
  }
  return { messages: messages as ChatMessage[], maxTokens, schema };
}
