// `client.tts.synthesizeStream`: audio while the text is still arriving, under the policy.
// Streaming providers get the text pieces as they come; the others synthesise sentence by
// sentence. The next chain step takes over only until the first audio chunk was yielded.
import { ttsWorstCase } from '../capabilities/tts.js';
import { budgetRefusal, callError, interruptedCode } from '../engine/call-error.js';
import type { CallContext, CapabilityPlan, ChainLink } from '../engine/runtime.js';
import { AiError, isAiError } from '../errors/ai-error.js';
import { microToUsd } from '../pricing/cost.js';
import type { TtsProviderStream, TtsStream, TtsStreamingCapable, TtsStreamRequest } from '../spec/streaming.js';
import type { CallOptions, TtsProvider, TtsRequest, TtsResult } from '../spec/types.js';
import { EventChannel } from './event-channel.js';
import { pumpProviderStream } from './provider-pump.js';
import { ReplaySource, Stopper } from './replay-source.js';
import { sentenceStream } from './sentence-synthesis.js';
import type { AttemptTools, BodyOutcome, StreamBody } from './stream-attempt.js';
import { StreamCall } from './stream-call.js';
import { TtsStreamInterruptedError } from './stream-errors.js';
import { walkStream } from './stream-walk.js';
import { TextMeter, TTS_STREAM_OPERATION, validateTtsStreamRequest } from './tts-stream-request.js';
import { usageWithin } from './usage-wait.js';

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** Starts a synthesis stream; `refused` is the client's refusal (closed, no chain, bad options), if any. */
export function synthesizeStream(ctx: CallContext, plan: CapabilityPlan, text: string | AsyncIterable<string>, req: TtsStreamRequest, opts: CallOptions, refused?: AiError): TtsStream {
  const channel = new EventChannel<Uint8Array>();
  const result = refused ? Promise.reject(refused) : run(ctx, plan, text, req, opts, channel);
  result.then(() => channel.end(), (e) => channel.fail(e));
  result.catch(() => {});
  return { [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](), result };
}

async function run(ctx: CallContext, plan: CapabilityPlan, text: unknown, rawReq: unknown, opts: CallOptions, channel: EventChannel<Uint8Array>): Promise<TtsResult> {
  const { maxTextBytes } = ctx.policy.capabilities.tts;
  const req = validateTtsStreamRequest(text, rawReq, maxTextBytes);
  // A whole text reserves its own characters; text still arriving the most the policy lets in.
  const worstCase = typeof text === 'string' ? ttsWorstCase({ text } as TtsRequest) : { characters: maxTextBytes, requests: 1 };
  const sc = new StreamCall(ctx, plan, req, opts, { operation: TTS_STREAM_OPERATION, worstCase, inputBoundMs: undefined });
  const { call } = sc;
  const meter = new TextMeter(maxTextBytes);
  const source = new ReplaySource<string>(typeof text === 'string' ? once(text) : (text as AsyncIterable<string>), {
    onItem: (piece, i) => {
      meter.add(piece, i);
      sc.touched();
    },
    onEnd: () => {
      if (meter.blank) sc.refuse(new AiError('invalid_request', `${TTS_STREAM_OPERATION}: invalid request: text: must not be empty`, { retryable: false, attempts: call.attempts }));
      sc.inputEnd();
    },
    onFail: (e) =>
      sc.refuse(
        isAiError(e) ? new AiError(e.code, e.message, { retryable: false, attempts: call.attempts }) : new AiError('cancelled', `${TTS_STREAM_OPERATION}: the caller's text failed (${(e as Error)?.name ?? typeof e})`, { retryable: false, attempts: call.attempts }),
      ),
  });
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const deliver = (chunk: Uint8Array): void => {
    call.trace?.firstOutput('audio');
    sc.committed = true;
    chunks.push(chunk);
    bytes += chunk.byteLength;
    channel.push(chunk);
  };
  let done: TtsResult | undefined;
  let failure: unknown;
  try {
    await sc.reserve();
    const walked = await walkStream(sc, (link) => body(sc, link, source, req, deliver));
    if (walked.ok) {
      const { link, out } = walked;
      done = {
        audio: Buffer.concat(chunks),
        encoding: req.audioEncoding ?? 'LINEAR16',
        characters: out.units.characters ?? 0,
        meta: {
          callId: call.callId,
          provider: link.provider.name,
          providerKey: link.key,
          modelId: out.modelId ?? (link.modelPerRequest ? plan.descriptor.modelIdFor(link.provider, req) : link.provider.modelId),
          attempts: call.attempts,
          latencyMs: ctx.clock.now() - call.startedAt,
          costUsd: microToUsd(call.totalMicro),
        },
      };
      return done;
    }
    if (sc.fatal) throw sc.fatal;
    const refusal = budgetRefusal(call);
    if (refusal) throw refusal;
    const last = walked.errors[walked.errors.length - 1];
    if (chunks.length > 0) {
      const code = interruptedCode(call.cause, last);
      throw new TtsStreamInterruptedError(code, `${TTS_STREAM_OPERATION}: the stream failed after ${chunks.length} audio chunk(s) (${bytes} bytes) were yielded; not restarted`, chunks.length, bytes, call.attempts, last);
    }
    throw callError('tts', TTS_STREAM_OPERATION, walked.errors, call.attempts, call.cause, call.deadlineMs);
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    sc.finish(done, failure);
    source.close();
  }
}

/** One attempt: the text from its first piece to a streaming provider, or sentence by sentence to any other. */
function body(sc: StreamCall, link: ChainLink, source: ReplaySource<string>, req: TtsStreamRequest, deliver: (chunk: Uint8Array) => void): StreamBody {
  const firstMs = sc.call.ctx.policy.capabilities.tts.firstAudioTimeoutMs;
  return async (tools: AttemptTools): Promise<BodyOutcome> => {
    const stopper = new Stopper();
    tools.scope.signal.addEventListener('abort', () => stopper.stop(), { once: true });
    let readChars = 0;
    const reader = source.reader(stopper, (piece) => {
      for (const _ of piece) readChars++;
      tools.armFirst(firstMs, `no audio within firstAudioTimeoutMs (${firstMs} ms) of the first text read`);
    });
    const provider = link.provider as TtsProvider & Partial<TtsStreamingCapable>;
    let error: unknown;
    let stream: TtsProviderStream | undefined;
    try {
      stream = typeof provider.synthesizeStream === 'function' ? provider.synthesizeStream(reader, req, tools.context()) : sentenceStream(provider, reader, req, tools.context());
      error = await pumpProviderStream(stream, (p) => tools.scope.race(p), (chunk) => {
        if (chunk.byteLength === 0) return;
        tools.clearFirst();
        deliver(chunk);
      });
    } catch (e) {
      error = e;
    }
    stopper.stop();
    const billed = await usageWithin(stream?.usage, sc.clock);
    // No word from the provider on what it billed: bill the text it read.
    const characters = billed?.characters ?? readChars;
    const out: BodyOutcome = { units: characters > 0 ? { characters, requests: billed?.requests ?? 1 } : {}, error };
    if (billed?.modelId !== undefined) out.modelId = billed.modelId;
    return out;
  };
}
