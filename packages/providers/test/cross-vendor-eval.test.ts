// Grading that survives a Google outage: createAiClient walking an eval chain across two
// vendors and three endpoints (the Gemini API, Gemini on Vertex AI, OpenAI), each adapter
// driving its real client library against the emulators. One usage row per attempt, each
// priced at its own model's rate; the budget reserves the chain's most expensive step.
import { createAiClient, defaultPriceTable, definePolicy, MemoryBudgetStore, microToUsd, Pricer, type ReserveRequest, type UsageRecord } from '@korean-together/core';
import { evalOutputJsonSchema, evalSystemInstruction, evalUserPrompt } from '@korean-together/core/provider-kit';
import { ArraySink, worstCaseUnits } from '@korean-together/core/testing';
import { geminiEvaluator, openaiEvaluator } from '@korean-together/providers';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';
import { estimateTokens } from '../src/emulators/index.js';
import { toStrictSchema } from '../src/openai-eval/strict-schema.js';
import { staticTokenClient } from './support/vertex-auth.js';

const pricer = new Pricer(defaultPriceTable);
const REQ = { prompt: '어제 무엇을 했는지 말하세요: 도서관, 친구.', learnerAnswer: '저가 도서관을 친구가 만났어요', expectedAnswer: '저는 도서관에서 친구를 만났어요', targetFormality: 'haeyo' as const };
const SESSION = '00000000-0000-4000-8000-0000000000a1';

const emu = useEmulators();

/** The three steps: flash on the Gemini API, flash on Vertex AI, gpt-4.1-mini on OpenAI. */
function providers() {
  return {
    flash: geminiEvaluator({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions }),
    'flash-vertex': geminiEvaluator({ vertex: { project: emu.vertex.project, location: emu.vertex.location, googleAuthOptions: { authClient: staticTokenClient() } }, httpOptions: emu.vertex.httpOptions }),
    'gpt-4.1-mini': openaiEvaluator({ baseUrl: emu.openai.baseUrl, apiKey: 'emulator', model: 'gpt-4.1-mini' }),
  };
}

const CHAIN = ['flash', 'flash-vertex', 'gpt-4.1-mini'];
const retry = { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 };

describe('a cross-vendor eval chain through createAiClient', () => {
  it('flash (Gemini API) unavailable -> graded by flash on Vertex AI, a separate endpoint and quota', async () => {
    const sink = new ArraySink();
    const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain: CHAIN, retry } } }), providers: providers(), sinks: [sink] });
    emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    const res = await client.eval.evaluate(REQ, { sessionId: SESSION });
    await client.close();

    expect(res.primaryErrorType).toBe('grammar');
    expect(res.meta).toMatchObject({ providerKey: 'flash-vertex', provider: 'gemini-vertex', modelId: 'gemini-2.5-flash' });
    expect(res.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
      ['flash', 'error', 'unavailable'],
      ['flash', 'error', 'unavailable'],
      ['flash-vertex', 'success', undefined],
    ]);
    expect([emu.hits.count('gemini'), emu.hits.count('gemini-vertex'), emu.hits.count('openai')]).toEqual([2, 1, 0]);
    expect(sink.records.map((r) => [r.providerName, r.modelId, r.success, r.errorCode ?? null])).toEqual([
      ['gemini', 'gemini-2.5-flash', false, 'unavailable'],
      ['gemini', 'gemini-2.5-flash', false, 'unavailable'],
      ['gemini-vertex', 'gemini-2.5-flash', true, null],
    ]);
    const ok = sink.records[2]!;
    expect(ok.estimatedCostUsd).toBe(microToUsd(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: ok.tokensIn!, tokensOut: ok.tokensOut! })));
    expect(res.meta.costUsd).toBe(ok.estimatedCostUsd);
  });

  it('a full Gemini outage is graded by OpenAI; one row per attempt, each at its own model rate', async () => {
    const sink = new ArraySink();
    const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain: CHAIN, retry } } }), providers: providers(), sinks: [sink] });
    // The Gemini API is down; Vertex AI answers, but its answer is cut off at the token cap (billed).
    emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'max_tokens' }, times: 1 });
    emu.faults.add({ target: 'gemini-vertex', fault: { kind: 'status', status: 503 } });
    const res = await client.eval.evaluate(REQ, { sessionId: SESSION });
    await client.close();

    expect(res).toMatchObject({ score: 55, passFail: false, primaryErrorType: 'grammar' });
    expect(res.meta).toMatchObject({ providerKey: 'gpt-4.1-mini', provider: 'openai-compatible', modelId: 'gpt-4.1-mini' });
    expect(res.meta.attempts.map((a) => [a.providerKey, a.errorCode ?? 'ok'])).toEqual([
      ['flash', 'unavailable'],
      ['flash', 'unavailable'],
      ['flash-vertex', 'schema_violation'],
      ['flash-vertex', 'unavailable'],
      ['gpt-4.1-mini', 'ok'],
    ]);
    expect(sink.records).toHaveLength(5);
    expect(sink.records.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(sink.records.map((r) => r.callId)).size).toBe(1);
    const [apiDown1, apiDown2, cutOff, vertexDown, graded] = sink.records as [UsageRecord, UsageRecord, UsageRecord, UsageRecord, UsageRecord];
    for (const r of [apiDown1, apiDown2, vertexDown]) expect(r).toMatchObject({ success: false, errorCode: 'unavailable', estimatedCostUsd: 0 });
    // The cut-off answer was generated: billed at gemini-2.5-flash's rates.
    expect(cutOff).toMatchObject({ providerName: 'gemini-vertex', modelId: 'gemini-2.5-flash', success: false, errorCode: 'schema_violation' });
    expect(cutOff.tokensOut).toBeGreaterThan(0);
    const flashCost = microToUsd(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: cutOff.tokensIn!, tokensOut: cutOff.tokensOut! }));
    expect(flashCost).toBeGreaterThan(0);
    expect(cutOff.estimatedCostUsd).toBe(flashCost);
    // The grade: billed at gpt-4.1-mini's rates, not flash's.
    expect(graded).toMatchObject({ providerName: 'openai-compatible', modelId: 'gpt-4.1-mini', success: true });
    const gptCost = microToUsd(pricer.costMicro('eval', 'gpt-4.1-mini', { tokensIn: graded.tokensIn!, tokensOut: graded.tokensOut! }));
    expect(graded.estimatedCostUsd).toBe(gptCost);
    expect(gptCost).not.toBe(microToUsd(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: graded.tokensIn!, tokensOut: graded.tokensOut! })));
    expect(res.meta.costUsd).toBeCloseTo(flashCost + gptCost, 6);
  });

  it('an OpenAI account without credits is not retried and does not open its breaker', async () => {
    const client = createAiClient({
      policy: definePolicy({ capabilities: { eval: { chain: ['gpt-4.1-mini', 'flash'], retry: { ...retry, maxAttempts: 3 }, circuitBreaker: { failureThreshold: 1 } } } }),
      providers: providers(),
    });
    emu.faults.add({ target: 'openai', fault: { kind: 'insufficient_quota' } });
    for (let i = 0; i < 2; i++) {
      const res = await client.eval.evaluate(REQ);
      expect(res.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
        ['gpt-4.1-mini', 'error', 'unauthenticated'],
        ['flash', 'success', undefined],
      ]);
    }
    await client.close();
    expect(emu.hits.count('openai')).toBe(2);
  });

  it('prices cached prompt tokens at the cached rate on the usage row', async () => {
    const sink = new ArraySink();
    const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain: ['gpt-4.1-mini'] } } }), providers: providers(), sinks: [sink] });
    const longTask = `${'다음 글을 읽고 질문에 답하세요. '.repeat(90)}어제 무엇을 했는지 말하세요.`;
    await client.eval.evaluate({ ...REQ, prompt: longTask });
    await client.eval.evaluate({ ...REQ, prompt: longTask, learnerAnswer: '저는 도서관에서 친구를 만났어요' });
    await client.close();
    const [cold, warm] = sink.records as [UsageRecord, UsageRecord];
    const full = (r: UsageRecord) => pricer.costMicro('eval', 'gpt-4.1-mini', { tokensIn: r.tokensIn!, tokensOut: r.tokensOut! });
    expect(cold.estimatedCostUsd).toBe(microToUsd(full(cold)));
    // The warm call reused at least 1,024 cached tokens: it costs less than the same tokens uncached.
    expect(warm.estimatedCostUsd!).toBeLessThan(microToUsd(full(warm)));
    const cachedSaving = microToUsd(full(warm)) - warm.estimatedCostUsd!;
    // $0.40 -> $0.10 per 1M: at least 1,024 x $0.30 / 1M saved.
    expect(cachedSaving).toBeGreaterThanOrEqual(0.000307);
  });
});

describe('the budget of a cross-vendor chain', () => {
  /** A memory store that remembers what each call reserved. */
  function recordingStore() {
    const store = new MemoryBudgetStore();
    const reserved: ReserveRequest[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = (r: ReserveRequest) => {
      reserved.push(r);
      return reserve(r);
    };
    return { store, reserved };
  }

  const worst = (modelId: string) => pricer.costMicro('eval', modelId, worstCaseUnits('eval', REQ, 1024, 70));

  it('reserves the worst case of the most expensive step, wherever it sits in the chain', async () => {
    // gpt-4o is the dearest ($2.50 in / $10 out), flash next, gpt-4.1-mini the cheapest.
    const all = { ...providers(), 'gpt-4o': openaiEvaluator({ baseUrl: emu.openai.baseUrl, apiKey: 'emulator', model: 'gpt-4o' }) };
    expect(worst('gpt-4o')).toBeGreaterThan(worst('gemini-2.5-flash'));
    expect(worst('gemini-2.5-flash')).toBeGreaterThan(worst('gpt-4.1-mini'));
    for (const chain of [['gpt-4.1-mini', 'flash', 'gpt-4o'], ['flash', 'flash-vertex', 'gpt-4.1-mini']]) {
      const { store, reserved } = recordingStore();
      const sink = new ArraySink();
      const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain } }, budget: { perSessionUsd: 1 } }), providers: all, budgetStore: store, sinks: [sink] });
      const res = await client.eval.evaluate(REQ, { sessionId: SESSION });
      await client.close();
      const expected = Math.max(...chain.map((k) => worst(all[k as keyof typeof all].modelId)));
      expect(reserved).toHaveLength(1);
      expect(reserved[0]!.amountMicro).toBe(expected);
      // What the attempt really billed fits inside the reservation: its prompt within the worst case's tokens.
      expect(sink.records[0]!.tokensIn!).toBeLessThanOrEqual(worstCaseUnits('eval', REQ, 1024, 70).tokensIn!);
      expect(res.meta.costUsd).toBeLessThanOrEqual(microToUsd(expected));
    }
  });

  it('the worst case bounds every prompt byte an adapter sends: instruction, prompt, the response schema, message framing', () => {
    const bytes = (x: unknown) => Buffer.byteLength(typeof x === 'string' ? x : JSON.stringify(x), 'utf8');
    const text = bytes(evalSystemInstruction(70)) + bytes(evalUserPrompt(REQ)) + 3 * (2 + 1);
    const worstIn = worstCaseUnits('eval', REQ, 1024, 70).tokensIn!;
    // Gemini sends the schema as is; OpenAI sends its strict form (the larger one).
    expect(worstIn).toBeGreaterThanOrEqual(text + bytes(evalOutputJsonSchema));
    expect(worstIn).toBeGreaterThanOrEqual(text + bytes(toStrictSchema(evalOutputJsonSchema)));
  });

  it('the emulators bill the response schema as prompt tokens', async () => {
    const textTokens = estimateTokens([evalSystemInstruction(70), evalUserPrompt(REQ)].join('\n'));
    const billed = async (key: 'flash' | 'gpt-4.1-mini') => {
      const sink = new ArraySink();
      const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain: [key] } } }), providers: providers(), sinks: [sink] });
      await client.eval.evaluate(REQ);
      await client.close();
      return sink.records[0]!.tokensIn;
    };
    expect(await billed('flash')).toBe(textTokens + estimateTokens(JSON.stringify(evalOutputJsonSchema)));
    expect(await billed('gpt-4.1-mini')).toBe(textTokens + estimateTokens(JSON.stringify(toStrictSchema(evalOutputJsonSchema))) + 3 * (2 + 1));
  });

  it('refuses before any provider call when the dearest step does not fit, though the first would', async () => {
    const all = { ...providers(), 'gpt-4o': openaiEvaluator({ baseUrl: emu.openai.baseUrl, apiKey: 'emulator', model: 'gpt-4o' }) };
    // Room for a gpt-4.1-mini or flash attempt, not for a gpt-4o one.
    const capUsd = microToUsd(worst('gpt-4o') - 1);
    expect(worst('gemini-2.5-flash')).toBeLessThan(worst('gpt-4o') - 1);
    const client = createAiClient({ policy: definePolicy({ capabilities: { eval: { chain: ['gpt-4.1-mini', 'flash', 'gpt-4o'] } }, budget: { perSessionUsd: capUsd } }), providers: all });
    await expect(client.eval.evaluate(REQ, { sessionId: SESSION })).rejects.toMatchObject({ code: 'budget_exceeded' });
    await client.close();
    expect([emu.hits.count('gemini'), emu.hits.count('gemini-vertex'), emu.hits.count('openai')]).toEqual([0, 0, 0]);
  });
});
