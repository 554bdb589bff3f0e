// Gemini on Vertex AI: @google/genai in Vertex mode, authenticated by a google-auth-library
// client injected through googleAuthOptions (an OAuth2Client holding a fixed access token), so
// no Google credentials, metadata server or network are needed.
import http from 'node:http';
import { checkEvalOutput } from '@korean-together/core/provider-kit';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { withEnv } from '../../test/support/env.js';
import { staticTokenClient } from '../../test/support/vertex-auth.js';
import { rejection, testAttempt } from '../shared/test-context.js';
import { geminiEvaluator } from './gemini-evaluator.js';

const FLASH = 'gemini-2.5-flash';
const REQ = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' as const };

const emu = useEmulators();

const vertex = (opts: Parameters<typeof geminiEvaluator>[0] = {}) =>
  geminiEvaluator({
    vertex: { project: emu.vertex.project, location: emu.vertex.location, googleAuthOptions: { authClient: staticTokenClient() } },
    httpOptions: emu.vertex.httpOptions,
    ...opts,
  });

describe('geminiEvaluator({ vertex }) against the Vertex AI paths of the emulator', () => {
  it('grades through projects/P/locations/L/publishers/google/models/M, as its own provider and target', async () => {
    const p = vertex();
    expect([p.name, p.modelId]).toEqual(['gemini-vertex', FLASH]);
    const res = await p.evaluate(REQ, testAttempt().ctx);
    expect(checkEvalOutput(res.output, 70, 'gemini-vertex')).toMatchObject({ score: 100, passFail: true });
    expect(res.tokensIn).toBeGreaterThan(50);
    expect(res.tokensOut).toBeGreaterThan(0);
    expect(emu.hits.count('gemini-vertex', FLASH)).toBe(1);
    expect(emu.hits.count('gemini')).toBe(0);
  });

  it('needs the bearer token: the same path without one is refused with CREDENTIALS_MISSING', async () => {
    const url = `${emu.vertex.baseUrl}/v1beta1/projects/${emu.vertex.project}/locations/${emu.vertex.location}/publishers/google/models/${FLASH}:generateContent`;
    const res = await fetch(url, { method: 'POST', headers: { 'x-goog-api-key': 'a key is not enough' }, body: '{}' });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { status: string; details: { reason: string }[] } };
    expect(body.error.status).toBe('UNAUTHENTICATED');
    expect(body.error.details[0]!.reason).toBe('CREDENTIALS_MISSING');
  });

  it('maps missing credentials to unauthenticated without sending anything', async () => {
    // The real OAuth2Client with no token and no refresh token: google-auth-library throws.
    const p = geminiEvaluator({ vertex: { project: emu.vertex.project, location: 'us-central1', googleAuthOptions: { authClient: new OAuth2Client() } }, httpOptions: emu.vertex.httpOptions });
    const e = await rejection(() => p.evaluate(REQ, testAttempt().ctx));
    expect(e).toMatchObject({ code: 'unauthenticated', retryable: false, provider: 'gemini-vertex' });
    expect(e.message).toContain('no Google Cloud credentials');
    expect(emu.hits.count('gemini-vertex')).toBe(0);
  });

  it('works in express mode (an API key, no project)', async () => {
    const p = geminiEvaluator({ vertex: { apiKey: 'emulator-express-key' }, httpOptions: emu.vertex.httpOptions });
    expect(checkEvalOutput((await p.evaluate(REQ, testAttempt().ctx)).output, 70).score).toBe(100);
    expect(emu.hits.count('gemini-vertex', FLASH)).toBe(1);
  });

  it('maps Vertex 429 (no RetryInfo), 503, an expired token and IAM 403 by status and ErrorInfo', async () => {
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'status', status: 429 }, times: 1 });
    const limited = await rejection(() => vertex().evaluate(REQ, testAttempt().ctx));
    expect(limited).toMatchObject({ code: 'rate_limited', retryable: true, status: 429 });
    expect(limited.retryAfterMs).toBeUndefined();
    expect(limited.message).toContain('Resource exhausted. Please try again later.');
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'status', status: 503 }, times: 1 });
    expect(await rejection(() => vertex().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'unavailable', retryable: true, status: 503 });
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'api_key_invalid' }, times: 1 });
    expect(await rejection(() => vertex().evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'unauthenticated', retryable: false, status: 401, message: expect.stringContaining('ACCESS_TOKEN_EXPIRED') });
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'status', status: 403 }, times: 1 });
    expect(await rejection(() => vertex().evaluate(REQ, testAttempt().ctx))).toMatchObject({
      code: 'unauthenticated',
      retryable: false,
      message: expect.stringContaining("Permission 'aiplatform.endpoints.predict' denied"),
    });
  });

  it('keeps Vertex and Gemini API faults apart', async () => {
    emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    expect(checkEvalOutput((await vertex().evaluate(REQ, testAttempt().ctx)).output, 70).score).toBe(100);
    const api = geminiEvaluator({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions });
    expect(await rejection(() => api.evaluate(REQ, testAttempt().ctx))).toMatchObject({ code: 'unavailable', provider: 'gemini' });
  });

  it('reads a MAX_TOKENS cut-off as a billed schema_violation, and times out a hang', async () => {
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'max_tokens' }, times: 1 });
    const cut = await rejection(() => vertex().evaluate(REQ, testAttempt().ctx));
    expect(cut).toMatchObject({ code: 'schema_violation', retryable: true, provider: 'gemini-vertex', message: expect.stringContaining('MAX_TOKENS') });
    expect((cut.usage as { tokensOut: number }).tokensOut).toBeGreaterThan(0);
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'hang' } });
    expect(await rejection(() => vertex().evaluate(REQ, testAttempt(300).ctx))).toMatchObject({ code: 'timeout', retryable: true });
    await vi.waitFor(() => expect(emu.hits.aborted('gemini-vertex')).toBe(1));
  });

  it('refuses bad Vertex options at creation, naming the field', () => {
    withEnv({ GOOGLE_CLOUD_PROJECT: undefined }, () => {
      expect(() => geminiEvaluator({ vertex: {} })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('vertex.project is required') }));
    });
    expect(() => geminiEvaluator({ vertex: { project: '../../evil' } })).toThrow(expect.objectContaining({ message: expect.stringContaining('vertex.project must be') }));
    expect(() => geminiEvaluator({ vertex: { project: 'my-project-1', location: 'us central/1' } })).toThrow(expect.objectContaining({ message: expect.stringContaining('vertex.location') }));
    expect(() => geminiEvaluator({ vertex: { project: 'my-project-1', apiKey: 'k' } })).toThrow(expect.objectContaining({ message: expect.stringContaining('mutually exclusive') }));
  });
});

describe('geminiEvaluator: cached prompt tokens (usageMetadata.cachedContentTokenCount)', () => {
  // The Gemini API's answer when part of the prompt came from the (implicit) cache, as its
  // docs show usage metadata: cachedContentTokenCount is part of promptTokenCount.
  const ANSWER = {
    candidates: [{ content: { role: 'model', parts: [{ text: JSON.stringify({ score: 90, passFail: true, primaryErrorType: null, errors: [], suggestions: [], rationale: 'ok' }) }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 2100, candidatesTokenCount: 40, totalTokenCount: 2140, cachedContentTokenCount: 1536, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 2100 }], cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 1536 }] },
    modelVersion: FLASH,
    responseId: 'mAitaNDoNo2rz7IPxoeUqQ4',
  };
  let server: http.Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ANSWER));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports them as cachedTokensIn, on both routes', async () => {
    const api = await geminiEvaluator({ apiKey: 'k', httpOptions: { baseUrl, apiVersion: 'v1beta' } }).evaluate(REQ, testAttempt().ctx);
    expect(api).toMatchObject({ tokensIn: 2100, cachedTokensIn: 1536, tokensOut: 40 });
    const onVertex = await geminiEvaluator({ vertex: { project: 'my-project-1', googleAuthOptions: { authClient: staticTokenClient() } }, httpOptions: { baseUrl, apiVersion: 'v1beta1' } }).evaluate(REQ, testAttempt().ctx);
    expect(onVertex).toMatchObject({ tokensIn: 2100, cachedTokensIn: 1536, tokensOut: 40 });
  });
});
