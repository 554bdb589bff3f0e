import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EvalRequest } from '@korean-together/core';
import { checkEvalOutput, evalOutputJsonSchema, evalSystemInstruction, evalUserPrompt } from '@korean-together/core/provider-kit';
import { speechDurationMs, synthesizeWav } from './audio.js';
import { FaultScript, HitCounter } from './faults.js';
import { GeminiEmulator, estimateTokens } from './gemini-server.js';

const faults = new FaultScript(1);
const hits = new HitCounter();
const emulator = new GeminiEmulator(faults, hits);
let baseUrl = '';
let ai: GoogleGenAI;

beforeAll(async () => {
  const port = await emulator.listen('127.0.0.1', 0);
  baseUrl = `http://127.0.0.1:${port}`;
  ai = new GoogleGenAI({ apiKey: 'emulator-key', httpOptions: { baseUrl, apiVersion: 'v1beta' } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  faults.clear();
  hits.reset();
});

const PASS_MARK = 70;
const student: EvalRequest = { prompt: 'Say that you are a student.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo', learnerAnswer: '저는 학생입니다.' };

function evaluate(req: EvalRequest, opts: { model?: string; client?: GoogleGenAI; abortSignal?: AbortSignal; audio?: Uint8Array; maxOutputTokens?: number } = {}) {
  const parts: ({ text: string } | { inlineData: { mimeType: string; data: string } })[] = [{ text: evalUserPrompt(req) }];
  if (opts.audio) parts.push({ inlineData: { mimeType: 'audio/wav', data: Buffer.from(opts.audio).toString('base64') } });
  return (opts.client ?? ai).models.generateContent({
    model: opts.model ?? 'gemini-2.5-flash',
    contents: [{ role: 'user', parts }],
    config: {
      systemInstruction: evalSystemInstruction(PASS_MARK),
      responseMimeType: 'application/json',
      responseJsonSchema: evalOutputJsonSchema,
      temperature: 0,
      ...(opts.abortSignal && { abortSignal: opts.abortSignal }),
      ...(opts.maxOutputTokens && { maxOutputTokens: opts.maxOutputTokens }),
    },
  });
}

function parsed(res: GenerateContentResponse) {
  return checkEvalOutput(JSON.parse(res.text ?? ''), PASS_MARK, 'gemini');
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('Gemini emulator with the real @google/genai client', () => {
  it('grades a correct answer 100 with realistic usage metadata', async () => {
    const res = await evaluate(student);
    expect(parsed(res)).toMatchObject({ score: 100, passFail: true, primaryErrorType: null });
    expect(res.modelVersion).toBe('gemini-2.5-flash');
    expect(res.responseId).toMatch(/^[\w-]{22}$/);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    const u = res.usageMetadata!;
    // The response schema is billed as prompt tokens too.
    const promptChars = evalSystemInstruction(PASS_MARK).length + evalUserPrompt(student).length + JSON.stringify(evalOutputJsonSchema).length;
    expect(u.promptTokenCount).toBeGreaterThan(promptChars / 5);
    expect(u.promptTokenCount).toBeLessThan(promptChars / 2.5);
    expect(u.candidatesTokenCount).toBe(estimateTokens(res.text!));
    expect(u.thoughtsTokenCount ?? 0).toBe(0);
    expect(u.totalTokenCount).toBe(u.promptTokenCount! + u.candidatesTokenCount!);
    expect(hits.count('gemini')).toBe(1);
    expect(hits.count('gemini', 'gemini-2.5-flash')).toBe(1);
  });

  it('marks a wrong speech level as formality and a particle mistake as grammar', async () => {
    const formality = parsed(await evaluate({ ...student, learnerAnswer: '저는 학생이에요.' }));
    expect(formality).toMatchObject({ primaryErrorType: 'formality', passFail: false });
    const grammar = parsed(await evaluate({ prompt: 'Say you eat an apple.', expectedAnswer: '저는 사과를 먹어요.', targetFormality: 'haeyo', learnerAnswer: '저는 사과을 먹어요.' }));
    expect(grammar).toMatchObject({ primaryErrorType: 'grammar', passFail: true });
    expect(grammar.errors[0]).toMatchObject({ span: '사과을', correction: '사과를' });
  });

  it('bills thinking tokens for pro models and answers on v1 as well as v1beta', async () => {
    const v1 = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl, apiVersion: 'v1' } });
    const res = await evaluate(student, { model: 'gemini-2.5-pro', client: v1 });
    const u = res.usageMetadata!;
    expect(u.thoughtsTokenCount).toBe(100 + 2 * u.candidatesTokenCount!);
    expect(u.totalTokenCount).toBe(u.promptTokenCount! + u.candidatesTokenCount! + u.thoughtsTokenCount!);
  });

  it('counts attached audio as 32 tokens a second and checks what it says', async () => {
    const plain = await evaluate(student);
    const audio = synthesizeWav('저는 학생입니다.', { sampleRateHertz: 16_000 });
    const withAudio = await evaluate(student, { audio });
    const seconds = speechDurationMs('저는 학생입니다.') / 1000; // 1.63 s: 7 syllables, a space, a sentence pause, the edges
    expect(withAudio.usageMetadata!.promptTokenCount! - plain.usageMetadata!.promptTokenCount!).toBe(Math.ceil(seconds * 32));
    expect(parsed(withAudio).score).toBe(100);
    const mumbled = await evaluate(student, { audio: synthesizeWav('저는 선생님입니다.') });
    expect(parsed(mumbled).primaryErrorType).toBe('pronunciation');
  });

  it('streams the same JSON over SSE', async () => {
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: evalUserPrompt({ ...student, learnerAnswer: '저는 학생이에요.' }),
      config: { systemInstruction: evalSystemInstruction(PASS_MARK), responseMimeType: 'application/json' },
    });
    let text = '';
    let last: GenerateContentResponse | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      last = chunk;
      chunks++;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(checkEvalOutput(JSON.parse(text), PASS_MARK).primaryErrorType).toBe('formality');
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(estimateTokens(text));
  });

  it('wraps the JSON in a markdown fence when JSON output was not requested, and cuts at maxOutputTokens', async () => {
    const res = await ai.models.generateContent({ model: 'gemini-2.5-flash-lite', contents: evalUserPrompt(student) });
    expect(res.text).toMatch(/^```json\n\{[\s\S]*\}\n```$/);
    const cut = await evaluate(student, { maxOutputTokens: 20 });
    expect(cut.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(cut.usageMetadata!.candidatesTokenCount).toBeLessThanOrEqual(20);
    expect(() => JSON.parse(cut.text!)).toThrow();
  });

  it('refuses a schema without the JSON mime type, an unknown model and a missing API key like Google', async () => {
    const noMime = await apiError(ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x', config: { responseJsonSchema: evalOutputJsonSchema } }));
    expect(noMime.status).toBe(400);
    expect(JSON.parse(noMime.message).error.status).toBe('INVALID_ARGUMENT');
    const unknown = await apiError(ai.models.generateContent({ model: 'gpt-4o', contents: 'x' }));
    expect(unknown.status).toBe(404);
    const res = await fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(403);
    expect((await res.json()) as unknown).toEqual({ error: { code: 403, message: expect.stringContaining('API Key'), status: 'PERMISSION_DENIED' } });
  });

  it('streams as a JSON array without alt=sse, and takes the key from ?key=', async () => {
    const res = await fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=k`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: evalUserPrompt(student) }] }], generationConfig: { responseMimeType: 'application/json' } }),
    });
    expect(res.status).toBe(200);
    const chunks = (await res.json()) as { candidates: { content: { parts: { text: string }[] }; finishReason?: string }[] }[];
    expect(chunks.length).toBeGreaterThan(1);
    expect(JSON.parse(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''))).toMatchObject({ score: 100 });
    expect(chunks.at(-1)!.candidates[0]!.finishReason).toBe('STOP');
  });

  it('answers 413 to a body over 20 MB', async () => {
    const res = await fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k' },
      body: JSON.stringify({ contents: [{ parts: [{ inlineData: { mimeType: 'audio/wav', data: 'A'.repeat(21 * 1024 * 1024) } }] }] }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('exceeds the limit');
  });

  it('answers GET /health', async () => {
    const res = await fetch(`${baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(hits.count('gemini')).toBe(0);
  });
});

describe('Gemini emulator faults, seen by the real client', () => {
  it('returns a scripted 429 with RetryInfo and Retry-After, once, with no hidden client retry', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'status', status: 429, retryAfterSeconds: 2 }, times: 1 });
    const err = await apiError(evaluate(student));
    expect(err.status).toBe(429);
    expect(JSON.parse(err.message)).toEqual({
      error: {
        code: 429,
        message: expect.any(String),
        status: 'RESOURCE_EXHAUSTED',
        details: [
          expect.objectContaining({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [expect.objectContaining({ quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' } })] }),
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' },
        ],
      },
    });
    expect(hits.count('gemini')).toBe(1);
    const raw = await fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': 'k' }, body: '{}' });
    expect(raw.status).toBe(400); // the rule retired after one use
    faults.add({ target: 'gemini', fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const again = await fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': 'k' }, body: '{}' });
    expect(again.headers.get('retry-after')).toBe('3');
  });

  it('answers a bad API key like Google: 400 INVALID_ARGUMENT with an ErrorInfo API_KEY_INVALID detail', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'api_key_invalid' }, times: 1 });
    const err = await apiError(evaluate(student));
    expect(err.status).toBe(400);
    expect(JSON.parse(err.message)).toEqual({
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
        ],
      },
    });
    expect(hits.count('gemini')).toBe(1);
  });

  it('fences the JSON answer even in JSON mode with the fenced_json fault', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'fenced_json' }, times: 1 });
    const text = (await evaluate(student)).text ?? '';
    expect(text).toMatch(/^```json\n\{[\s\S]*\}\n```$/);
    expect(checkEvalOutput(JSON.parse(text.slice(8, -4)), PASS_MARK, 'gemini').score).toBe(100);
    expect((await evaluate(student)).text).toMatch(/^\{/);
  });

  it('maps a gRPC code in a status fault to its HTTP status, per model', async () => {
    faults.add({ target: 'gemini', model: 'gemini-2.5-pro', fault: { kind: 'status', status: 14 } });
    expect((await apiError(evaluate(student, { model: 'gemini-2.5-pro' }))).status).toBe(503);
    expect(parsed(await evaluate(student)).score).toBe(100);
  });

  it('sends malformed JSON, schema-invalid JSON, empty candidates and SAFETY', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'malformed_json' }, times: 1 });
    faults.add({ target: 'gemini', fault: { kind: 'schema_invalid' }, times: 1 });
    faults.add({ target: 'gemini', fault: { kind: 'empty_candidates' }, times: 1 });
    faults.add({ target: 'gemini', fault: { kind: 'safety' }, times: 1 });
    const malformed = await evaluate(student);
    expect(() => JSON.parse(malformed.text!)).toThrow(SyntaxError);
    const invalid = await evaluate(student);
    expect(() => parsed(invalid)).toThrow(expect.objectContaining({ code: 'schema_violation' }));
    const empty = await evaluate(student);
    expect(empty.candidates ?? []).toEqual([]);
    expect(empty.text).toBeUndefined();
    expect(empty.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    const safety = await evaluate(student);
    expect(safety.candidates?.[0]?.finishReason).toBe('SAFETY');
    expect(safety.text).toBeUndefined();
    expect(parsed(await evaluate(student)).score).toBe(100);
  });

  it('hangs until the client aborts, and counts the abort', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    const ctl = new AbortController();
    const pending = evaluate(student, { abortSignal: ctl.signal });
    await vi.waitFor(() => expect(hits.count('gemini')).toBe(1));
    ctl.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(hits.aborted('gemini', 'gemini-2.5-flash')).toBe(1));
  });

  it('delays, and a client timeout during the delay counts as aborted', async () => {
    faults.add({ target: 'gemini', fault: { kind: 'delay', ms: 60_000 } });
    const impatient = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl, apiVersion: 'v1beta', timeout: 200 } });
    await expect(evaluate(student, { client: impatient })).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(hits.aborted('gemini')).toBe(1));
    faults.clear();
    faults.add({ target: 'gemini', fault: { kind: 'delay', ms: 1 } });
    expect(parsed(await evaluate(student)).score).toBe(100);
  });

  it('draws probabilistic faults from the seed: the same seed gives the same sequence', async () => {
    const run = async (seed: number) => {
      const f = new FaultScript(seed);
      const em = new GeminiEmulator(f, new HitCounter());
      const port = await em.listen('127.0.0.1', 0);
      const client = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: `http://127.0.0.1:${port}`, apiVersion: 'v1beta' } });
      f.add({ target: 'gemini', fault: { kind: 'status', status: 503 }, probability: 0.5 });
      let outcomes = '';
      for (let i = 0; i < 16; i++) outcomes += await evaluate(student, { client }).then(() => '.', () => 'x');
      await em.close();
      return outcomes;
    };
    const a = await run(99);
    expect(a).toMatch(/x/);
    expect(a).toMatch(/\./);
    expect(await run(99)).toBe(a);
  });
});
