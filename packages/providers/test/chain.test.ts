// The whole data path: the core's createAiClient walking chains of real adapters, which drive
// the real client libraries against the emulators. Usage records are checked one per attempt,
// priced from the default price table.
import { createAiClient, defaultPriceTable, definePolicy, microToUsd, Pricer, type Capability, type UsageRecord, type UsageUnits } from '@korean-together/core';
import { geminiEvaluator, googleStt, googleTts, httpTts, whisperStt, type SpeechClientOptions, type TextToSpeechClientOptions } from '@korean-together/providers';
import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';
import { synthesizeWav } from '../src/emulators/audio.js';
import { scanMp3 } from '@korean-together/core/provider-kit';
import { ArraySink } from '@korean-together/core/testing';
import { codePoints, splitText, utf8Bytes } from '../src/shared/text-split.js';

const pricer = new Pricer(defaultPriceTable);
const usd = (capability: Capability, modelId: string, units: UsageUnits) => microToUsd(pricer.costMicro(capability, modelId, units));

const emu = useEmulators();

describe('chains through createAiClient', () => {
  it('eval falls back from a hanging model to a second model, one usage record per attempt', async () => {
    const sink = new ArraySink();
    const client = createAiClient({
      policy: definePolicy({ capabilities: { eval: { chain: ['flash', 'pro'], attemptTimeoutMs: 300, deadlineMs: 2000, retry: { maxAttempts: 1 } } } }),
      providers: {
        flash: geminiEvaluator({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions }),
        pro: geminiEvaluator({ apiKey: 'emulator', model: 'gemini-2.5-pro', httpOptions: emu.gemini.httpOptions }),
      },
      sinks: [sink],
    });
    emu.faults.add({ target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'hang' } });

    const res = await client.eval.evaluate(
      { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생이에요.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' },
      { sessionId: '00000000-0000-4000-8000-000000000001' },
    );
    await client.close();

    expect(res.primaryErrorType).toBe('formality');
    expect(res.meta).toMatchObject({ provider: 'gemini', providerKey: 'pro', modelId: 'gemini-2.5-pro' });
    expect(res.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
      ['flash', 'error', 'timeout'],
      ['pro', 'success', undefined],
    ]);
    // The emulator saw the hanging request aborted: the timeout really cancelled it.
    await vi.waitFor(() => expect(emu.hits.aborted('gemini', 'gemini-2.5-flash')).toBe(1));
    expect(emu.hits.count('gemini', 'gemini-2.5-pro')).toBe(1);

    expect(sink.records).toHaveLength(2);
    const [failed, ok] = sink.records as [UsageRecord, UsageRecord];
    expect(failed).toMatchObject({ attempt: 1, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', success: false, errorCode: 'timeout', estimatedCostUsd: 0 });
    expect(failed.tokensIn).toBeUndefined();
    expect(ok).toMatchObject({ attempt: 2, providerName: 'gemini', modelId: 'gemini-2.5-pro', success: true, priceVersion: defaultPriceTable.version });
    expect(ok.tokensIn).toBeGreaterThan(0);
    expect(ok.tokensOut).toBeGreaterThan(0);
    const cost = usd('eval', 'gemini-2.5-pro', { tokensIn: ok.tokensIn!, tokensOut: ok.tokensOut! });
    expect(cost).toBeGreaterThan(0);
    expect(ok.estimatedCostUsd).toBe(cost);
    expect(res.meta.costUsd).toBe(cost);
    expect(new Set(sink.records.map((r) => r.callId)).size).toBe(1);
  });

  it('STT falls back from Google to Whisper on UNAVAILABLE, with only the policy retrying', async () => {
    const sink = new ArraySink();
    const google = emu.closeAfterAll(googleStt({ clientOptions: emu.google.clientOptions as SpeechClientOptions }));
    const client = createAiClient({
      policy: definePolicy({ capabilities: { stt: { chain: ['google', 'whisper'], retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } } } }),
      providers: { google, whisper: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator' }) },
      sinks: [sink],
    });
    emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 14 } });
    const text = '오늘 저녁에 뭐 먹을까요?';
    const res = await client.stt.transcribe({ audio: synthesizeWav(text), encoding: 'LINEAR16' });
    await client.close();

    expect(res.transcript).toBe(text);
    expect(res.meta).toMatchObject({ provider: 'whisper', modelId: 'whisper-1' });
    expect(res.meta.attempts.map((a) => [a.providerKey, a.errorCode])).toEqual([
      ['google', 'unavailable'],
      ['google', 'unavailable'],
      ['whisper', undefined],
    ]);
    // Two Google attempts by the policy, two requests on the wire: google-gax added none.
    expect(emu.hits.count('google-stt')).toBe(2);
    expect(emu.hits.count('whisper')).toBe(1);

    expect(sink.records.map((r) => [r.providerName, r.modelId, r.success, r.errorCode ?? null, r.estimatedCostUsd])).toEqual([
      ['google-stt', 'google-stt/default', false, 'unavailable', 0],
      ['google-stt', 'google-stt/default', false, 'unavailable', 0],
      ['whisper', 'whisper-1', true, null, usd('stt', 'whisper-1', { audioDurationMs: res.audioDurationMs })],
    ]);
    expect(sink.records[2]!.audioDurationMs).toBe(res.audioDurationMs);
    expect(res.meta.costUsd).toBe(sink.records[2]!.estimatedCostUsd);
  });

  it('STT: an OpenAI account without credits is not retried, falls back, and does not open its breaker', async () => {
    const sink = new ArraySink();
    const google = emu.closeAfterAll(googleStt({ clientOptions: emu.google.clientOptions as SpeechClientOptions }));
    const client = createAiClient({
      policy: definePolicy({
        capabilities: { stt: { chain: ['whisper', 'google'], retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 }, circuitBreaker: { failureThreshold: 1 } } },
      }),
      providers: { whisper: whisperStt({ baseUrl: emu.whisper.baseUrl, apiKey: 'emulator' }), google },
      sinks: [sink],
    });
    emu.faults.add({ target: 'whisper', fault: { kind: 'insufficient_quota' } });
    const text = '커피 한 잔 주세요.';
    for (let i = 0; i < 2; i++) {
      const res = await client.stt.transcribe({ audio: synthesizeWav(text), encoding: 'LINEAR16' });
      expect(res.transcript).toBe(text);
      // Not 'skipped': a billing problem is not a health failure, so the breaker stayed closed.
      expect(res.meta.attempts.map((a) => [a.providerKey, a.outcome, a.errorCode])).toEqual([
        ['whisper', 'error', 'unauthenticated'],
        ['google', 'success', undefined],
      ]);
    }
    await client.close();
    expect(emu.hits.count('whisper')).toBe(2);
    expect(sink.records.filter((r) => r.providerName === 'whisper').map((r) => [r.success, r.errorCode, r.estimatedCostUsd])).toEqual([
      [false, 'unauthenticated', 0],
      [false, 'unauthenticated', 0],
    ]);
  });

  it('TTS splits a long Korean text into several requests inside one attempt, billed per character', async () => {
    const sink = new ArraySink();
    const wavenet = emu.closeAfterAll(googleTts({ clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }));
    const client = createAiClient({
      policy: definePolicy({ capabilities: { tts: { chain: ['wavenet', 'openai'] } } }),
      providers: { wavenet, openai: httpTts({ baseUrl: emu.httpTts.baseUrl, apiKey: 'emulator' }) },
      sinks: [sink],
    });
    const text = '한국어를 배우는 학생들은 매일 조금씩 듣기와 말하기를 연습하면 실력이 빨리 늡니다. '.repeat(100);
    expect(utf8Bytes(text)).toBeGreaterThan(10_000);
    const res = await client.tts.synthesize({ text, audioEncoding: 'MP3' });
    await client.close();

    const pieces = splitText(text, 5000);
    expect(pieces.length).toBe(3);
    expect(emu.hits.count('google-tts', 'ko-KR-Wavenet-A')).toBe(3);
    expect(emu.hits.count('http-tts')).toBe(0);
    expect(res.characters).toBe(codePoints(text));
    const scan = scanMp3(res.audio)!;
    expect(scan.truncated).toBe(false);
    expect(res.audioDurationMs).toBe(scan.durationMs);
    expect(res.meta.attempts).toHaveLength(1);
    expect(sink.records).toHaveLength(1);
    const cost = usd('tts', 'ko-KR-Wavenet-A', { characters: codePoints(text) });
    expect(sink.records[0]).toMatchObject({ providerName: 'google-tts', modelId: 'ko-KR-Wavenet-A', characters: codePoints(text), success: true, estimatedCostUsd: cost });
    expect(res.meta.costUsd).toBe(cost);
  });

  it('TTS moves on to the OpenAI-compatible server when Google returns truncated audio', async () => {
    const sink = new ArraySink();
    const wavenet = emu.closeAfterAll(googleTts({ clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }));
    const client = createAiClient({
      policy: definePolicy({ capabilities: { tts: { chain: ['wavenet', 'openai'], retry: { maxAttempts: 1 } } } }),
      providers: { wavenet, openai: httpTts({ baseUrl: emu.httpTts.baseUrl, apiKey: 'emulator' }) },
      sinks: [sink],
    });
    emu.faults.add({ target: 'google-tts', fault: { kind: 'truncated_audio' } });
    const text = '안녕히 가세요.';
    const res = await client.tts.synthesize({ text, voice: 'ko-KR-Neural2-A' });
    await client.close();
    expect(res.meta).toMatchObject({ provider: 'http-tts', modelId: 'tts-1' });
    expect(sink.records.map((r) => [r.providerName, r.modelId, r.errorCode ?? null])).toEqual([
      ['google-tts', 'ko-KR-Neural2-A', 'unavailable'],
      ['http-tts', 'tts-1', null],
    ]);
    expect(sink.records[1]!.estimatedCostUsd).toBe(usd('tts', 'tts-1', { characters: codePoints(text) }));
    expect(emu.hits.count('http-tts', 'alloy')).toBe(1);
  });
});
