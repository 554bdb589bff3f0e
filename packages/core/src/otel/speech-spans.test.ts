// Speech calls' spans (the proposed speech_to_text / text_to_speech conventions), a stream's
// first-audio timing and fallback, and a budget refusal, through the real OpenTelemetry SDK.
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient, type CreateAiClientOptions } from '../client.js';
import { EventChannel } from '../streaming/event-channel.js';
import { FakeClock } from '../testing/fake-clock.js';
import { fakeTtsStream } from '../testing/fake-streams.js';
import { fakeStt, fakeTts } from '../testing/fakes.js';
import { openTelemetry, type RecordContent } from './index.js';

function traced(options: Omit<CreateAiClientOptions, 'telemetry' | 'clock'>, recordContent?: RecordContent) {
  const clock = new FakeClock();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const client = createAiClient({ ...options, clock, random: () => 0, telemetry: openTelemetry({ tracerProvider, metrics: false, ...(recordContent !== undefined && { recordContent }) }) });
  const spans = async (): Promise<ReadableSpan[]> => {
    await tracerProvider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return { clock, client, spans };
}
const isCall = (s: ReadableSpan) => !s.name.startsWith('attempt ');

describe('speech spans', () => {
  it('STT: speech_to_text, the language asked for and the audio seconds; TTS: text_to_speech, the voice and the characters', async () => {
    const { client, spans, clock } = traced({ providers: { stt: fakeStt([{ ok: true }], { name: 'whisper', audioDurationMs: 2_500 }), tts: fakeTts([{ ok: true }], { name: 'google-tts' }) } });
    const heard = client.stt.transcribe({ audio: new Uint8Array(3_200), encoding: 'LINEAR16', sampleRateHertz: 16_000, languageCode: 'ko-KR' });
    const spoken = client.tts.synthesize({ text: '안녕하세요', voice: 'ko-KR-Wavenet-A' });
    await clock.advance(10);
    await heard;
    await spoken;
    const stt = 'speech_to_text';
    const tts = 'text_to_speech';
    const all = (await spans()).filter(isCall);
    const sttSpan = all.find((s) => s.attributes['gen_ai.operation.name'] === stt)!;
    const ttsSpan = all.find((s) => s.attributes['gen_ai.operation.name'] === tts)!;
    expect(sttSpan.name).toBe('speech_to_text whisper-1');
    expect(sttSpan.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.output.type': 'text', 'gen_ai.speech.input.language': 'ko-KR', 'gen_ai.speech.audio.duration': 2.5 });
    expect(ttsSpan.name).toBe('text_to_speech ko-KR-Wavenet-A');
    expect(ttsSpan.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.texttospeech', 'gen_ai.output.type': 'speech', 'gen_ai.speech.voice': 'ko-KR-Wavenet-A', 'korean_together.usage.characters': 5 });
    // Not opted in: neither the transcript nor the text.
    const text = JSON.stringify(all.map((s) => s.attributes));
    expect(text).not.toContain('안녕하세요');
    await client.close();
  });

  it('a TTS stream: one span with its time to first audio, the fallback after the first step sent no audio in time', async () => {
    const a = fakeTtsStream([{ firstChunkDelayMs: 5_000 }]);
    const b = fakeTtsStream([{}], { name: 'b' });
    const { client, spans, clock } = traced({ policy: { capabilities: { tts: { chain: ['a', 'b'], retry: { maxAttempts: 1 }, firstAudioTimeoutMs: 300 } } }, providers: { a, b } });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {});
    const drained = (async () => {
      for await (const _ of stream);
    })();
    text.push('하나. ');
    await clock.advance(400);
    text.push('둘.');
    text.end();
    await stream.result;
    await drained;
    const all = await spans();
    const call = all.find(isCall)!;
    expect(call.attributes).toMatchObject({ 'gen_ai.operation.name': 'text_to_speech', 'gen_ai.request.stream': true, 'korean_together.provider.key': 'b' });
    expect(call.attributes['gen_ai.response.time_to_first_chunk']).toBe(0.3);
    expect(call.events.map((e) => e.name)).toEqual(['korean_together.fallback', 'korean_together.stream.first_audio']);
    const attempts = all.filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId);
    expect(attempts.map((s) => [s.attributes['korean_together.provider.key'], s.attributes['korean_together.attempt.outcome']])).toEqual([
      ['a', 'error'],
      ['b', 'success'],
    ]);
    await client.close();
  });

  it('a budget refusal: an event on the call span, which ends with error.type budget_exceeded', async () => {
    const { client, spans, clock } = traced({ policy: { budget: { perDayUsd: 0.000001 } }, providers: { tts: fakeTts([{ ok: true }]) }, budgetStore: new MemoryBudgetStore() });
    const p = client.tts.synthesize({ text: '가나다라마바사아자차카타파하'.repeat(20) }).catch((e: unknown) => e);
    await clock.advance(10);
    expect(await p).toMatchObject({ code: 'budget_exceeded' });
    const call = (await spans()).find(isCall)!;
    expect(call.events.map((e) => e.name)).toEqual(['korean_together.budget.refused']);
    expect(call.attributes['error.type']).toBe('budget_exceeded');
    expect(call.status.code).toBe(2);
    await client.close();
  });

  it('a cached TTS answer: the second call span says cache hit, with no attempt spans', async () => {
    const { client, spans, clock } = traced({ policy: { cache: { tts: { ttlMs: 60_000 } } }, providers: { tts: fakeTts([{ ok: true }]) } });
    for (let i = 0; i < 2; i++) {
      const p = client.tts.synthesize({ text: '다시 말해 주세요' });
      await clock.advance(10);
      await p;
    }
    const all = await spans();
    const calls = all.filter(isCall);
    expect(calls.map((c) => c.attributes['korean_together.cache.result'])).toEqual(['miss', 'hit']);
    expect(all.filter((s) => s.parentSpanContext?.spanId === calls[1]!.spanContext().spanId)).toEqual([]);
    await client.close();
  });

  it('recordContent per capability: { stt: true } records the transcript, and the TTS text stays out', async () => {
    const { client, spans, clock } = traced({ providers: { stt: fakeStt([{ ok: true }]), tts: fakeTts([{ ok: true }]) } }, { stt: true });
    const heard = client.stt.transcribe({ audio: new Uint8Array(3_200), encoding: 'LINEAR16', sampleRateHertz: 16_000 });
    const spoken = client.tts.synthesize({ text: '비밀 문장입니다' });
    await clock.advance(10);
    await heard;
    await spoken;
    const calls = (await spans()).filter(isCall);
    const stt = calls.find((s) => s.attributes['gen_ai.operation.name'] === 'speech_to_text')!;
    expect(JSON.parse(String(stt.attributes['gen_ai.output.messages']))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: '안녕하세요' }], finish_reason: 'stop' }]);
    expect(JSON.stringify(calls.map((s) => s.attributes))).not.toContain('비밀 문장입니다');
    await client.close();
  });
});
