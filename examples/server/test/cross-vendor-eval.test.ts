import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { costMicroUsd, defaultPriceTable, findPriceRows, usdToMicro } from '@korean-together/core';
import { tutoringPolicy } from '../src/tutoring-policy.js';
import { startStack, type Stack } from './stack.js';

interface UsageRow {
  call_id: string;
  attempt: number;
  provider_name: string;
  model_id: string;
  tokens_in: number | null;
  tokens_out: number | null;
  success: boolean;
  error_code: string | null;
  estimated_cost_usd: string;
  price_version: string | null;
}

/** What the default price table charges `model` for the tokens on a row, in micro-dollars. */
const priceAt = (model: string, row: UsageRow) => costMicroUsd(findPriceRows(defaultPriceTable, 'eval', model), { tokensIn: row.tokens_in ?? 0, tokensOut: row.tokens_out ?? 0 });

// The server's default policy grades with two vendors over three endpoints; this is what that buys.
describe('tutoring server: the default eval chain survives a Gemini outage', () => {
  let s: Stack;
  beforeAll(async () => {
    // The default policy: the server's own ai-policy.json.
    s = await startStack({ label: 'cross_vendor' });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    s.emu.faults.clear();
    s.emu.hits.reset();
  });

  it('uses the cross-vendor chain flash -> flash-vertex -> gpt-4.1-mini', () => {
    expect(tutoringPolicy().capabilities.eval.chain).toEqual(['flash', 'flash-vertex', 'gpt-4.1-mini']);
  });

  it('POST /v1/turns: with the Gemini API and Vertex AI both 503, gpt-4.1-mini grades, and each attempt is priced at its own model', async () => {
    s.emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    s.emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'status', status: 503 } });
    const sessionId = randomUUID();
    const r = await s.post('/v1/turns', { sessionId, prompt: '자기소개를 하세요 (격식체)', expectedAnswer: '저는 학생입니다', targetFormality: 'hapsyo', text: '저는 학생이에요' });
    expect(r.status).toBe(200);
    // The OpenAI emulator grades with the same Korean rules: a haeyo answer to a hapsyo task.
    expect(r.json.evaluation.passFail).toBe(false);
    expect(r.json.evaluation.primaryErrorType).toBe('formality');
    const evalCall = r.json.calls.find((c: { capability: string }) => c.capability === 'eval');
    expect(evalCall.meta.providerKey).toBe('gpt-4.1-mini');
    expect(evalCall.meta.provider).toBe('openai');
    expect(evalCall.meta.modelId).toBe('gpt-4.1-mini');
    // Both Google routes were really called (twice each: retried, then the next step).
    expect(s.emu.hits.count('gemini')).toBe(2);
    expect(s.emu.hits.count('gemini-vertex')).toBe(2);
    expect(s.emu.hits.count('openai', 'gpt-4.1-mini')).toBe(1);

    await s.server.db.sink.flush();
    const rows = await s.rows<UsageRow>(
      `SELECT call_id::text, attempt, provider_name, model_id, tokens_in, tokens_out, success, error_code, estimated_cost_usd::text, price_version
         FROM $schema.ai_usage_log WHERE session_id = $1 AND provider_type = 'eval' ORDER BY attempt`,
      [sessionId],
    );
    // One row per attempt, all of one call.
    expect(rows.map((u) => `${u.attempt} ${u.provider_name}/${u.model_id} ${u.success ? 'ok' : u.error_code}`)).toEqual([
      '1 gemini/gemini-2.5-flash unavailable',
      '2 gemini/gemini-2.5-flash unavailable',
      '3 gemini-vertex/gemini-2.5-flash unavailable',
      '4 gemini-vertex/gemini-2.5-flash unavailable',
      '5 openai/gpt-4.1-mini ok',
    ]);
    expect(new Set(rows.map((u) => u.call_id)).size).toBe(1);
    expect(rows.every((u) => u.price_version === defaultPriceTable.version)).toBe(true);

    // A 503 bills nothing; the answered attempt is priced at gpt-4.1-mini's rate, not Gemini's.
    for (const u of rows) expect(usdToMicro(Number(u.estimated_cost_usd)), `attempt ${u.attempt}`).toBe(priceAt(u.model_id, u));
    const graded = rows.at(-1)!;
    expect(graded.tokens_in).toBeGreaterThan(0);
    expect(graded.tokens_out).toBeGreaterThan(0);
    expect(usdToMicro(Number(graded.estimated_cost_usd))).toBeGreaterThan(0);
    expect(priceAt('gpt-4.1-mini', graded)).not.toBe(priceAt('gemini-2.5-flash', graded));
    for (const u of rows.slice(0, -1)) expect(Number(u.estimated_cost_usd)).toBe(0);
    // The call's cost in the answer is the sum of its rows.
    expect(usdToMicro(evalCall.meta.costUsd)).toBe(rows.reduce((sum, u) => sum + usdToMicro(Number(u.estimated_cost_usd)), 0));
  });

  it('POST /v1/evaluate: with only the Gemini API down, Vertex AI grades at Gemini Flash\'s rate', async () => {
    s.emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    const r = await s.post('/v1/evaluate', { prompt: '물을 달라고 하세요', learnerAnswer: '물 주세요', expectedAnswer: '물 주세요', targetFormality: 'haeyo' });
    expect(r.status).toBe(200);
    expect(r.json.meta.providerKey).toBe('flash-vertex');
    expect(r.json.meta.provider).toBe('gemini-vertex');
    expect(r.json.meta.modelId).toBe('gemini-2.5-flash');
    expect(s.emu.hits.count('openai')).toBe(0);
  });
});
