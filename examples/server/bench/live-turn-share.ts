// The SDK's own share of a live turn's end of speech -> first reply audio: the same pipeline the
// live route runs (transcribeStream -> evaluate -> synthesizeStream) on a client whose providers
// are wrapped to timestamp when the core hands work to an adapter and when the adapter hands it
// back. The share is the critical path's time outside the adapters (and so outside the emulators
// and the Google / OpenAI client libraries): the core's validation, reservation, policy, event
// channel and usage rows.

import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { createAiClient, type AiPolicy, type Provider } from '@korean-together/core';
import { ArraySink } from '@korean-together/core/testing';
import { synthesizeMicrophonePcm } from '@korean-together/providers/emulators';
import { buildProviders, type EmulatorEndpoints } from '../src/providers.js';
import { FrameQueue } from '../src/frame-queue.js';
import { SAID } from './live-turn-latencies.js';

interface Marks {
  sttAudioDone?: number;
  sttAdapterDone?: number;
  evalIn?: number;
  evalOut?: number;
  ttsIn?: number;
  ttsFirstOut?: number;
}

const marks = new AsyncLocalStorage<Marks>();
const now = () => performance.now();

function timedIterable<T>(source: AsyncIterable<T>, onItem: (i: number) => void, onDone: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      let i = 0;
      return {
        async next() {
          const r = await it.next();
          if (r.done) onDone();
          else onItem(i++);
          return r;
        },
        return: it.return ? (v?: unknown) => it.return!(v as never) : undefined,
      } as AsyncIterator<T>;
    },
  };
}

/** The provider with its streaming and evaluate methods timestamped into the turn's marks. */
function timed(p: Provider): Provider {
  return new Proxy(p, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'transcribeStream') {
        return (audio: AsyncIterable<Uint8Array>, ...rest: unknown[]) => {
          const m = marks.getStore();
          const stream = fn.call(target, timedIterable(audio, () => undefined, () => m && (m.sttAudioDone = now())), ...rest) as AsyncIterable<unknown> & { usage: Promise<unknown> };
          const out = timedIterable(stream, () => undefined, () => m && (m.sttAdapterDone = now()));
          return Object.assign(out, { usage: stream.usage.then((u) => (m && (m.sttAdapterDone = Math.max(m.sttAdapterDone ?? 0, now())), u)) });
        };
      }
      if (prop === 'evaluate') {
        return async (...args: unknown[]) => {
          const m = marks.getStore();
          if (m) m.evalIn = now();
          try {
            return await fn.apply(target, args);
          } finally {
            if (m) m.evalOut = now();
          }
        };
      }
      if (prop === 'synthesizeStream' || prop === 'synthesize') {
        return (...args: unknown[]) => {
          const m = marks.getStore();
          if (m && m.ttsIn === undefined) m.ttsIn = now();
          const r = fn.apply(target, args);
          if (prop === 'synthesize') return r;
          const stream = r as AsyncIterable<Uint8Array> & { usage: Promise<unknown> };
          return Object.assign(timedIterable(stream, (i) => m && i === 0 && m.ttsFirstOut === undefined && (m.ttsFirstOut = now()), () => undefined), { usage: stream.usage });
        };
      }
      return fn.bind(target);
    },
  });
}

export interface ShareSample {
  /** End of speech -> first reply audio as the caller sees it, ms. */
  totalMs: number;
  /** The part of it outside the adapters, ms. */
  sdkMs: number;
  /** That part piece by piece (PIECES). */
  pieces: number[];
}

export const PIECES = ['audio end -> adapter', 'adapter done -> STT result', 'evaluate() -> adapter', 'adapter grade -> result', 'synthesizeStream() -> adapter', 'adapter first chunk -> caller'];

/** Runs `turns` live turns (`concurrency` at a time) straight on the client and returns each one's share. */
export async function measureSdkShare(endpoints: EmulatorEndpoints, policy: AiPolicy, turns: number, concurrency = 1): Promise<ShareSample[]> {
  const set = buildProviders({ kind: 'emulators', endpoints });
  const providers = Object.fromEntries(Object.entries(set.providers).map(([k, p]) => [k, timed(p)]));
  const client = createAiClient({ policy, providers, sinks: [new ArraySink()] });
  const pcm = synthesizeMicrophonePcm(SAID, { sampleRateHertz: 16_000 });
  const samples: ShareSample[] = [];
  const one = async (): Promise<void> => {
    const m: Marks = {};
    await marks.run(m, async () => {
      const audio = new FrameQueue();
      const stream = client.stt.transcribeStream(audio, { encoding: 'LINEAR16', sampleRateHertz: 16_000, maxAudioMs: 30_000, interimResults: true }, {});
      const events = (async () => {
        for await (const _ of stream);
      })();
      // Frames a few ms apart (faster than real time, but each is through before the next, as
      // when a learner speaks); the last frame and the end come together, as the page sends them.
      const last = pcm.length - 3200;
      for (let at = 0; at < last; at += 3200) {
        audio.push(pcm.subarray(at, at + 3200));
        await new Promise((r) => setTimeout(r, 5));
      }
      audio.push(pcm.subarray(last));
      const endAt = now();
      audio.end();
      await events;
      const heard = await stream.result;
      const sttOut = now();
      const evaluation = await client.eval.evaluate({ prompt: '자기소개를 해 보세요', learnerAnswer: heard.transcript, expectedAnswer: SAID });
      const evalDone = now();
      const tts = client.tts.synthesizeStream(evaluation.passFail ? '잘했어요!' : '다시 해 볼까요?', { voice: 'ko-KR-Chirp3-HD-Aoede', audioEncoding: 'LINEAR16' });
      let first: number | undefined;
      for await (const _ of tts) first ??= now();
      await tts.result;
      // Each piece: from the core receiving work (or the adapter finishing) to the next hand-over.
      const pieces = [
        m.sttAudioDone! - endAt, // end of the caller's audio -> the adapter's audio ends
        sttOut - m.sttAdapterDone!, // the adapter's stream (and its usage) ended -> the caller has the result
        m.evalIn! - sttOut, // evaluate() -> the adapter's evaluate
        evalDone - m.evalOut!, // the adapter's grade -> the caller's
        m.ttsIn! - evalDone, // synthesizeStream() -> the adapter's
        first! - m.ttsFirstOut!, // the adapter's first chunk -> the caller's
      ];
      const sdk = pieces.reduce((sum, p) => sum + Math.max(0, p), 0);
      samples.push({ totalMs: first! - endAt, sdkMs: sdk, pieces });
    });
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < turns) {
        next++;
        await one();
      }
    }),
  );
  await client.close();
  await set.close();
  return samples;
}

/**
 * Run as a child process (the emulators stay in the parent, so their work never runs on the
 * event loop being measured): reads the endpoints from LIVE_SHARE_ENDPOINTS, prints the samples.
 */
if (process.env.LIVE_SHARE_ENDPOINTS) {
  const { emulatorEndpoints } = await import('../src/providers.js');
  const { tutoringPolicy } = await import('../src/tutoring-policy.js');
  const ports = JSON.parse(process.env.LIVE_SHARE_ENDPOINTS) as Parameters<typeof emulatorEndpoints>[0];
  const turns = Number(process.env.LIVE_SHARE_TURNS ?? 200);
  // Warm-up turns first (JIT, connections), not counted.
  await measureSdkShare(emulatorEndpoints(ports), tutoringPolicy(), 20);
  const samples = await measureSdkShare(emulatorEndpoints(ports), tutoringPolicy(), turns);
  process.stdout.write(`${JSON.stringify(samples)}\n`);
  process.exit(0);
}
