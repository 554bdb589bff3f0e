import { checkEvalOutput, evalSystemInstruction, evalUserPrompt } from '@korean-together/core/provider-kit';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { strictSchemaProblem } from './openai-chat-server.js';

const emu = useEmulators();

const REQ = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생이야.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' as const };
const messages = [
  { role: 'system', content: evalSystemInstruction(70) },
  { role: 'user', content: evalUserPrompt(REQ) },
];

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.openai.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

describe('the Chat Completions emulator', () => {
  it('grades with the Korean rules and answers in the chat.completion shape', async () => {
    const r = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', refusal: null } }] });
    expect(r.json.id).toMatch(/^chatcmpl-/);
    const u = r.json.usage;
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(checkEvalOutput(JSON.parse(r.json.choices[0].message.content), 70)).toMatchObject({ primaryErrorType: 'formality', passFail: false });
    expect(emu.hits.count('openai', 'gpt-4o-mini')).toBe(1);
  });

  it('refuses a strict schema that breaks strict mode, naming where', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string', maxLength: 3 } }, required: ['a'], additionalProperties: false };
    const r = await post('/v1/chat/completions', { model: 'gpt-4.1-mini', messages, response_format: { type: 'json_schema', json_schema: { name: 'g', schema, strict: true } } });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', param: 'response_format', message: "Invalid schema for response_format 'g': In context=('properties', 'a'), 'maxLength' is not permitted." });
    expect(strictSchemaProblem({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })).toMatch(/Missing 'a'/);
    expect(strictSchemaProblem({ type: 'object', properties: {} })).toMatch(/'additionalProperties' is required/);
  });

  it('serves Azure deployment URLs: api-key or bearer required, api-version required, Azure error shapes', async () => {
    const path = '/openai/deployments/grader/chat/completions';
    expect((await post(`${path}?api-version=2024-10-21`, { messages })).json.error).toEqual({ code: '401', message: expect.stringContaining('Access denied due to invalid subscription key') });
    expect((await post(path, { messages }, { 'api-key': 'k' })).status).toBe(404);
    const ok = await post(`${path}?api-version=2024-10-21`, { messages }, { 'api-key': 'k' });
    expect(ok.status).toBe(200);
    expect(ok.json.prompt_filter_results[0].content_filter_results.violence).toEqual({ filtered: false, severity: 'safe' });
    emu.faults.add({ target: 'openai', model: 'grader', fault: { kind: 'status', status: 429, retryAfterSeconds: 2 } });
    const limited = await post(`${path}?api-version=2024-10-21`, { messages }, { 'api-key': 'k' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.json.error.code).toBe('429');
  });

  it('reports a repeated long prefix as cached tokens, in 128-token steps from 1,024', async () => {
    const long = [{ role: 'system', content: `${'가'.repeat(1500)}` }, { role: 'user', content: evalUserPrompt(REQ) }];
    const first = await post('/v1/chat/completions', { model: 'gpt-4.1-nano', messages: long });
    expect(first.json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const second = await post('/v1/chat/completions', { model: 'gpt-4.1-nano', messages: [long[0], { role: 'user', content: evalUserPrompt({ ...REQ, learnerAnswer: '다른 대답' }) }] });
    expect(second.json.usage.prompt_tokens_details.cached_tokens).toBe(1024 + 4 * 128);
    // Another model has its own cache.
    expect((await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: long })).json.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it('cuts the answer at max_completion_tokens with finish_reason length, and bills reasoning on o-series', async () => {
    const cut = await post('/v1/chat/completions', { model: 'gpt-4.1-mini', messages, max_completion_tokens: 30 });
    expect(cut.json.choices[0].finish_reason).toBe('length');
    expect(() => JSON.parse(cut.json.choices[0].message.content)).toThrow();
    expect(cut.json.usage.completion_tokens).toBeLessThanOrEqual(30);
    const o = await post('/v1/chat/completions', { model: 'o4-mini', messages });
    expect(o.json.usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(64);
  });

  it('refuses malformed requests the way OpenAI does', async () => {
    expect((await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] })).json.error).toMatchObject({ param: 'messages', code: 'empty_array' });
    expect((await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'wizard', content: 'x' }] })).json.error).toMatchObject({ param: 'messages[0].role' });
    expect((await post('/v1/chat/completions', { messages })).json.error).toMatchObject({ param: 'model' });
    expect((await post('/v1/chat/completions', { model: 'm', messages }, { authorization: 'Basic abc' })).status).toBe(401);
    expect((await fetch(`${emu.openai.baseUrl}/health`)).status).toBe(200);
  });
});
