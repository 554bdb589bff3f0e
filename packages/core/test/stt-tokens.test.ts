// Token-billed transcription (OpenAI gpt-4o-transcribe) through the whole client: the real
// Whisper adapter against the OpenAI-compatible emulator. The usage row carries the tokens
// the provider billed and is priced from the model's token rows; the budget's worst case
// counts those tokens too, so a cap protects a token-billed model as it does a per-second one.
import { whisperStt } from '@korean-together/providers';
import { synthesizeWav } from '@korean-together/providers/emulators';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';
import { createAiClient, defaultPriceTable, microToUsd, MemoryBudgetStore, Pricer } from '../src/index.js';
import { ArraySink } from '../src/testing/fakes.js';
import { failure } from './support/failure.js';

const pricer = new Pricer(defaultPriceTable);
const TEXT = '오늘 날씨가 정말 좋네요.';

const emu = useEmulators();

describe('STT billed in tokens (gpt-4o-transcribe)', () => {
  it('puts the billed tokens on the usage row and prices the attempt from them', async () => {
    const sink = new ArraySink();
    const client = createAiClient({
      providers: { openai: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator', model: 'gpt-4o-transcribe' }) },
      sinks: [sink],
    });
    const res = await client.stt.transcribe({ audio: synthesizeWav(TEXT), encoding: 'LINEAR16' });
    await client.close();

    expect(res.transcript).toBe(TEXT);
    expect(sink.records).toHaveLength(1);
    const row = sink.records[0]!;
    expect(row).toMatchObject({ providerType: 'stt', providerName: 'whisper', modelId: 'gpt-4o-transcribe', success: true });
    // The emulator bills 10 audio tokens per second and the transcript as output tokens.
    expect(row.tokensIn).toBeGreaterThan(0);
    expect(row.tokensOut).toBeGreaterThan(0);
    // The adapter sends no prompt: every input token is an audio token.
    const cost = microToUsd(pricer.costMicro('stt', 'gpt-4o-transcribe', { tokensIn: row.tokensIn, audioTokensIn: row.tokensIn, tokensOut: row.tokensOut }));
    // $6 per 1M audio tokens and $10 per 1M output tokens: never zero for a real transcript.
    expect(cost).toBeGreaterThan(0);
    expect(row.estimatedCostUsd).toBe(cost);
    expect(res.meta.costUsd).toBe(cost);
  });

  it('refuses the call before any request when the token worst case exceeds the budget cap', async () => {
    const sink = new ArraySink();
    const store = new MemoryBudgetStore();
    // A 3 s clip: per second (whisper-1) its worst case is $0.0003; per token (2,000 output
    // tokens at $10/1M, plus the audio) it is above $0.02. The cap sits between the two.
    const budget = { perDayUsd: 0.01 };
    const audio = synthesizeWav(TEXT);
    const tokens = createAiClient({
      policy: { budget },
      providers: { openai: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator', model: 'gpt-4o-transcribe' }) },
      sinks: [sink],
      budgetStore: store,
    });
    const e = await failure(tokens.stt.transcribe({ audio, encoding: 'LINEAR16' }));
    await tokens.close();
    expect(e).toMatchObject({ code: 'budget_exceeded', retryable: false });
    expect(e.message).toContain('per-day');
    expect(emu.hits.count('whisper')).toBe(0);
    expect(sink.records).toHaveLength(0);

    // The same cap lets the per-second model through: the refusal came from the token worst case.
    const seconds = createAiClient({
      policy: { budget },
      providers: { openai: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator' }) },
      sinks: [sink],
      budgetStore: store,
    });
    const res = await seconds.stt.transcribe({ audio, encoding: 'LINEAR16' });
    await seconds.close();
    expect(res.meta.modelId).toBe('whisper-1');
    expect(emu.hits.count('whisper', 'whisper-1')).toBe(1);
  });
});
