import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestError, toHttpError, type HttpError } from './http-errors.js';
import { BODY_LIMIT_BYTES } from './json-body.js';
import { NO_NUL_PATTERN } from './schemas.js';

export function sendError(reply: FastifyReply, e: HttpError): FastifyReply {
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
  return reply.code(e.status).send(e.body);
}

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** 'body.text: must NOT have fewer than 1 characters'; names fields, never quotes values. */
function validationMessage(context: string | undefined, items: unknown): string {
  const first = (Array.isArray(items) ? items[0] : undefined) as ValidationItem | undefined;
  const where = [context ?? 'request', ...(first?.instancePath ?? '').split('/').filter(Boolean)].join('.');
  if (first?.keyword === 'additionalProperties') return `${where}: unknown field '${String(first.params?.additionalProperty)}'`;
  if (first?.keyword === 'dependencies') return `${where}: ${String(first.params?.property)} needs ${String(first.params?.missingProperty)}`;
  if (first?.keyword === 'pattern' && first.params?.pattern === NO_NUL_PATTERN) return `${where}: must not contain NUL (\\u0000) characters`;
  return `${where}: ${first?.message ?? 'invalid'}`;
}

type FrameworkError = Error & { validation?: unknown; statusCode?: number; code?: string; validationContext?: string };

/** Fastify's errors (schema, content type, body parsing) and the handlers' own, in the server's error shape. */
export function errorHandler(error: FrameworkError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) return sendError(reply, requestError(400, 'invalid_request', validationMessage(error.validationContext, error.validation)));
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, requestError(413, 'payload_too_large', `request body over ${BODY_LIMIT_BYTES} bytes`));
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, requestError(415, 'invalid_request', 'content-type must be application/json'));
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendError(reply, requestError(400, 'invalid_request', 'request body is empty'));
  // The parser's message would quote the body (learner text): never echo it.
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return sendError(reply, requestError(400, 'invalid_request', 'request body is not valid JSON'));
  const http = toHttpError(error);
  if (http.status >= 500) request.log.error({ code: http.body.error.code }, `${request.method} ${request.routeOptions.url ?? ''}: ${http.body.error.message}`);
  return sendError(reply, http);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, requestError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
}
