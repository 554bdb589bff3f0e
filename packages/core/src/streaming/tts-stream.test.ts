import { describe, expect, it } from 'vitest';
import { MemoryBudgetStore } from '../budget/memory-budget-store.js';
import { createAiClient } from '../client.js';
import { AiError } from '../errors/ai-error.js';
import type { TtsStream } from '../spec/streaming.js';
import type { TtsProviderStream } from '../spec/streaming.js';
import type { AttemptContext, Provider, TtsProvider } from '../spec/types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { fakeTtsStream } from '../testing/fake-streams.js';
import { ArraySink, fakeTts, unavailable } from '../testing/fakes.js';
import { EventChannel } from './event-channel.js';
import { TtsStreamInterruptedError } from './stream-errors.js';

function setup(providers: Record<string, Provider>, tts: Record<string, unknown> = {}, extra: { budget?: object; budgetStore?: MemoryBudgetStore } = {}) {
  const clock = new FakeClock();
  const sink = new ArraySink();
  const client = createAiClient({
    policy: { capabilities: { tts: { chain: Object.keys(providers), retry: { maxAttempts: 1 }, ...tts } }, ...(extra.budget && { budget: extra.budget }) },
    providers,
    clock,
    sinks: [sink],
    random: () => 0,
    ...(extra.budgetStore && { budgetStore: extra.budgetStore }),
  });
  return { clock, sink, client };
}

function drain(stream: TtsStream): { chunks: string[]; done: Promise<unknown> } {
  const chunks: string[] = [];
  const done = (async () => {
    try {
      for await (const c of stream) chunks.push(new TextDecoder().decode(c));
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  return { chunks, done };
}

/** Fails like an adapter whose request timeout comes from the context: at ctx.deadlineAt. */
function noTimeLeft(ctx: AttemptContext, clock: FakeClock, left: number[]): void {
  left.push(ctx.deadlineAt - clock.now(), ctx.attemptDeadlineAt - clock.now());
  if (clock.now() >= Math.min(ctx.deadlineAt, ctx.attemptDeadlineAt)) throw new AiError('timeout', 'deadline-reading: no time left', { retryable: true });
}

/** A streaming provider that reads ctx's deadlines as each text piece arrives (`left`: ms left then, deadline and attempt deadline). */
function deadlineReadingStream(clock: FakeClock, left: number[]): Provider {
  return {
    capability: 'tts',
    name: 'deadline-reading-stream',
    modelId: 'ko-KR-Chirp3-HD-Aoede',
    async synthesize(): Promise<never> {
      throw new Error('not used');
    },
    synthesizeStream(text: AsyncIterable<string>, _req: unknown, ctx: AttemptContext): TtsProviderStream {
      let characters = 0;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for await (const piece of text) {
          noTimeLeft(ctx, clock, left);
          characters += [...piece].length;
          yield new TextEncoder().encode(piece);
        }
      }
      const it = chunks();
      return { [Symbol.asyncIterator]: () => it, usage: Promise.resolve().then(() => ({ characters })) };
    },
  } as TtsProvider;
}

/** A one-shot provider (spoken sentence by sentence) that reads ctx's deadlines when each sentence starts. */
function deadlineReadingOneShot(clock: FakeClock, left: number[]): Provider {
  return {
    capability: 'tts',
    name: 'deadline-reading',
    modelId: 'ko-KR-Wavenet-A',
    async synthesize(req, ctx) {
      noTimeLeft(ctx, clock, left);
      return { audio: new TextEncoder().encode(req.text), encoding: 'LINEAR16', characters: [...req.text].length };
    },
  };
}

describe('tts.synthesizeStream', () => {
  it('yields audio while the text arrives; characters billed as read; one usage row at the exact cost', async () => {
    const a = fakeTtsStream([{}]);
    const { clock, sink, client } = setup({ a });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {});
    const { chunks, done } = drain(stream);
    text.push('안녕하세요. ');
    await clock.advance(10);
    expect(chunks).toEqual(['안녕하세요. ']); // before the text has ended
    text.push('반가워요!');
    text.end();
    const r = await stream.result;
    await done;
    expect(chunks).toEqual(['안녕하세요. ', '반가워요!']);
    expect(new TextDecoder().decode(r.audio)).toBe('안녕하세요. 반가워요!');
    expect(r.encoding).toBe('LINEAR16');
    expect(r.characters).toBe(12);
    // Chirp 3 HD: $30 per 1M characters
    expect(r.meta.costUsd).toBe(0.00036);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: true, characters: 12, estimatedCostUsd: 0.00036, providerType: 'tts' });
  });

  it('no audio within firstAudioTimeoutMs: the next step gets the whole text from its first piece', async () => {
    const a = fakeTtsStream([{ firstChunkDelayMs: 5_000 }]);
    const b = fakeTtsStream([{}], { name: 'b' });
    const { clock, sink, client } = setup({ a, b }, { firstAudioTimeoutMs: 300 });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {});
    const { chunks, done } = drain(stream);
    text.push('하나. ');
    await clock.advance(200);
    text.push('둘. ');
    await clock.advance(200);
    expect(b.texts[0]).toEqual(['하나. ', '둘. ']);
    text.push('셋.');
    text.end();
    const r = await stream.result;
    await done;
    expect(chunks).toEqual(['하나. ', '둘. ', '셋.']);
    expect(r.meta.attempts.map((x) => [x.providerKey, x.outcome, x.errorCode])).toEqual([
      ['a', 'error', 'timeout'],
      ['b', 'success', undefined],
    ]);
    expect(sink.records[0]!.errorMessage).toMatch(/firstAudioTimeoutMs \(300 ms\)/);
    // a read one piece ('하나. ', 4 characters) before it was given up: billed, and counted in the call's cost.
    expect(sink.records[0]!.characters).toBe(4);
    expect(r.meta.costUsd).toBe(Number(((sink.records[0]!.estimatedCostUsd ?? 0) + (sink.records[1]!.estimatedCostUsd ?? 0)).toFixed(6)));
  });

  it('never falls back after the first chunk: the call ends with a typed error saying what was delivered', async () => {
    const a = fakeTtsStream([{ failAfterChunks: { chunks: 1, error: unavailable() } }]);
    const b = fakeTtsStream([{}]);
    const { client } = setup({ a, b });
    const stream = client.tts.synthesizeStream(
      (async function* () {
        yield '첫 문장. ';
        yield '둘째 문장.';
      })(),
      {},
    );
    const { chunks, done } = drain(stream);
    const e = (await stream.result.catch((x: unknown) => x)) as TtsStreamInterruptedError;
    expect(e).toBeInstanceOf(TtsStreamInterruptedError);
    expect(e.code).toBe('unavailable');
    expect(e.retryable).toBe(false);
    expect(e.chunksDelivered).toBe(1);
    expect(e.bytesDelivered).toBe(new TextEncoder().encode('첫 문장. ').byteLength);
    expect(await done).toBe(e);
    expect(chunks).toEqual(['첫 문장. ']);
    expect(b.texts).toHaveLength(0);
  });

  it('a provider without streaming speaks sentence by sentence, first sentence first, billed per sentence synthesised', async () => {
    // The first sentence takes longer than the second: the audio still comes out in order.
    const clock = new FakeClock();
    const slow = fakeTts([{ ok: true, afterMs: 300 }, { ok: true, afterMs: 50 }, { ok: true, afterMs: 50 }], { clock, modelId: 'ko-KR-Wavenet-A' });
    const sink = new ArraySink();
    const client = createAiClient({ policy: { capabilities: { tts: { chain: ['s'] } } }, providers: { s: slow }, clock, sinks: [sink] });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, { voice: 'ko-KR-Wavenet-A' });
    const order: number[] = [];
    const reading = (async () => {
      for await (const _ of stream) order.push(slow.calls.length);
    })();
    text.push('안녕하세요. 저는 ');
    text.push('민수예요! 만나서');
    await clock.advance(0);
    // Two sentences are complete: both were sent at once, the third is still being written.
    expect(slow.calls).toHaveLength(2);
    await clock.advance(300);
    expect(order).toHaveLength(2);
    text.push(' 반가워요');
    text.end();
    await clock.advance(50);
    const r = await stream.result;
    await reading;
    expect(slow.calls).toHaveLength(3);
    expect(order).toHaveLength(3);
    // '안녕하세요.' (6) + '저는 민수예요!' (8) + '만나서 반가워요' (8): the spaces between sentences are not sent.
    expect(r.characters).toBe(22);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ success: true, characters: 22, estimatedCostUsd: 0.000088 });
  });

  it('refuses text past maxTextBytes and bad fields, naming them', async () => {
    const a = fakeTtsStream([{}]);
    const { clock, sink, client } = setup({ a }, { maxTextBytes: 10 });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {});
    drain(stream);
    text.push('가나다');
    await clock.advance(0);
    text.push('라마');
    const e = (await stream.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('invalid_request');
    expect(e.message).toMatch(/text: more than the policy's maxTextBytes \(10 UTF-8 bytes\)/);
    expect(sink.records).toHaveLength(1);
    const bad = (await client.tts.synthesizeStream('   ', { audioEncoding: 'MP3' as never, speakingRate: 9 }).result.catch((x: unknown) => x)) as AiError;
    expect(bad.message).toMatch(/text: must not be empty/);
    expect(bad.message).toMatch(/audioEncoding: must be one of LINEAR16, OGG_OPUS/);
    expect(bad.message).toMatch(/speakingRate: must be a number from 0.25 to 4/);
  });

  it('reserves a whole text for its characters and text in pieces for maxTextBytes, then settles to what was billed', async () => {
    const store = new MemoryBudgetStore();
    const { clock, client } = setup({ a: fakeTtsStream([{}]) }, { maxTextBytes: 1_000 }, { budget: { perSessionUsd: 1 }, budgetStore: store });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {}, { sessionId: 's' });
    drain(stream);
    await clock.advance(0);
    expect((await store.usage('session:s')).reservedMicro).toBe(30_000); // 1000 characters at $30 per 1M: $0.03
    text.push('네.');
    text.end();
    await stream.result;
    await client.close();
    expect(await store.usage('session:s')).toEqual({ spentMicro: 60, reservedMicro: 0 });
  });

  it('the deadline runs from the latest text: slow pieces keep the call alive, a stall after the text ended times out', async () => {
    const a = fakeTtsStream([{}]);
    const { clock, client } = setup({ a }, { deadlineMs: 1_000, attemptTimeoutMs: 500 });
    const text = new EventChannel<string>();
    const stream = client.tts.synthesizeStream(text, {});
    drain(stream);
    for (let i = 0; i < 5; i++) {
      text.push(`문장 ${i}. `);
      await clock.advance(800); // 4 s in all: four times deadlineMs, but never 1 s without text
    }
    text.end();
    expect((await stream.result).characters).toBe(30);

    const stalled = fakeTtsStream([{ stall: true }]);
    const s2 = setup({ stalled }, { deadlineMs: 1_000, attemptTimeoutMs: 500, firstAudioTimeoutMs: 100_000 });
    const stream2 = s2.client.tts.synthesizeStream('안녕하세요.', {});
    drain(stream2);
    let settled = false;
    stream2.result.catch(() => (settled = true));
    await s2.clock.advance(999);
    expect(settled).toBe(false);
    await s2.clock.advance(1);
    const e = (await stream2.result.catch((x: unknown) => x)) as AiError;
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/call deadline of 1000 ms/);
  });

  it('the provider sees the deadline move: ctx.deadlineAt read as text arrives over three times deadlineMs always leaves deadlineMs', async () => {
    for (const make of [deadlineReadingStream, deadlineReadingOneShot]) {
      const clock = new FakeClock();
      const left: number[] = [];
      const client = createAiClient({
        policy: { capabilities: { tts: { chain: ['p'], retry: { maxAttempts: 1 }, deadlineMs: 300, attemptTimeoutMs: 300 } } },
        providers: { p: make(clock, left) },
        clock,
        random: () => 0,
      });
      const text = new EventChannel<string>();
      const stream = client.tts.synthesizeStream(text, {});
      const { chunks, done } = drain(stream);
      for (let i = 0; i < 6; i++) {
        await clock.advance(150); // 900 ms in all, never 300 ms without text
        text.push(`문장 ${i}. `);
        await clock.advance(0);
      }
      text.end();
      const r = await stream.result;
      expect(await done).toBeUndefined();
      expect(chunks).toHaveLength(6);
      // Each piece (each sentence) found the whole deadlineMs ahead of it, the sixth at 900 ms too.
      expect(left).toEqual(Array(12).fill(300));
      expect(r.meta.attempts.map((a) => a.outcome)).toEqual(['success']);
      await client.close();
    }
  });
});
