import type { FastifyInstance } from 'fastify';
import { AiError } from '@korean-together/core';

/** Bodies up to this size are accepted: 10 MB of audio as base64, plus the other fields. */
export const BODY_LIMIT_BYTES = 15 * 1024 * 1024;
/** Arrays and objects nested deeper than this in a body are refused (the API's bodies are one flat object). */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses `__proto__` keys (and `constructor.prototype`) anywhere in a parsed body, naming where,
 * and bodies nested deeper than MAX_BODY_DEPTH. Iterative: JSON.parse takes 200,000 nested '['
 * (400 KB), which would overflow the stack of a recursive walk.
 */
function bodyProblem(body: unknown): string | undefined {
  // Depth-first: an object's own keys are checked before its children, which are visited in
  // document order (pushed last-first).
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: 'body', depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path, depth } = item;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) return `body: nested too deeply (more than ${MAX_BODY_DEPTH} levels of arrays and objects)`;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        if (value[i] !== null && typeof value[i] === 'object') stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      }
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return `${path}.__proto__: key '__proto__' is not allowed`;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return `${path}.constructor.prototype: key 'prototype' is not allowed`;
      }
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const child = (value as Record<string, unknown>)[keys[i]!];
      if (child !== null && typeof child === 'object') stack.push({ value: child, path: `${path}.${keys[i]}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * The JSON body parser. Native JSON.parse makes `__proto__` an ordinary own key (it never sets
 * the prototype), so such a body can be named and refused clearly instead of being called invalid JSON.
 */
export function parseJsonBody(body: string): unknown {
  if (body.length === 0) throw new AiError('invalid_request', 'request body is empty', { retryable: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // The parser's message would quote the body (learner text): never echo it.
    throw new AiError('invalid_request', 'request body is not valid JSON', { retryable: false });
  }
  const problem = bodyProblem(parsed);
  if (problem) throw new AiError('invalid_request', problem, { retryable: false });
  return parsed;
}

/**
 * Only JSON bodies: Fastify's text/plain parser would hand a string to the schema (a 400),
 * where a client sending the wrong type needs 415.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
