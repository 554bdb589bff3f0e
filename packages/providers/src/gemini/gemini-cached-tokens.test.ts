import { createAiClient, type UsageRecord } from '@korean-together/core';
import { ArraySink } from '@korean-together/core/testing';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { geminiEvaluator } from './gemini-evaluator.js';

const emu = useEmulators();

// A reading task long enough (well past 1,024 tokens) for Gemini 2.5 Flash's implicit cache:
// two learners answering it share the whole prompt up to their answers.
const PASSAGE = Array.from({ length: 70 }, (_, i) => `${i + 1}. 민수는 아침마다 공원에서 산책을 하고 카페에서 커피를 마십니다.`).join(' ');
const TASK = `다음 글을 읽고 민수가 아침에 무엇을 하는지 한 문장으로 말하세요. ${PASSAGE}`;

describe('Gemini implicit prompt caching, through the real @google/genai client on the emulator', () => {
  it('records cachedContentTokenCount as tokensCachedIn and prices those tokens at the cached rate, exactly', async () => {
    const sink = new ArraySink();
    const flash = geminiEvaluator({ apiKey: 'emulator', model: 'gemini-2.5-flash', httpOptions: emu.gemini.httpOptions });
    const client = createAiClient({ providers: { flash }, sinks: [sink] });
    try {
      const first = await client.eval.evaluate({ prompt: TASK, learnerAnswer: '민수는 아침마다 산책을 해요.', targetFormality: 'haeyo' });
      const second = await client.eval.evaluate({ prompt: TASK, learnerAnswer: '민수는 커피를 마셔요.', targetFormality: 'haeyo' });
      const row = (callId: string): UsageRecord => sink.records.find((r) => r.callId === callId)!;
      const r1 = row(first.meta.callId);
      const r2 = row(second.meta.callId);
      // The first prompt had nothing to share; the second shares the instruction and the task.
      expect(r1.tokensCachedIn).toBeUndefined();
      expect(r2.tokensCachedIn).toBeGreaterThanOrEqual(1_024);
      expect(r2.tokensCachedIn).toBeLessThan(r2.tokensIn!);
      // gemini-2.5-flash: $0.30 per 1M text input tokens, $0.03 per 1M cached input tokens, $2.50 per 1M output
      // tokens (price table rows with their source and date). Nano-dollars per token: 300, 30, 2,500;
      // the attempt's sum rounds half-up to the micro-dollar once.
      const nano = (r2.tokensIn! - r2.tokensCachedIn!) * 300 + r2.tokensCachedIn! * 30 + r2.tokensOut! * 2_500;
      expect(r2.estimatedCostUsd).toBe(Math.floor((nano + 500) / 1000) / 1e6);
      expect(second.meta.costUsd).toBe(r2.estimatedCostUsd);
      const uncachedNano = r2.tokensIn! * 300 + r2.tokensOut! * 2_500;
      expect(r2.estimatedCostUsd!).toBeLessThan(Math.floor((uncachedNano + 500) / 1000) / 1e6);
      const nano1 = r1.tokensIn! * 300 + r1.tokensOut! * 2_500;
      expect(r1.estimatedCostUsd).toBe(Math.floor((nano1 + 500) / 1000) / 1e6);
    } finally {
      await client.close();
    }
  });
});
