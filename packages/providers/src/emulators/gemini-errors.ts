// Google's error bodies as the Gemini API and Vertex AI send them: the JSON shape, the
// details that tell one 400/401/403/429 from another, and each service's default texts.

import type http from 'node:http';
import type { GeminiRoute } from './gemini-route.js';
import { sendJson } from './http-kit.js';
import { googleStatusName, httpStatusFor } from './status-codes.js';

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
export function sendApiKeyInvalid(res: http.ServerResponse): void {
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
export function quotaFailure(model: string): unknown {
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

export const DEFAULT_FAULT_MESSAGES: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  401: 'Request had invalid authentication credentials.',
  403: 'The caller does not have permission.',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'The request timed out. Please try again.',
};

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
export function sendVertexUnauthenticated(res: http.ServerResponse, reason: 'CREDENTIALS_MISSING' | 'ACCESS_TOKEN_EXPIRED', version: string): void {
  const message =
    reason === 'CREDENTIALS_MISSING'
      ? 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
      : 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
  sendGoogleError(res, 401, message, { details: [vertexErrorInfo(reason, version)] });
}

/** Vertex AI's own text (and details) for a scripted status, where it differs from the Gemini API's. */
export function vertexFault(status: number, route: GeminiRoute): { message: string; details?: unknown[] } | undefined {
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
