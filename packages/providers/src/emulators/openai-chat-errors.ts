// The chat emulator's error bodies: OpenAI's texts and codes per status, Azure OpenAI's
// gateway errors ({ error: { code: '<status>', message } }), Azure's content-filter verdicts,
// and the scripted faults that replace a whole response.

import type http from 'node:http';
import { sendJson } from './http-kit.js';
import { INSUFFICIENT_QUOTA_MESSAGE, sendOpenAiError } from './openai-audio-server.js';
import { httpStatusFor } from './status-codes.js';
import type { Fault } from './types.js';

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
export const AZURE_MESSAGES: Record<number, string> = {
  401: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  404: 'Resource not found',
  429: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 1 second.',
  500: 'The server had an error while processing your request. Sorry about that!',
  503: 'The service is temporarily unable to process your request. Please try again later.',
};

/** Azure's content-filter verdict per category, as its error and answers report it. */
export function contentFilterResult(filtered: boolean): Record<string, unknown> {
  return {
    hate: { filtered: false, severity: 'safe' },
    jailbreak: { filtered: false, detected: false },
    self_harm: { filtered: false, severity: 'safe' },
    sexual: { filtered: false, severity: 'safe' },
    violence: { filtered, severity: filtered ? 'medium' : 'safe' },
  };
}

/** Azure's error body: `{ error: { code: '<status>', message } }` for its gateway's own answers. */
export function sendAzureError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code: String(status), message } }, headers);
}

/** Answers the faults that replace the whole response; returns false for the others. */
export function sendChatFault(res: http.ServerResponse, fault: Fault | undefined, azure: boolean): boolean {
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
