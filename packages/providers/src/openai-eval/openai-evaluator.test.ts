import { isAiError } from '@korean-together/core';
import { checkEvalOutput, evalOutputJsonSchema } from '@korean-together/core/provider-kit';
import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging, everythingShown } from '../../test/support/adapter-checks.js';
import { withEnv } from '../../test/support/env.js';
import { strictSchemaProblem } from '../emulators/openai-chat-server.js';
import { synthesizeWav } from '../emulators/audio.js';
import { closedPort, rejection, testAttempt } from '../shared/test-context.js';
import { openaiEvaluator } from './openai-evaluator.js';
import { dropNullOptionals, toStrictSchema } from './strict-schema.js';

const MODEL = 'gpt-4.1-mini';
const REQ = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' as const };
const OPENAI_KEY = `sk-proj-${'a1B2'.repeat(10)}`;
const ODD_KEY = 'tenant-42:very-secret-value';

const emu = useEmulators();

const evaluator = (opts: Parameters<typeof openaiEvaluator>[0] = {}) => openaiEvaluator({ baseUrl: emu.openai.baseUrl, apiKey: 'emulator', ...opts });

describe('openaiEvaluator against the Chat Completions emulator', () => {
  it('returns a schema-valid grade from strict structured output, with its billed tokens, in one request', async () => {
    const p = evaluator();
    expect([p.name, p.modelId]).toEqual(['openai-compatible', MODEL]);
    const res = await p.evaluate(REQ, testAttempt().ctx);
    // The emulator answers as a strict model does (span: null, correction: null); the adapter
    // drops those nulls so the core's schema accepts the grade.
    const graded = checkEvalOutput(res.output, 70, 'openai');
    expect(graded).toMatchObject({ score: 100, passFail: true, primaryErrorType: null });
    expect(res.tokensIn).toBeGreaterThan(50);
    expect(res.tokensOut).toBeGreaterThan(0);
    expect(res).not.toHaveProperty('cachedTokensIn');
    expect(emu.hits.count('openai', MODEL)).toBe(1);
  });

  it('grades the requested speech level, and keeps corrections it wrote', async () => {
    const res = await evaluator().evaluate({ ...REQ, learnerAnswer: '나는 학생이야.' }, testAttempt().ctx);
    const graded = checkEvalOutput(res.output, 70, 'openai');
    expect(graded.primaryErrorType).toBe('formality');
    expect(graded.passFail).toBe(false);
    expect(graded.errors[0]).toMatchObject({ type: 'formality', span: '학생이야', correction: expect.any(String) });
  });

  it('sends a schema strict mode accepts; the core schema as it is would be refused', async () => {
    expect(strictSchemaProblem(toStrictSchema(evalOutputJsonSchema))).toBeUndefined();
    expect(strictSchemaProblem(evalOutputJsonSchema)).toMatch(/'maxLength' is not permitted|'required' is required/);
    // strict: false sends the core schema unchanged, which only a non-strict server takes.
    const loose = await evaluator({ strict: false }).evaluate(REQ, testAttempt().ctx);
    expect(checkEvalOutput(loose.output, 70).score).toBe(100);
  });

  it('bills cached prompt tokens apart when a long prompt repeats its prefix', async () => {
    // A long task text makes the prompt pass 1,024 tokens; the second call shares the prefix.
    const longTask = `${'다음 글을 읽고 질문에 답하세요. '.repeat(90)}자기소개를 하세요.`;
    const first = await evaluator().evaluate({ ...REQ, prompt: longTask }, testAttempt().ctx);
    expect(first.tokensIn).toBeGreaterThan(1024);
    expect(first).not.toHaveProperty('cachedTokensIn');
    const second = await evaluator().evaluate({ ...REQ, prompt: longTask, learnerAnswer: '저는 학생이에요.' }, testAttempt().ctx);
    expect(second.cachedTokensIn).toBeGreaterThanOrEqual(1024);
    expect(second.cachedTokensIn! % 128).toBe(0);
    expect(second.cachedTokensIn).toBeLessThanOrEqual(second.tokensIn);
  });

  it('bills reasoning tokens as output on reasoning models', async () => {
    const plain = await evaluator().evaluate(REQ, testAttempt().ctx);
    const reasoning = await evaluator({ model: 'o4-mini', reasoningEffort: 'low' }).evaluate(REQ, testAttempt().ctx);
    expect(reasoning.tokensOut).toBeGreaterThan(plain.tokensOut + 60);
  });

  it('uses the pass mark and token cap of the attempt context', async () => {
    const { ctx } = testAttempt();
    const res = await evaluator().evaluate({ ...REQ, learnerAnswer: '저는 학생이에요.' }, { ...ctx, passMark: 50, maxOutputTokens: 600 });
    // 합쇼체 asked, 해요체 given: 65 points, a pass at 50 (a fail at the default 70).
    expect(checkEvalOutput(res.output, 50, 'openai')).toMatchObject({ score: 65, passFail: true });
  });

  it('reads a refusal as a billed, retryable schema_violation that does not quote it', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'refusal' } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'schema_violation', retryable: true, provider: 'openai-compatible' });
    expect(e.message).toMatch(/the model refused \(\d+ characters\)/);
    expect(e.message).not.toContain("I'm sorry");
    expect((e.usage as { tokensIn: number; tokensOut: number }).tokensIn).toBeGreaterThan(0);
    expect((e.usage as { tokensOut: number }).tokensOut).toBeGreaterThan(0);
  });

  it('reads finish_reason length (cut-off JSON) as a billed schema_violation naming the cap', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'max_tokens' }, times: 1 });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'schema_violation', retryable: true, message: expect.stringMatching(/cut off at max_completion_tokens 1024 \(finish_reason length\)/) });
    expect((e.usage as { tokensOut: number }).tokensOut).toBeGreaterThan(0);
    // A real cap: a tiny max_tokens cuts the answer the same way.
    const tiny = await rejection(() => evaluator({ maxOutputTokens: 20, maxTokensField: 'max_tokens' }).evaluate(REQ, testAttempt().ctx));
    expect(tiny.message).toMatch(/cut off at max_tokens 20/);
  });

  it('turns text that is not JSON into a billed schema_violation, and leaves schema breaks to the core', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'malformed_json' }, times: 1 });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'schema_violation', message: expect.stringMatching(/not valid JSON/) });
    emu.faults.add({ target: 'openai', fault: { kind: 'schema_invalid' }, times: 1 });
    const res = await evaluator().evaluate(REQ, testAttempt().ctx);
    expect(() => checkEvalOutput(res.output, 70, 'openai')).toThrow(expect.objectContaining({ code: 'schema_violation' }));
  });

  it.each([
    [429, 'rate_limited', true],
    [500, 'unavailable', true],
    [502, 'unavailable', true],
    [503, 'unavailable', true],
    [400, 'invalid_request', false],
    [404, 'invalid_request', false],
    [401, 'unauthenticated', false],
    [403, 'unauthenticated', false],
  ])('maps HTTP %i to %s (retryable %s) after exactly one request: the client does not retry', async (status, code, retryable) => {
    emu.faults.add({ target: 'openai', model: MODEL, fault: { kind: 'status', status } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(isAiError(e)).toBe(true);
    expect(e).toMatchObject({ code, retryable, status, provider: 'openai-compatible' });
    expect(e.message).toMatch(new RegExp(`^openai-compatible: chat completion \\(${MODEL}\\) failed with HTTP ${status}`));
    expect(emu.hits.count('openai', MODEL)).toBe(1);
  });

  it('takes retryAfterMs from retry-after-ms before Retry-After, and from Retry-After alone', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'status', status: 429, retryAfterMs: 250, retryAfterSeconds: 9 }, times: 1 });
    const both = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(both).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 250, message: expect.stringContaining('rate_limit_exceeded: Rate limit reached') });
    emu.faults.add({ target: 'openai', fault: { kind: 'status', status: 429, retryAfterSeconds: 2 }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'rate_limited', retryAfterMs: 2000 });
  });

  it('maps 429 insufficient_quota to unauthenticated, not retryable, like the other OpenAI adapters', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'insufficient_quota' } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 429 });
    expect(e.message).toContain('insufficient_quota: You exceeded your current quota');
    expect(e.retryAfterMs).toBeUndefined();
  });

  it('maps 401 invalid_api_key, 400 context_length_exceeded and 400 content_filter by their codes', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'api_key_invalid' }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'unauthenticated', retryable: false, status: 401, message: expect.stringContaining('invalid_api_key') });
    emu.faults.add({ target: 'openai', fault: { kind: 'context_length_exceeded' }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({
      code: 'invalid_request',
      retryable: false,
      status: 400,
      message: expect.stringContaining("context_length_exceeded: This model's maximum context length"),
    });
    emu.faults.add({ target: 'openai', fault: { kind: 'content_filter' }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'invalid_request', retryable: false, status: 400, message: expect.stringContaining('content_filter: The response was filtered') });
  });

  it('times out a hanging request at the attempt deadline, and the server sees it aborted', async () => {
    emu.faults.add({ target: 'openai', fault: { kind: 'hang' } });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt(300).ctx))).toMatchObject({ code: 'timeout', retryable: true });
    await vi.waitFor(() => expect(emu.hits.aborted('openai')).toBe(1));
  });

  it('cancels on caller abort and on a lost hedge, and sends nothing when already aborted', async () => {
    for (const how of ['cancel', 'loseHedge'] as const) {
      expect(await abortWhileHanging(emu, 'openai', (ctx) => evaluator().evaluate(REQ, ctx), how)).toMatchObject({ code: 'cancelled', retryable: false });
    }
    await vi.waitFor(() => expect(emu.hits.aborted('openai')).toBe(2));
    const done = testAttempt();
    done.cancel();
    expect(await rejection(() => evaluator().evaluate(REQ, done.ctx))).toMatchObject({ code: 'cancelled' });
    expect(emu.hits.count('openai')).toBe(2);
  });

  it('maps a refused connection to unavailable, naming the network code', async () => {
    const dead = openaiEvaluator({ baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: 'x' });
    const e = await rejection(() => dead.evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    for (const key of [OPENAI_KEY, ODD_KEY]) {
      emu.faults.add({ target: 'openai', fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${key}` }, times: 1 });
      const e = await rejection(() => evaluator({ apiKey: key }).evaluate(REQ, testAttempt().ctx));
      expect(e).toMatchObject({ code: 'unauthenticated' });
      expect(everythingShown(e)).not.toContain(key);
    }
  });

  it('never quotes the learner answer in an error', async () => {
    const answer = '비밀스러운 학습자 대답입니다';
    for (const kind of ['malformed_json', 'max_tokens', 'refusal'] as const) {
      emu.faults.add({ target: 'openai', fault: { kind }, times: 1 });
      const e = await rejection(() => evaluator().evaluate({ ...REQ, learnerAnswer: answer }, testAttempt().ctx));
      expect(e.message).not.toContain(answer);
    }
  });

  it('grades the written answer when audio is attached (no audio is sent)', async () => {
    const res = await evaluator().evaluate({ ...REQ, audio: { data: synthesizeWav('저는 학생입니다'), mimeType: 'audio/wav' } }, testAttempt().ctx);
    expect(checkEvalOutput(res.output, 70).score).toBe(100);
  });

  it('validates the request before any network call, and its options at creation', async () => {
    expect(await rejection(() => evaluator().evaluate({ ...REQ, prompt: '' }, testAttempt().ctx))).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(emu.hits.count('openai')).toBe(0);
    expect(() => openaiEvaluator({ baseUrl: 'not a url' })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('baseUrl') }));
    expect(() => openaiEvaluator({ passMark: 101 })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('passMark') }));
    expect(() => openaiEvaluator({ maxTokensField: 'tokens' as never })).toThrow(expect.objectContaining({ message: expect.stringContaining('maxTokensField') }));
    expect(() => openaiEvaluator({ azure: { endpoint: emu.openai.baseUrl, deployment: 'd', apiVersion: '' , apiKey: 'k' } })).toThrow(expect.objectContaining({ message: expect.stringContaining('azure.apiVersion') }));
  });

  it('sends OPENAI_API_KEY from the environment only to api.openai.com, and no Authorization header without a key', async () => {
    // A key the emulator would answer 401 to, were it sent.
    await withEnv({ OPENAI_API_KEY: 'not a valid bearer' }, async () => {
      const p = openaiEvaluator({ baseUrl: `${emu.openai.baseUrl}/v1` });
      expect(checkEvalOutput((await p.evaluate(REQ, testAttempt().ctx)).output, 70).score).toBe(100);
      expect(openaiEvaluator().name).toBe('openai');
      // An Authorization header the host app sets itself is sent (the emulator refuses this malformed one).
      const gateway = openaiEvaluator({ baseUrl: emu.openai.baseUrl, headers: { Authorization: 'Basic not-a-bearer' } });
      expect(await rejection(() => gateway.evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'unauthenticated', status: 401 });
    });
  });
});

describe('openaiEvaluator on Azure OpenAI (deployment URL, api-key, api-version)', () => {
  const azure = (over: Partial<NonNullable<Parameters<typeof openaiEvaluator>[0]>['azure']> = {}) =>
    openaiEvaluator({ model: 'gpt-4o-mini', azure: { endpoint: emu.openai.baseUrl, deployment: 'tutor-grader', apiVersion: '2024-10-21', apiKey: 'azure-key-1234567890', ...over } });

  it('posts to the deployment and prices the model it runs', async () => {
    const p = azure();
    expect([p.name, p.modelId]).toEqual(['azure-openai', 'gpt-4o-mini']);
    const res = await p.evaluate(REQ, testAttempt().ctx);
    expect(checkEvalOutput(res.output, 70).score).toBe(100);
    expect(emu.hits.count('openai', 'tutor-grader')).toBe(1);
  });

  it("reads Azure's own error shape ({ error: { code: '429', message } }) and its retry-after", async () => {
    emu.faults.add({ target: 'openai', model: 'tutor-grader', fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
    const e = await rejection(() => azure().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 1000, provider: 'azure-openai' });
    expect(e.message).toContain('exceeded token rate limit');
  });

  it('maps the content filter 400 to invalid_request, and a missing key at creation to invalid_config', async () => {
    emu.faults.add({ target: 'openai', model: 'tutor-grader', fault: { kind: 'content_filter' } });
    expect(await rejection(() => azure().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'invalid_request', status: 400, message: expect.stringContaining('content_filter') });
    withEnv({ AZURE_OPENAI_API_KEY: undefined }, () => {
      expect(() => azure({ apiKey: undefined })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('AZURE_OPENAI_API_KEY') }));
    });
  });

  it('authenticates with a Microsoft Entra token provider instead of a key', async () => {
    const tokens: string[] = [];
    const p = azure({ apiKey: undefined, azureADTokenProvider: async () => (tokens.push('t'), 'entra-token') });
    expect(checkEvalOutput((await p.evaluate(REQ, testAttempt().ctx)).output, 70).score).toBe(100);
    expect(tokens).toHaveLength(1);
  });
});

describe('toStrictSchema / dropNullOptionals', () => {
  it('requires every property, forbids extras, makes optional ones nullable and keeps lengths in words', () => {
    const s = toStrictSchema(evalOutputJsonSchema) as { $schema?: unknown; properties: Record<string, { items?: { properties: Record<string, unknown>; required: string[] } }> };
    expect(s.$schema).toBeUndefined();
    const item = s.properties.errors!.items!;
    expect(item.required).toEqual(['type', 'message', 'span', 'correction']);
    expect(item.properties.span).toEqual({ type: ['string', 'null'], description: '(at most 200 characters)' });
    expect(JSON.stringify(s)).not.toContain('maxLength');
  });

  it('drops the nulls strict mode wrote for optional properties only', () => {
    const answer = { score: 80, passFail: true, primaryErrorType: null, errors: [{ type: 'grammar', message: 'm', span: null, correction: '고침' }], suggestions: [], rationale: 'r' };
    expect(dropNullOptionals(answer, evalOutputJsonSchema)).toEqual({ ...answer, errors: [{ type: 'grammar', message: 'm', correction: '고침' }] });
    // A null where the schema requires a value stays, for the core to refuse.
    expect(dropNullOptionals({ ...answer, rationale: null }, evalOutputJsonSchema)).toMatchObject({ rationale: null });
  });
});
