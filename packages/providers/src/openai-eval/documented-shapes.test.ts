// The adapter against answers shaped exactly as the services document them, served verbatim
// by a bare HTTP server (no emulator logic in between). Where each shape comes from:
// - chat.completion with structured output: OpenAI API reference, "Create chat completion"
//   (usage with prompt_tokens_details / completion_tokens_details, service_tier,
//   system_fingerprint), and openai-node's tests/lib/__snapshots__/parser.test.ts.snap (a
//   minimal usage block without the details).
// - refusal: OpenAI structured-outputs guide, "Refusals" (content null, refusal text).
// - error bodies { error: { message, type, param, code } }: OpenAI error-codes guide (401
//   invalid_api_key, 429 rate_limit_exceeded, 429 insufficient_quota), context_length_exceeded
//   as the API returns it; OpenAI's Node client reads retry-after-ms before retry-after.
// - Azure OpenAI: content-filtering docs (400 code content_filter, innererror
//   ResponsibleAIPolicyViolation with content_filter_result) and its quota docs (429
//   { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation ...' } }
//   with Retry-After).
// - Ollama's OpenAI-compatible endpoint: 404 { error: { message: 'model "..." not found, try
//   pulling it first', type: 'api_error', param: null, code: null } }; vLLM's flat
//   { object: 'error', message, type, param, code } body.
import http from 'node:http';
import { checkEvalOutput } from '@korean-together/core/provider-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection, testAttempt } from '../shared/test-context.js';
import { openaiEvaluator } from './openai-evaluator.js';

const REQ = { prompt: '물을 달라고 하세요.', learnerAnswer: '물 좀 주세요', expectedAnswer: '물 좀 주세요', targetFormality: 'haeyo' as const };
const GRADE = { score: 92, passFail: true, primaryErrorType: null, errors: [{ type: 'vocabulary', message: 'Fine, 주세요 is natural.', span: null, correction: null }], suggestions: ['Try 물 한 잔 주세요.'], rationale: 'Natural and polite.' };

interface Fixture {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

const FIXTURES: Record<string, Fixture> = {
  // OpenAI API reference, "Create chat completion" response, with a strict json_schema answer.
  reference: {
    status: 200,
    headers: { 'x-request-id': 'req_7f6c1e5a0b3d4f2a9c8e1d0b3a5f7e9c' },
    body: {
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      object: 'chat.completion',
      created: 1741570283,
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(GRADE), refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 1117,
        completion_tokens: 46,
        total_tokens: 1163,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_fc9f1d7035',
    },
  },
  // openai-node parser snapshot: usage without any details (older snapshots, compatible servers).
  minimal: {
    status: 200,
    body: {
      id: 'chatcmpl-9tZXFjiGKgtrHZeIxvkklWe51DYZp',
      object: 'chat.completion',
      created: 1723031665,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(GRADE), refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 17, completion_tokens: 10, total_tokens: 27 },
      system_fingerprint: 'fp_2a322c9ffc',
    },
  },
  // o-series: reasoning tokens are part of completion_tokens.
  reasoning: {
    status: 200,
    body: {
      id: 'chatcmpl-AEn1',
      object: 'chat.completion',
      created: 1741570283,
      model: 'o4-mini-2025-04-16',
      choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(GRADE), refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 300, completion_tokens: 1200, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 1152, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
      service_tier: 'default',
    },
  },
  // Structured-outputs guide, "Refusals".
  refusal: {
    status: 200,
    body: {
      id: 'chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC',
      object: 'chat.completion',
      created: 1721596428,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: "I'm sorry, I cannot assist with that request." }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 81, completion_tokens: 11, total_tokens: 92 },
      system_fingerprint: 'fp_3407719c7f',
    },
  },
  length: {
    status: 200,
    body: {
      id: 'chatcmpl-len',
      object: 'chat.completion',
      created: 1741570283,
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: '{"score":92,"passFail":true,"primaryErrorType":null,"errors":[{"type":"vocab', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 700, completion_tokens: 1024, total_tokens: 1724 },
    },
  },
  invalid_api_key: {
    status: 401,
    body: { error: { message: 'Incorrect API key provided: sk-proj-********************abcd. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
  },
  rate_limit: {
    status: 429,
    headers: { 'retry-after-ms': '150', 'retry-after': '1', 'x-ratelimit-reset-tokens': '150ms' },
    body: {
      error: {
        message: 'Rate limit reached for gpt-4.1-mini in organization org-abc123 on tokens per min (TPM): Limit 200000, Used 199500, Requested 1117. Please try again in 150ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
  },
  insufficient_quota: {
    status: 429,
    body: { error: { message: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } },
  },
  context_length: {
    status: 400,
    body: { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } },
  },
  server_error: {
    status: 500,
    body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
  },
  azure_content_filter: {
    status: 400,
    body: {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { hate: { filtered: false, severity: 'safe' }, jailbreak: { filtered: false, detected: false }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: true, severity: 'medium' } },
        },
      },
    },
  },
  azure_rate_limit: {
    status: 429,
    headers: { 'retry-after': '6' },
    body: { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.' } },
  },
  // Azure: the output itself filtered (HTTP 200, finish_reason content_filter, no content).
  azure_output_filtered: {
    status: 200,
    body: {
      id: 'chatcmpl-az',
      object: 'chat.completion',
      created: 1741570283,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', content_filter_results: { violence: { filtered: true, severity: 'medium' } } }],
      usage: { prompt_tokens: 640, completion_tokens: 12, total_tokens: 652 },
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { violence: { filtered: false, severity: 'safe' } } }],
    },
  },
  ollama_not_found: {
    status: 404,
    body: { error: { message: 'model "qwen2.5:7b" not found, try pulling it first', type: 'api_error', param: null, code: null } },
  },
  vllm_bad_request: {
    status: 400,
    body: { object: 'error', message: "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.", type: 'BadRequestError', param: null, code: 400 },
  },
};

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    // The fixture name is the first path segment: /<fixture>/v1/chat/completions.
    const name = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
    const f = FIXTURES[name];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const text = JSON.stringify(f.body);
    res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const at = (fixture: string) => openaiEvaluator({ baseUrl: `${base}/${fixture}`, apiKey: 'sk-test-key-0123456789' });

describe('openaiEvaluator against the documented response shapes', () => {
  it('reads the reference answer: grade, prompt_tokens with cached_tokens apart, completion_tokens', async () => {
    const res = await at('reference').evaluate(REQ, testAttempt().ctx);
    expect(res).toMatchObject({ tokensIn: 1117, cachedTokensIn: 1024, tokensOut: 46 });
    // span: null and correction: null (strict mode's way of leaving them out) are dropped.
    expect(checkEvalOutput(res.output, 70)).toEqual({ ...GRADE, errors: [{ type: 'vocabulary', message: 'Fine, 주세요 is natural.' }] });
  });

  it('reads a usage block without details, and reasoning tokens as output', async () => {
    expect(await at('minimal').evaluate(REQ, testAttempt().ctx)).toMatchObject({ tokensIn: 17, tokensOut: 10 });
    const r = await at('reasoning').evaluate(REQ, testAttempt().ctx);
    expect(r).toMatchObject({ tokensIn: 300, tokensOut: 1200 });
    expect(r).not.toHaveProperty('cachedTokensIn');
  });

  it.each([
    ['refusal', /the model refused/, { tokensIn: 81, tokensOut: 11 }],
    ['length', /cut off at max_completion_tokens 1024 \(finish_reason length\)/, { tokensIn: 700, tokensOut: 1024 }],
    ['azure_output_filtered', /filtered by the content filter/, { tokensIn: 640, tokensOut: 12 }],
  ])('reads %s as a schema_violation with its tokens billed', async (fixture, why, usage) => {
    const e = await rejection(() => at(fixture).evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'schema_violation', retryable: true, usage });
    expect(e.message).toMatch(why);
  });

  it.each([
    ['invalid_api_key', 'unauthenticated', false, 401, undefined],
    ['rate_limit', 'rate_limited', true, 429, 150],
    ['insufficient_quota', 'unauthenticated', false, 429, undefined],
    ['context_length', 'invalid_request', false, 400, undefined],
    ['server_error', 'unavailable', true, 500, undefined],
    ['azure_content_filter', 'invalid_request', false, 400, undefined],
    ['azure_rate_limit', 'rate_limited', true, 429, 6000],
    ['ollama_not_found', 'invalid_request', false, 404, undefined],
    ['vllm_bad_request', 'invalid_request', false, 400, undefined],
  ])('maps the %s body to %s (retryable %s)', async (fixture, code, retryable, status, retryAfterMs) => {
    const e = await rejection(() => at(fixture).evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code, retryable, status, provider: 'openai-compatible' });
    expect(e.retryAfterMs).toBe(retryAfterMs);
    // The service's text is quoted (truncated), with its code first where it has one.
    const b = (FIXTURES[fixture]!.body as { error?: { message: string; code?: unknown }; message?: string });
    const text = b.error?.message ?? b.message!;
    expect(e.message).toContain(text.slice(0, 40));
    if (typeof b.error?.code === 'string' && !/^\d+$/.test(b.error.code)) expect(e.message).toContain(`${b.error.code}: `);
  });
});
