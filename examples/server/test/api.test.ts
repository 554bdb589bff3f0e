import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { definePolicy } from '@korean-together/core';
import { readEmbeddedText, synthesizeWav } from '@korean-together/providers/emulators';
import { MAX_BODY_DEPTH } from '../src/app.js';
import { tutoringPolicy } from '../src/tutoring-policy.js';
import { startStack, TEST_API_KEY, type Stack } from './stack.js';

const wav64 = (text: string) => Buffer.from(synthesizeWav(text)).toString('base64');
const PROMPT = '자기소개를 하세요 (격식체)';

describe('tutoring API against the emulators and a real database', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ label: 'api' });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    s.emu.faults.clear();
  });

  it('POST /v1/turns: hears spoken audio, grades it, speaks a reply, and records events and usage rows that join', async () => {
    const sessionId = randomUUID();
    const r = await s.post('/v1/turns', {
      sessionId,
      prompt: PROMPT,
      expectedAnswer: '저는 학생입니다',
      targetFormality: 'hapsyo',
      audio: wav64('저는 학생이에요'),
      encoding: 'LINEAR16',
    });
    expect(r.status).toBe(200);
    expect(r.json.transcript).toBe('저는 학생이에요');
    expect(r.json.evaluation.passFail).toBe(false);
    expect(r.json.evaluation.primaryErrorType).toBe('formality');
    expect(r.json.reply.text).toContain('합쇼체');
    // The reply audio is what the TTS emulator spoke: it carries the reply text.
    expect(readEmbeddedText(new Uint8Array(Buffer.from(r.json.reply.audio, 'base64')))).toBe(r.json.reply.text);
    expect(r.json.calls.map((c: { capability: string }) => c.capability)).toEqual(['stt', 'eval', 'tts']);
    expect(r.json.costUsd).toBeGreaterThan(0);

    await s.server.db.sink.flush();
    const events = await s.rows<{ id: string; event_type: string; score: number | null; primary_error_type: string | null }>(
      'SELECT id::text, event_type, score, primary_error_type FROM $schema.session_events WHERE session_id = $1 ORDER BY created_at',
      [sessionId],
    );
    expect(events.map((e) => e.event_type).sort()).toEqual(['evaluation', 'tutor_response', 'user_input']);
    expect(events.find((e) => e.event_type === 'evaluation')?.primary_error_type).toBe('formality');
    const usage = await s.rows<{ event_id: string; provider_type: string; success: boolean; error_message: string | null }>(
      'SELECT event_id::text, provider_type, success, error_message FROM $schema.ai_usage_log WHERE session_id = $1',
      [sessionId],
    );
    expect(usage).toHaveLength(3);
    const eventIds = new Set(events.map((e) => e.id));
    for (const u of usage) expect(eventIds.has(u.event_id)).toBe(true);
    expect(r.json.eventIds.evaluation).toBe(events.find((e) => e.event_type === 'evaluation')?.id);
  });

  it('POST /v1/turns with typed text: a correct answer passes and is praised', async () => {
    const r = await s.post('/v1/turns', { prompt: PROMPT, expectedAnswer: '저는 학생입니다', targetFormality: 'hapsyo', text: '저는 학생입니다' });
    expect(r.status).toBe(200);
    expect(r.json.evaluation.passFail).toBe(true);
    expect(r.json.evaluation.primaryErrorType).toBeNull();
    expect(r.json.reply.text).toMatch(/^잘했어요!/);
    expect(r.json.calls.map((c: { capability: string }) => c.capability)).toEqual(['eval', 'tts']);
  });

  it('POST /v1/stt: an UNAVAILABLE Google backend falls back to Whisper', async () => {
    s.emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 14 } });
    const r = await s.post('/v1/stt', { audio: wav64('물 좀 주세요'), encoding: 'LINEAR16' });
    expect(r.status).toBe(200);
    expect(r.json.transcript).toBe('물 좀 주세요');
    expect(r.json.meta.provider).toBe('whisper');
    const failed = r.json.meta.attempts.filter((a: { outcome: string }) => a.outcome === 'error');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((a: { providerKey: string; errorCode: string }) => a.providerKey === 'google-stt' && a.errorCode === 'unavailable')).toBe(true);
  });

  it('POST /v1/evaluate: a 429 with Retry-After is waited out and retried on the same model', async () => {
    s.emu.faults.add({ target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'status', status: 429, retryAfterSeconds: 1 }, times: 1 });
    const r = await s.post('/v1/evaluate', { prompt: '물을 달라고 하세요', learnerAnswer: '물 주세요', expectedAnswer: '물 주세요', targetFormality: 'haeyo' });
    expect(r.status).toBe(200);
    expect(r.json.meta.providerKey).toBe('flash');
    expect(r.json.meta.attempts.map((a: { outcome: string; errorCode?: string }) => a.errorCode ?? a.outcome)).toEqual(['rate_limited', 'success']);
    expect(r.json.meta.latencyMs).toBeGreaterThanOrEqual(900);
  });

  it('POST /v1/tts returns playable audio and its cost', async () => {
    const r = await s.post('/v1/tts', { text: '안녕하세요', audioEncoding: 'LINEAR16' });
    expect(r.status).toBe(200);
    expect(r.json.encoding).toBe('LINEAR16');
    expect(readEmbeddedText(new Uint8Array(Buffer.from(r.json.audio, 'base64')))).toBe('안녕하세요');
    expect(r.json.meta.costUsd).toBeGreaterThan(0);
  });

  it('answers 502 exhausted with every attempt when all models fail, without the key or the learner text', async () => {
    // Every step of the cross-vendor chain down: the Gemini API, Vertex AI and OpenAI.
    for (const target of ['gemini', 'gemini-vertex', 'openai'] as const) {
      s.emu.faults.add({ target, fault: { kind: 'status', status: 500, message: `internal boom ${TEST_API_KEY}` } });
    }
    const answer = '비밀스러운 대답이에요';
    const r = await s.post('/v1/evaluate', { prompt: '아무거나 말하세요', learnerAnswer: answer });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('exhausted');
    expect(r.json.error.attempts.map((a: { provider: string; modelId: string }) => `${a.provider}:${a.modelId}`)).toEqual([
      'gemini:gemini-2.5-flash',
      'gemini:gemini-2.5-flash',
      'gemini-vertex:gemini-2.5-flash',
      'gemini-vertex:gemini-2.5-flash',
      'openai:gpt-4.1-mini',
      'openai:gpt-4.1-mini',
    ]);
    const text = JSON.stringify(r.json);
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).not.toContain(answer);
  });

  it('answers 502 unauthenticated when the provider refuses the key, never echoing it', async () => {
    s.emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status: 16, message: `bad key ${TEST_API_KEY}` } });
    s.emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${TEST_API_KEY}` } });
    const r = await s.post('/v1/tts', { text: '안녕하세요' });
    expect(r.status).toBe(502);
    expect(JSON.stringify(r.json)).not.toContain(TEST_API_KEY);
    expect(r.json.error.attempts.map((a: { errorCode: string }) => a.errorCode)).toEqual(['unauthenticated', 'unauthenticated']);
  });

  it('validates requests: 400 invalid_request naming the field, never quoting the body', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/v1/tts', { text: '' }, /body\.text/],
      ['/v1/tts', { text: '안녕', extra: 1 }, /unknown field 'extra'/],
      ['/v1/stt', { audio: '%%%', encoding: 'LINEAR16' }, /body\.audio/],
      ['/v1/stt', { audio: 'AAAA', encoding: 'WAV' }, /body\.encoding/],
      ['/v1/evaluate', { prompt: 'x' }, /learnerAnswer/],
      ['/v1/turns', { prompt: 'x', text: '네', audio: wav64('네'), encoding: 'LINEAR16' }, /either audio/],
      ['/v1/turns', { prompt: 'x' }, /either audio/],
      ['/v1/turns', { prompt: 'x', audio: wav64('네') }, /audio needs encoding/],
      ['/v1/turns', { prompt: 'x', sessionId: 'not-a-uuid', text: '네' }, /sessionId/],
    ];
    for (const [path, body, message] of cases) {
      const r = await s.post(path, body);
      expect(r.status, `${path} ${JSON.stringify(body).slice(0, 60)}`).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
      expect(r.json.error.message).toMatch(message);
    }
    const secret = '제 비밀번호는 사과예요';
    const bad = await s.post('/v1/evaluate', `{"prompt": "x", "learnerAnswer": "${secret}"`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('request body is not valid JSON');
    expect(JSON.stringify(bad.json)).not.toContain(secret);
  });

  it('a NUL character in turn text is a 400 naming the field, before any AI call or database write', async () => {
    const before = s.emu.hits.count('gemini');
    const sessionId = randomUUID();
    for (const [body, field] of [
      [{ sessionId, prompt: PROMPT, text: '저는\u0000학생입니다' }, 'body.text'],
      [{ sessionId, prompt: 'x\u0000', text: '네' }, 'body.prompt'],
    ] as const) {
      const r = await s.post('/v1/turns', body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
      expect(r.json.error.message).toBe(`${field}: must not contain NUL (\\u0000) characters`);
      expect(r.json.error.message).not.toMatch(/22021|SQLSTATE/);
    }
    expect(s.emu.hits.count('gemini')).toBe(before);
    expect(await s.rows('SELECT 1 FROM $schema.sessions WHERE id = $1', [sessionId])).toHaveLength(0);
  });

  it('an activityId that is not in activities is a 400 naming activityId, not the foreign key, and no AI call is paid for', async () => {
    const before = s.emu.hits.count('gemini');
    const r = await s.post('/v1/turns', { prompt: PROMPT, activityId: randomUUID(), text: '저는 학생입니다' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_request');
    expect(r.json.error.message).toMatch(/^activityId: /);
    expect(r.json.error.message).not.toMatch(/constraint|fkey|session_events|SQLSTATE/);
    expect(s.emu.hits.count('gemini')).toBe(before);
    // An existing activity is accepted and recorded on the events.
    const [activity] = await s.rows<{ id: string }>("INSERT INTO $schema.activities (title) VALUES ('self-introduction') RETURNING id::text");
    const ok = await s.post('/v1/turns', { prompt: PROMPT, activityId: activity!.id, text: '저는 학생입니다' });
    expect(ok.status).toBe(200);
    const events = await s.rows('SELECT 1 FROM $schema.session_events WHERE activity_id = $1', [activity!.id]);
    expect(events.length).toBe(3);
  });

  it('a text/plain body is 415 in the JSON error shape', async () => {
    const res = await fetch(`${s.baseUrl}/v1/turns`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ prompt: PROMPT, text: '네' }) });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: 'content-type must be application/json', retryable: false } });
  });

  it('a __proto__ key is a 400 naming the key, not "not valid JSON"', async () => {
    for (const [raw, key] of [
      [`{"prompt": "x", "text": "네", "__proto__": {"admin": true}}`, 'body.__proto__'],
      [`{"prompt": "x", "text": "네", "constructor": {"prototype": {"admin": true}}}`, 'body.constructor.prototype'],
    ] as const) {
      const r = await s.post('/v1/turns', raw);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
      expect(r.json.error.message).toMatch(new RegExp(`^${key.replaceAll('.', '\\.')}: key '(__proto__|prototype)' is not allowed$`));
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it(`a body nested deeper than ${MAX_BODY_DEPTH} levels is a 400 naming body, not a 500 from a stack overflow`, async () => {
    // 200,000 nested arrays (400 KB) parse with JSON.parse, but overflow a recursive walk.
    for (const raw of ['['.repeat(200_000) + ']'.repeat(200_000), `{"prompt": "x", "text": "네", "extra": ${'{"a": '.repeat(200_000)}1${'}'.repeat(200_000)}}`]) {
      const r = await s.post('/v1/turns', raw);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: { code: 'invalid_request', message: `body: nested too deeply (more than ${MAX_BODY_DEPTH} levels of arrays and objects)`, retryable: false } });
    }
    // At the cap the body reaches the schema, which names the field; one level more is refused.
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const atCap = await s.post('/v1/turns', `{"prompt": "x", "text": "네", "extra": ${nested(MAX_BODY_DEPTH - 1)}}`);
    expect(atCap.status).toBe(400);
    expect(atCap.json.error.message).toBe("body: unknown field 'extra'");
    const over = await s.post('/v1/turns', `{"prompt": "x", "text": "네", "extra": ${nested(MAX_BODY_DEPTH)}}`);
    expect(over.json.error.message).toMatch(/^body: nested too deeply/);
    expect((await s.get('/health')).status).toBe(200);
  });

  it('a 60 KB URL is 431 in the JSON error shape, not the HTTP parser’s own body', async () => {
    const res = await fetch(`${s.baseUrl}/v1/stats/costs?days=7&pad=${'a'.repeat(60 * 1024)}`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body.error).toEqual({ code: 'invalid_request', message: expect.stringMatching(/^request line and headers over 16384 bytes/), retryable: false });
    // The server is still fine for the next client.
    expect((await s.get('/health')).status).toBe(200);
  });

  it('refuses audio the SDK rejects (over 60 s for synchronous STT) as invalid_request without calling a provider', async () => {
    const before = s.emu.hits.count('google-stt');
    const r = await s.post('/v1/stt', { audio: wav64('가'.repeat(500)), encoding: 'LINEAR16' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_request');
    expect(s.emu.hits.count('google-stt')).toBe(before);
  });

  it('GET /v1/stats/* read the views and the usage log', async () => {
    await s.server.db.sink.flush();
    const costs = await s.get('/v1/stats/costs?days=7');
    expect(costs.status).toBe(200);
    const types = new Set(costs.json.rows.map((r: { providerType: string }) => r.providerType));
    expect(types).toEqual(new Set(['stt', 'tts', 'eval']));
    const row = costs.json.rows.find((r: { providerName: string }) => r.providerName === 'gemini');
    expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(row.totalCostUsd).toMatch(/^\d+\.\d{6}$/);
    expect(row.totalCalls).toBeGreaterThan(row.successfulCalls); // the 429 and the 500s count as attempts

    const evals = await s.get('/v1/stats/evaluations?days=7');
    expect(evals.json.rows.some((r: { primaryErrorType: string | null }) => r.primaryErrorType === 'formality')).toBe(true);
    expect(evals.json.rows.some((r: { passRate: number }) => r.passRate === 1)).toBe(true);

    const latency = await s.get('/v1/stats/latency?days=7');
    const gemini = latency.json.window.find((r: { providerName: string }) => r.providerName === 'gemini');
    expect(gemini.p50Ms).toBeLessThanOrEqual(gemini.p95Ms);
    expect(gemini.p95Ms).toBeLessThanOrEqual(gemini.p99Ms);
    expect(gemini.successRate).toBeLessThan(1);

    const calls = await s.get('/v1/stats/calls?days=7');
    const evalCalls = calls.json.rows.find((r: { providerType: string }) => r.providerType === 'eval');
    expect(evalCalls.calls).toBeGreaterThan(evalCalls.successfulCalls);

    expect((await s.get('/v1/stats/costs?days=0')).status).toBe(400);
  });

  it('GET /health and /ready report the process, the database, the sink and the breakers', async () => {
    expect((await s.get('/health')).json.status).toBe('ok');
    const ready = await s.get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.json.database).toEqual({ kind: s.db.kind === 'postgres' ? 'postgres' : 'pglite', reachable: true });
    expect(ready.json.usageSink).toMatchObject({ databaseUp: true, dropped: 0, spilled: 0 });
    expect(ready.json.usageSink.written).toBeGreaterThan(0);
    expect(Object.keys(ready.json.breakers).sort()).toEqual(['eval:flash', 'eval:flash-vertex', 'eval:gpt-4.1-mini', 'stt:google-stt', 'stt:whisper', 'tts:google-tts', 'tts:openai-tts']);
    expect((await s.get('/nope')).json.error.code).toBe('not_found');
  });
});

describe('tutoring API: budgets and breakers from the policy', () => {
  let s: Stack;
  beforeAll(async () => {
    const base = tutoringPolicy();
    const policy = definePolicy({
      capabilities: {
        ...base.capabilities,
        tts: { ...base.capabilities.tts, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 }, retry: { ...base.capabilities.tts.retry, maxAttempts: 1 } },
      },
      budget: { perSessionUsd: 0.0001 },
    });
    s = await startStack({ label: 'api_policy', policy });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('refuses a call over the session budget with 402 budget_exceeded before any provider call', async () => {
    const before = s.emu.hits.count('google-tts');
    const r = await s.post('/v1/tts', { text: '가'.repeat(100), sessionId: randomUUID() });
    expect(r.status).toBe(402);
    expect(r.json.error.code).toBe('budget_exceeded');
    expect(s.emu.hits.count('google-tts')).toBe(before);
    // Without a session there is no session cap.
    expect((await s.post('/v1/tts', { text: '가'.repeat(100) })).status).toBe(200);
  });

  it('opens both TTS breakers, then /ready answers 503 naming tts and the call 503 circuit_open', async () => {
    s.emu.faults.add({ target: 'google-tts', fault: { kind: 'status', status: 14 } });
    s.emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status: 503 } });
    const first = await s.post('/v1/tts', { text: '안녕하세요' });
    expect(first.status).toBe(502);
    const ready = await s.get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.capabilitiesDown).toEqual(['tts']);
    expect(ready.json.breakers['tts:google-tts']).toBe('open');
    const skipped = await s.post('/v1/tts', { text: '안녕하세요' });
    expect(skipped.status).toBe(503);
    expect(skipped.json.error.code).toBe('circuit_open');
    expect(skipped.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
