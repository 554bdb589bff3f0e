import { ApiError } from '@google/genai';
import { isAiError } from '@korean-together/core';
import { checkEvalOutput } from '@korean-together/core/provider-kit';
import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { abortWhileHanging, everythingShown } from '../../test/support/adapter-checks.js';
import { withEnv } from '../../test/support/env.js';
import { synthesizeWav } from '../emulators/audio.js';
import { AttemptScope } from '../shared/attempt-scope.js';
import { closedPort, rejection, testAttempt } from '../shared/test-context.js';
import { mapGeminiError } from './errors.js';
import { geminiEvaluator, unfenced } from './gemini-evaluator.js';

const FLASH = 'gemini-2.5-flash';
const REQ = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' as const };
// Key-shaped and free-form secrets: neither may reach an error.
const GOOGLE_KEY = `AIzaSy${'Q'.repeat(33)}`;
const ODD_KEY = 'tenant-42:very-secret-value';

const emu = useEmulators();

const evaluator = (opts: Parameters<typeof geminiEvaluator>[0] = {}) => geminiEvaluator({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions, ...opts });

describe('geminiEvaluator against the Gemini emulator', () => {
  it('returns schema-valid JSON and raw token usage, in one request', async () => {
    const res = await evaluator().evaluate(REQ, testAttempt().ctx);
    const graded = checkEvalOutput(res.output, 70);
    expect(graded.score).toBeGreaterThanOrEqual(70);
    expect(graded.passFail).toBe(true);
    expect(res.tokensIn).toBeGreaterThan(50);
    expect(res.tokensOut).toBeGreaterThan(0);
    expect(emu.hits.count('gemini', FLASH)).toBe(1);
  });

  it('grades the target speech level from the system instruction and prompt', async () => {
    const res = await evaluator().evaluate({ ...REQ, learnerAnswer: '나는 학생이야.' }, testAttempt().ctx);
    const graded = checkEvalOutput(res.output, 70);
    expect(graded.primaryErrorType).toBe('formality');
    expect(graded.passFail).toBe(graded.score >= 70);
  });

  it('sends learner audio inline and bills its tokens', async () => {
    const plain = await evaluator().evaluate(REQ, testAttempt().ctx);
    const withAudio = await evaluator().evaluate({ ...REQ, audio: { data: synthesizeWav('저는 학생입니다'), mimeType: 'audio/wav' } }, testAttempt().ctx);
    checkEvalOutput(withAudio.output, 70);
    expect(withAudio.tokensIn).toBeGreaterThan(plain.tokensIn);
  });

  it('uses the model it was given and reports it as modelId', async () => {
    const pro = evaluator({ model: 'gemini-2.5-pro' });
    expect([pro.name, pro.modelId]).toEqual(['gemini', 'gemini-2.5-pro']);
    await pro.evaluate(REQ, testAttempt().ctx);
    expect(emu.hits.count('gemini', 'gemini-2.5-pro')).toBe(1);
    expect(emu.hits.count('gemini', FLASH)).toBe(0);
  });

  it.each([
    [429, 'rate_limited', true],
    [500, 'unavailable', true],
    [503, 'unavailable', true],
    [504, 'timeout', true],
    [400, 'invalid_request', false],
    [404, 'invalid_request', false],
    [401, 'unauthenticated', false],
    [403, 'unauthenticated', false],
  ])('maps HTTP %i to %s (retryable %s) after exactly one request', async (status, code, retryable) => {
    emu.faults.add({ target: 'gemini', model: FLASH, fault: { kind: 'status', status } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(isAiError(e)).toBe(true);
    expect(e).toMatchObject({ code, retryable, status, provider: 'gemini' });
    expect(e.message).toMatch(new RegExp(`^gemini: generateContent \\(${FLASH}\\) failed with HTTP ${status}`));
    expect(emu.hits.count('gemini', FLASH)).toBe(1);
  });

  it("maps Google's bad-key answer (400 INVALID_ARGUMENT, ErrorInfo API_KEY_INVALID) to unauthenticated, by its details", async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'api_key_invalid' } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, status: 400, provider: 'gemini' });
    expect(e.message).toMatch(/^gemini: generateContent \(gemini-2\.5-flash\) failed with HTTP 400 INVALID_ARGUMENT \(API_KEY_INVALID\): API key not valid/);
    expect(emu.hits.count('gemini', FLASH)).toBe(1);
  });

  it('takes retryAfterMs from RetryInfo on a 429', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
  });

  it('times out a hanging request at the attempt deadline, and the server sees it aborted', async () => {
    emu.faults.add({ target: 'gemini', model: FLASH, fault: { kind: 'hang' } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt(300).ctx));
    expect(e).toMatchObject({ code: 'timeout', retryable: true, provider: 'gemini' });
    await vi.waitFor(() => expect(emu.hits.aborted('gemini', FLASH)).toBe(1));
  });

  it('reports the engine timeout cause as timeout, a caller abort or lost hedge as cancelled', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    const timedOut = testAttempt();
    const p1 = rejection(() => evaluator().evaluate(REQ, timedOut.ctx));
    await vi.waitFor(() => expect(emu.hits.count('gemini')).toBe(1));
    timedOut.controller.abort(Object.assign(new Error('t'), { name: 'AbortError', cause: 'attempt_timeout' }));
    expect(await p1).toMatchObject({ code: 'timeout', retryable: true });

    for (const how of ['cancel', 'loseHedge'] as const) {
      expect(await abortWhileHanging(emu, 'gemini', (ctx) => evaluator().evaluate(REQ, ctx), how)).toMatchObject({ code: 'cancelled', retryable: false });
    }
    await vi.waitFor(() => expect(emu.hits.aborted('gemini')).toBe(3));
  });

  it('does not call the server when the attempt is already aborted', async () => {
    const a = testAttempt();
    a.cancel();
    expect(await rejection(() => evaluator().evaluate(REQ, a.ctx))).toMatchObject({ code: 'cancelled' });
    expect(emu.hits.count('gemini')).toBe(0);
  });

  it('turns text that is not JSON into a retryable schema_violation', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'malformed_json' } });
    const e = await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'schema_violation', retryable: true });
    expect(e.message).toMatch(/not valid JSON/);
    // the answer was generated, so its tokens are reported for the core to bill
    expect(e.usage).toEqual({ tokensIn: expect.any(Number), tokensOut: expect.any(Number) });
    expect((e.usage as { tokensIn: number }).tokensIn).toBeGreaterThan(0);
  });

  it('reads a paid answer wrapped in a ```json fence, with its tokens', async () => {
    emu.faults.add({ target: 'gemini', model: 'gemini-2.5-pro', fault: { kind: 'fenced_json' } });
    const res = await evaluator({ model: 'gemini-2.5-pro' }).evaluate(REQ, testAttempt().ctx);
    expect(checkEvalOutput(res.output, 70, 'gemini')).toMatchObject({ score: 100, passFail: true });
    expect(res.tokensOut).toBeGreaterThan(0);
    // A fenced answer cut off at the token cap is still unusable, and still billed.
    const { ctx } = testAttempt();
    const e = await rejection(() => evaluator({ model: 'gemini-2.5-pro' }).evaluate(REQ, { ...ctx, maxOutputTokens: 40 }));
    expect(e).toMatchObject({ code: 'schema_violation', retryable: true, message: expect.stringMatching(/cut off at maxOutputTokens 40/) });
    expect((e.usage as { tokensOut: number }).tokensOut).toBeGreaterThan(0);
  });

  it('unwraps exactly one fenced block, and leaves anything else to fail as invalid JSON', () => {
    expect(unfenced('```json\n{"a":1}\n```')).toBe('{"a":1}');
    expect(unfenced('\n  ```\r\n{"a":1}\r\n```  \n')).toBe('{"a":1}');
    expect(unfenced('```JSON {"a":1} ```')).toBe('{"a":1}');
    expect(unfenced('{"a":1}')).toBe('{"a":1}');
    for (const text of ['Here it is: ```json\n{}\n```', '```json\n{}\n```\n```json\n{}\n```', '```python\n{}\n```', '```json\n{"a":1']) {
      expect(() => JSON.parse(unfenced(text))).toThrow(SyntaxError);
    }
  });

  it('uses the pass mark and token cap the policy puts in the attempt context', async () => {
    const { ctx } = testAttempt();
    const res = await evaluator().evaluate({ ...REQ }, { ...ctx, passMark: 95, maxOutputTokens: 300 });
    // the emulator grades against the pass mark it reads from the system instruction
    expect(checkEvalOutput(res.output, 95, 'gemini')).toBeTruthy();
  });

  it('returns schema-invalid JSON for the core to reject', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'schema_invalid' } });
    const res = await evaluator().evaluate(REQ, testAttempt().ctx);
    expect(() => checkEvalOutput(res.output, 70, 'gemini')).toThrow(expect.objectContaining({ code: 'schema_violation' }));
    expect(res.tokensOut).toBeGreaterThan(0);
  });

  it('names empty candidates and safety blocks clearly, retryable so the chain moves on', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'empty_candidates' }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({
      code: 'schema_violation',
      retryable: true,
      message: expect.stringMatching(/no candidates/),
    });
    emu.faults.add({ target: 'gemini', fault: { kind: 'safety' }, times: 1 });
    expect(await rejection(() => evaluator().evaluate(REQ, testAttempt().ctx))).toMatchObject({
      code: 'schema_violation',
      retryable: true,
      message: expect.stringMatching(/blocked by safety/),
    });
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    for (const key of [GOOGLE_KEY, ODD_KEY]) {
      emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 400, message: `API key not valid: ${key}` }, times: 1 });
      const e = await rejection(() => evaluator({ apiKey: key }).evaluate(REQ, testAttempt().ctx));
      expect(e).toMatchObject({ code: 'invalid_request' });
      expect(everythingShown(e)).not.toContain(key);
      expect(e.message).toContain('[redacted]');
    }
  });

  it('never quotes the learner answer in an error', async () => {
    const answer = '비밀스러운 학습자 대답입니다';
    emu.faults.add({ target: 'gemini', fault: { kind: 'malformed_json' } });
    const e = await rejection(() => evaluator().evaluate({ ...REQ, learnerAnswer: answer }, testAttempt().ctx));
    expect(e.message).not.toContain(answer);
  });

  it('validates the request before any network call', async () => {
    const e = await rejection(() => evaluator().evaluate({ ...REQ, prompt: '' }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(emu.hits.count('gemini')).toBe(0);
  });

  it("refuses inline audio over the client's 10 MB limit before any network call", async () => {
    const audio = { data: new Uint8Array(11 * 1024 * 1024), mimeType: 'audio/wav' };
    const e = await rejection(() => evaluator().evaluate({ ...REQ, audio }, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'invalid_request', retryable: false, provider: 'gemini', message: expect.stringContaining('audio.data:') });
    expect(emu.hits.count('gemini')).toBe(0);
  });

  it('refuses client retries and a missing key at creation', () => {
    expect(() => evaluator({ httpOptions: { ...emu.gemini.httpOptions, retryOptions: { attempts: 3 } } })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    withEnv({ GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined }, () => {
      expect(() => geminiEvaluator({ httpOptions: emu.gemini.httpOptions })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    });
  });

  it('maps connection failures to unavailable', async () => {
    const dead = geminiEvaluator({ apiKey: 'emulator', httpOptions: { baseUrl: `http://127.0.0.1:${await closedPort()}`, apiVersion: 'v1beta' } });
    const e = await rejection(() => dead.evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unavailable', retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});

describe('mapGeminiError', () => {
  it('falls back to the Retry-After header when the body has no RetryInfo', () => {
    const a = testAttempt();
    const scope = new AttemptScope(a.ctx);
    const err = new ApiError({ status: 429, message: JSON.stringify({ error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } }) });
    const e = mapGeminiError(err, { provider: 'gemini', model: FLASH, scope, secrets: [], retryAfterHeader: '2' });
    expect(e).toMatchObject({ code: 'rate_limited', retryAfterMs: 2000, status: 429 });
    scope.dispose();
  });
});
